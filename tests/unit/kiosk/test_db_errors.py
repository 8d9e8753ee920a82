"""Bad database input gives one plain sentence, never a traceback."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.db import open_database
from kiosk.errors import DatabaseError


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://user@host/db", "is not supported"),
        (
            "postgresql://postgres@127.0.0.1:1/test",
            "Cannot reach the database server at 127.0.0.1:1",
        ),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(DatabaseError, match=message):
        open_database(url)


def test_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "event.sqlite3"
    path.write_bytes(b"this is a spreadsheet, not a database" * 200)
    with pytest.raises(DatabaseError, match="is not a kiosk database"):
        open_database(f"sqlite:///{path}")


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder the process cannot write: permissions for a user, a read-only mount for root."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("running as root without permission to mount a read-only folder")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_read_only_data_folder(read_only_dir: Path) -> None:
    with pytest.raises(DatabaseError, match="read-only"):
        open_database(f"sqlite:///{read_only_dir / 'event.sqlite3'}")
