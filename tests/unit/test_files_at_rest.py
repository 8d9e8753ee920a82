"""Files at rest are only their owner's (issue #29): on Linux/macOS the event database and
its -wal/-shm, backups, the spool of printed slips and the app's data folder are 0600 files
in 0700 folders, made through the ``kiosk`` command or the printing flow as the app makes
them; an older, looser file is tightened when it is opened, and the command says so.

The umask is set to the usual 022 for each test, so what is private is so because kiosk made
it so, not because the test runner's umask happened to be strict.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from kiosk.clock import FixedClock
from kiosk.db import open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.files import write_atomic
from kiosk.models import Customer
from kiosk.services import keys, reception
from kiosk.services.auth import staff_session
from kiosk.services.slips import CartLine, issue_slips
from printing.flow import print_slip
from printing.printer import Printer
from tests.gate_support import make_ready
from tests.unit.cli.test_cli import run

pytestmark = pytest.mark.skipif(os.name == "nt", reason="Windows: the profile protects files")

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _usual_umask() -> Iterator[None]:
    before = os.umask(0o022)
    yield
    os.umask(before)


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The per-user data folder (platformdirs) inside the test's folder: tmp/xdg/kiosk."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "kiosk"


def test_kiosk_demo_makes_a_private_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "event-data"
    path = folder / "event.sqlite3"
    monkeypatch.setenv("KIOSK_DB", f"sqlite:///{path}")
    code, out, err = run(capsys, "--lang", "en", "demo", "--no-gui", "--yes", "--invitees", "20")
    assert (code, err) == (0, "")
    assert "20 invitees" in out
    assert mode(folder) == 0o700
    assert mode(path) == 0o600
    # With a station connected, SQLite's WAL and shared-memory files are there: private too.
    database = open_database(f"sqlite:///{path}")
    try:
        with database.engine.begin() as connection:
            connection.execute(text("UPDATE event SET name = name"))
        wal, shm = (path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))
        assert wal.exists() and shm.exists()
        assert (mode(wal), mode(shm)) == (0o600, 0o600)
    finally:
        database.dispose()
    assert sorted(p.name for p in folder.iterdir()) == ["event.sqlite3"]


def test_a_loose_database_in_the_data_folder_is_tightened_with_a_note(
    capsys: pytest.CaptureFixture[str], data_home: Path, demo_template: Path
) -> None:
    """As an older kiosk left it: 0755 data folder, 0644 database and WAL."""
    data_home.mkdir(parents=True, mode=0o755)
    os.chmod(data_home, 0o755)
    path = data_home / "event.sqlite3"
    shutil.copyfile(demo_template, path)
    wal = path.with_name(path.name + "-wal")
    wal.write_bytes(b"")
    for loose in (path, wal):
        os.chmod(loose, 0o644)
    code, out, err = run(capsys, "--lang", "en", "info")
    assert code == 0 and "Merchants" in out
    said = err.splitlines()
    assert said == [
        f"kiosk: The permissions of {where} were tightened so that only this account can "
        "read and write it."
        for where in (data_home, path, wal)
    ]
    assert (mode(data_home), mode(path)) == (0o700, 0o600)
    assert not wal.exists()  # tightened before SQLite opened it, then removed at its close
    # Said once: the next command finds nothing to tighten.
    code, _out, err = run(capsys, "--lang", "en", "info")
    assert (code, err) == (0, "")


def test_in_chinese_the_note_says_only_this_account(
    capsys: pytest.CaptureFixture[str], data_home: Path, demo_template: Path
) -> None:
    data_home.mkdir(parents=True, mode=0o700)
    path = data_home / "event.sqlite3"
    shutil.copyfile(demo_template, path)
    os.chmod(path, 0o640)
    code, _out, err = run(capsys, "--lang", "zh_CN", "info")
    assert code == 0
    assert str(path) in err and "仅本人可读写" in err


def test_a_folder_named_with_db_is_not_tightened_but_its_files_are(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, data_home: Path, demo_template: Path
) -> None:
    """A folder the user chose may hold other things (a home folder): left as it is."""
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    path = shared / "event.sqlite3"
    shutil.copyfile(demo_template, path)
    os.chmod(path, 0o644)
    code, _out, err = run(capsys, "--lang", "en", "--db", f"sqlite:///{path}", "info")
    assert code == 0 and str(path) in err and f"{shared} were" not in err
    assert (mode(shared), mode(path)) == (0o755, 0o600)


def test_a_backup_is_private(
    capsys: pytest.CaptureFixture[str], sqlite_demo_url: str, tmp_path: Path
) -> None:
    """SQLite only: the backup is a copy of the event's file (a PostgreSQL dump is written
    by pg_dump into the same 0600 file, ``kiosk.files.atomic_path``)."""
    folder = tmp_path / "usb" / "kiosk-backups"
    base = ["--lang", "en", "--db", sqlite_demo_url]
    code, _out, err = run(capsys, *base, "backup", "--to", str(folder))
    # Without the passphrase no checkpoint is signed (#26), and it says so; nothing else.
    assert (code, err) == (
        0,
        "kiosk: warning: no checkpoint of the audit chain was signed: it needs the event "
        "passphrase (KIOSK_PASSPHRASE or typed on a terminal).\n",
    )
    (taken,) = folder.iterdir()
    assert taken.suffix == ".sqlite3" and taken.stat().st_size > 100_000
    assert (mode(folder), mode(taken)) == (0o700, 0o600)
    assert mode(folder.parent) == 0o755  # the stick itself: an ordinary folder
    # A backup folder an older kiosk made 0755: tightened, and said.
    os.chmod(folder, 0o755)
    code, _out, err = run(capsys, *base, "backup", "--to", str(folder))
    assert code == 0 and f"The permissions of {folder} were tightened" in err
    assert mode(folder) == 0o700
    assert all(mode(p) == 0o600 for p in folder.iterdir())


def test_a_restored_database_is_private(
    capsys: pytest.CaptureFixture[str], sqlite_demo_url: str, tmp_path: Path
) -> None:
    base = ["--lang", "en", "--db", sqlite_demo_url]
    assert run(capsys, *base, "backup", "--to", str(tmp_path / "b"))[0] == 0
    (taken,) = (tmp_path / "b").iterdir()
    target = tmp_path / "restored" / "event.sqlite3"
    code, out, err = run(
        capsys, "--lang", "en", "restore", str(taken), "--db", f"sqlite:///{target}"
    )
    assert (code, err) == (0, "")
    assert "Restored" in out
    assert (mode(target.parent), mode(target)) == (0o700, 0o600)


def test_a_printed_slip_is_private(sqlite_demo_url: str, tmp_path: Path) -> None:
    """The activation station's path: issue, then print the first copy to the spool."""
    database = open_database(sqlite_demo_url)
    try:
        clock = FixedClock(MORNING)
        with database.unit_of_work() as uow:
            customer_id = uow.session.scalars(
                select(Customer.id).where(Customer.points_balance >= 4000).order_by(Customer.id)
            ).first()
        assert customer_id is not None
        make_ready(database, customer_id)
        front = staff_session(database.unit_of_work(), "R001", clock=clock)
        reception.check_in(database.unit_of_work(), customer_id, front, clock=clock)
        key = keys.unlock(database.unit_of_work(), DEMO_PASSPHRASE)
        activation = staff_session(database.unit_of_work(), "A001", clock=clock)
        (slip,) = issue_slips(
            database.unit_of_work(), customer_id, [CartLine("O501")], activation, key, clock=clock
        )
        spool = tmp_path / "data" / "printouts"
        copy = print_slip(
            database.unit_of_work, slip.serial, activation, Printer(spool), clock=clock
        )
    finally:
        database.dispose()
    assert copy.error is None, copy.outcome.message
    pdf = copy.outcome.path
    assert pdf.parent == spool and pdf.read_bytes().startswith(b"%PDF")
    assert (mode(spool), mode(pdf)) == (0o700, 0o600)
    assert sorted(p.name for p in spool.iterdir()) == [pdf.name]  # no temporary file left


def test_a_file_saved_elsewhere_stays_ordinary(tmp_path: Path) -> None:
    """The rule is the folder's: a report saved to an ordinary folder is an ordinary file;
    the same write into a private folder is private."""
    ordinary = tmp_path / "desktop"
    ordinary.mkdir(mode=0o755)
    os.chmod(ordinary, 0o755)
    assert mode(write_atomic(ordinary / "report.pdf", b"%PDF-1.4")) == 0o644
    private = tmp_path / "spool"
    private.mkdir(mode=0o700)
    assert mode(write_atomic(private / "slip.pdf", b"%PDF-1.4")) == 0o600
    assert mode(write_atomic(ordinary / "backup.sqlite3", b"x", private=True)) == 0o600


def test_a_file_where_a_private_folder_should_be_is_refused_and_left_alone(
    tmp_path: Path,
) -> None:
    """A backup folder typed as the name of a file: said as such, and the file is not turned
    into mode 0700 (executable) by the tightening."""
    from kiosk.files import private_folder

    stray = tmp_path / "not-a-folder"
    stray.write_text("notes")
    stray.chmod(0o644)
    with pytest.raises(NotADirectoryError):
        private_folder(stray)
    assert stat.S_IMODE(stray.stat().st_mode) == 0o644
