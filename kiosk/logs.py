"""The kiosk's loggers: ``logging.getLogger(name)`` under the package's NullHandler, set once.

A library's records go nowhere unless its application configures logging; without a handler
on ``kiosk``, Python's last-resort handler would print the warnings of ``kiosk.files`` and
``kiosk.credentials`` on stderr. The handler used to be set in ``kiosk/__init__.py``, which
made every import of the package import ``logging`` (9 ms of ``kiosk --help``, issue #23,
which logs nothing); it is set here, by the modules that log.
"""

from __future__ import annotations

import logging

logging.getLogger("kiosk").addHandler(logging.NullHandler())


def get_logger(name: str) -> logging.Logger:
    """The logger of module ``name`` (a ``kiosk.…`` name), under the package's NullHandler."""
    return logging.getLogger(name)
