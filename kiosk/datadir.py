"""Where the event database is by default: ``KIOSK_DB``, else a file in the per-user data folder.

Apart from ``kiosk.db`` because ``kiosk --help`` prints the default URL and must not import
SQLAlchemy to do so (issue #23: the help starts as fast as argparse alone); ``kiosk.db``
re-exports these names, so callers keep importing them from there.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_DB = "KIOSK_DB"
APP_NAME = "kiosk"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_url() -> str:
    """``KIOSK_DB`` if set, else an SQLite file in the per-user data directory."""
    env = os.environ.get(ENV_DB, "").strip()
    if env:
        return env
    return f"sqlite:///{default_data_dir() / 'event.sqlite3'}"
