"""Where the event database is by default: ``KIOSK_DB``, else a file in the per-user data folder.

Apart from ``kiosk.db`` because ``kiosk --help`` prints the default URL and must not import
SQLAlchemy to do so (issue #23: the help starts as fast as argparse alone); ``kiosk.db``
re-exports these names, so callers keep importing them from there.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV_DB = "KIOSK_DB"
APP_NAME = "kiosk"


def default_data_dir() -> Path:
    """The per-user data folder, as ``platformdirs.user_data_dir`` gives it.

    On Linux with an absolute ``$HOME`` that is the XDG rule (``$XDG_DATA_HOME/kiosk`` when
    that variable is an absolute path, else ``~/.local/share/kiosk``), read here without
    importing platformdirs: its Unix module imports ``tempfile`` and ``shutil`` (and through
    them ``random``, ``bz2``, ``lzma``), a third of ``kiosk --help``'s whole start-up (issue
    #23). Every other case (Windows, macOS, an unset or relative ``$HOME``) asks platformdirs;
    tests/unit/test_datadir.py holds the two answers equal for every case answered here."""
    if sys.platform == "linux":
        xdg = os.environ.get("XDG_DATA_HOME", "")
        if os.path.isabs(xdg):
            return Path(xdg, APP_NAME)
        home = os.environ.get("HOME", "")
        if os.path.isabs(home):
            return Path(home, ".local", "share", APP_NAME)
    import platformdirs  # here, not at the top: the cases above start faster without it

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_url() -> str:
    """``KIOSK_DB`` if set, else an SQLite file in the per-user data directory."""
    env = os.environ.get(ENV_DB, "").strip()
    if env:
        return env
    return f"sqlite:///{default_data_dir() / 'event.sqlite3'}"
