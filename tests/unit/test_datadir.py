"""The default data folder read without platformdirs is the folder platformdirs gives.

``kiosk.datadir`` answers the common Linux cases itself so that ``kiosk --help`` does not
import platformdirs (issue #23); if the two ever disagreed, a station would open a different
database than the one the help names and the one an upgraded install used before. Each case
is compared with platformdirs' own answer in the same environment, so a platformdirs release
that changes its rule fails here instead of moving an event's database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from kiosk import datadir

ROOT = Path(__file__).resolve().parents[2]

CASES = {
    "XDG_DATA_HOME absolute": {"XDG_DATA_HOME": "/srv/data", "HOME": "/home/staff"},
    "XDG_DATA_HOME with a trailing slash": {"XDG_DATA_HOME": "/srv/data/", "HOME": "/home/a"},
    "XDG_DATA_HOME relative (ignored)": {"XDG_DATA_HOME": "data", "HOME": "/home/staff"},
    "XDG_DATA_HOME empty": {"XDG_DATA_HOME": "", "HOME": "/home/staff"},
    "XDG_DATA_HOME unset": {"XDG_DATA_HOME": None, "HOME": "/home/staff"},
    "HOME with a trailing slash": {"XDG_DATA_HOME": None, "HOME": "/home/staff/"},
    "HOME is the root": {"XDG_DATA_HOME": None, "HOME": "/"},
    "HOME relative (platformdirs decides)": {"XDG_DATA_HOME": None, "HOME": "staff"},
    "HOME unset (platformdirs decides)": {"XDG_DATA_HOME": None, "HOME": None},
}


@pytest.mark.parametrize("environment", CASES.values(), ids=CASES.keys())
def test_the_folder_is_platformdirs_folder(
    environment: dict[str, str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environment.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    expected = Path(platformdirs.user_data_dir(datadir.APP_NAME, appauthor=False))
    assert datadir.default_data_dir() == expected
    monkeypatch.delenv(datadir.ENV_DB, raising=False)
    assert datadir.default_url() == f"sqlite:///{expected / 'event.sqlite3'}"


def test_kiosk_db_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(datadir.ENV_DB, "  postgresql+psycopg://venue/kiosk  ")
    assert datadir.default_url() == "postgresql+psycopg://venue/kiosk"


@pytest.mark.skipif(sys.platform != "linux", reason="the folder is read without it on Linux only")
def test_the_default_url_does_not_import_platformdirs() -> None:
    """In a fresh process: the point of reading the folder here is not importing it."""
    code = (
        "import json, sys; from kiosk import datadir; url = datadir.default_url(); "
        "print(json.dumps([url, 'platformdirs' in sys.modules, 'tempfile' in sys.modules]))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": "/home/staff", "XDG_DATA_HOME": ""}
    env.pop(datadir.ENV_DB, None)
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    url, platformdirs_loaded, tempfile_loaded = json.loads(result.stdout)
    assert url == "sqlite:////home/staff/.local/share/kiosk/event.sqlite3"
    assert (platformdirs_loaded, tempfile_loaded) == (False, False)
