"""The cause of a failed write in words, atomic files, request ids and station heartbeats (#31).

The filesystem cases use real errors: a read-only tmpfs, a full one, a folder without write
permission for a non-root user; the database cases real SQLite and PostgreSQL errors."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import exc, func, select

from kiosk import audit, idempotency, storage
from kiosk.changes import read_counter
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.errors import KioskError
from kiosk.files import atomic_file, atomic_path, leftovers, write_atomic
from kiosk.models import ActionRequest, AuditRecord, StationStatus, Visit
from kiosk.permissions import PermissionDenied
from kiosk.services import reception, stations
from kiosk.services.auth import staff_session
from kiosk.storage import Cause, Place, SpaceReport
from kiosk.uow import translate
from tests.disk_support import SmallDisk, mount_tmpfs, unmount

NOON = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)


@pytest.fixture
def full_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    disk = mount_tmpfs(tmp_path / "full", "64k")
    disk.fill(0)
    yield disk
    unmount(disk)


# -- causes -----------------------------------------------------------------------------------


def _sqlite_error(code: int, name: str) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(name)
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    error.sqlite_errorname = name  # type: ignore[attr-defined]
    return error


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), Cause.DISK_FULL),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), Cause.DISK_FULL),
        (OSError(errno.EROFS, "Read-only file system"), Cause.READ_ONLY),
        (PermissionError(errno.EACCES, "Permission denied"), Cause.NO_PERMISSION),
        (OSError(errno.EIO, "Input/output error"), Cause.DISK_IO),
        (_sqlite_error(13, "SQLITE_FULL"), Cause.DISK_FULL),
        (_sqlite_error(8 | (1 << 8), "SQLITE_READONLY_RECOVERY"), Cause.READ_ONLY),
        (_sqlite_error(10 | (19 << 8), "SQLITE_IOERR_SHMSIZE"), Cause.DISK_IO),
        (OSError("pg_dump: error: could not write: No space left on device"), Cause.DISK_FULL),
        (ValueError("a bug"), None),
    ],
)
def test_causes_are_told_apart(error: BaseException, cause: Cause | None) -> None:
    assert storage.cause_of(error) == cause
    wrapped = exc.OperationalError("COMMIT", {}, error)  # as SQLAlchemy raises it
    assert storage.cause_of(wrapped) == cause


def test_an_io_error_on_a_full_disk_is_a_full_disk(full_disk: SmallDisk) -> None:
    """SQLite says "disk I/O error" when it cannot extend its shared-memory file."""
    shm = _sqlite_error(10 | (19 << 8), "SQLITE_IOERR_SHMSIZE")
    assert storage.cause_of(shm, storage.place_of(full_disk.path / "event.sqlite3")) == (
        Cause.DISK_FULL
    )
    assert storage.cause_of(shm, storage.place_of(Path.cwd())) == Cause.DISK_IO


def test_real_filesystem_errors(full_disk: SmallDisk, tmp_path: Path) -> None:
    with pytest.raises(OSError) as full:
        write_atomic(full_disk.path / "ticket.pdf", b"%PDF" + b"x" * 100_000)
    assert storage.cause_of(full.value) == Cause.DISK_FULL
    assert full.value.filename == str(full_disk.path / "ticket.pdf")  # the name meant
    message = str(storage.file_error(full.value, full_disk.path / "ticket.pdf"))
    assert "disk is full" in message and str(full_disk.path) in message
    assert not (full_disk.path / "ticket.pdf").exists() and leftovers(full_disk.path) == []

    read_only = tmp_path / "ro"
    read_only.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(read_only)],
        capture_output=True,
        check=False,
    )
    assert mounted.returncode == 0
    try:
        with pytest.raises(OSError) as refused:
            write_atomic(read_only / "bundle.json", b"{}")
        assert storage.cause_of(refused.value) == Cause.READ_ONLY
        assert "read-only" in str(storage.file_error(refused.value, read_only / "bundle.json"))
    finally:
        subprocess.run(["umount", str(read_only)], check=False)


def test_places_name_the_disk_and_folder(full_disk: SmallDisk) -> None:
    assert storage.place_of(full_disk.path / "event.sqlite3").name == str(full_disk.path)
    inner = full_disk.path / "no" / "such" / "folder" / "x.pdf"
    assert storage.place_of(inner).name == str(full_disk.path)  # nearest existing folder
    home = storage.place_of(Path.cwd() / "event.sqlite3")
    assert home.name.startswith(str(Path.cwd())) and "on the disk" in home.name
    server = storage.database_place("postgresql://kiosk@192.168.1.10/kiosk_event")
    assert not server.local and "192.168.1.10" in server.name


def test_what_to_do_in_chinese(full_disk: SmallDisk) -> None:
    from kiosk.i18n import set_language

    set_language("zh_CN")
    text = storage.what_to_do(Cause.DISK_FULL, storage.place_of(full_disk.path))
    assert text == (
        f"磁盘已满（{full_disk.path}）：请清理该磁盘（删除或移走文件）后重试，已完成的操作不会丢失。"
    )


def test_uow_translates_by_cause() -> None:
    place = Place("/media/usb", True)
    full = exc.OperationalError("INSERT", {}, _sqlite_error(13, "SQLITE_FULL"))
    told = translate(full, place=place)
    assert isinstance(told, storage.StorageError) and told.cause == Cause.DISK_FULL
    assert str(told).startswith("Nothing was saved. The disk is full (/media/usb)")
    # A full disk at COMMIT: the write itself was refused, so nothing was saved either.
    assert str(translate(full, committing=True, place=place)).startswith("Nothing was saved.")
    # A lost connection at COMMIT without a request id to ask by: may or may not.
    lost = exc.OperationalError("COMMIT", {}, ConnectionResetError("reset"))
    assert "may or may not" in str(translate(lost, committing=True))
    # ... and with one that could not be asked: do it again, it acts once.
    unknown = translate(lost, committing=True, request_id="abcd1234")
    assert "will not be done twice" in str(unknown)
    assert "nothing was saved" in str(translate(lost, committing=True, saved=False))


def test_low_space_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = SpaceReport(150 * 1024 * 1024, storage.place_of(tmp_path))
    assert storage.low_space_warning(report, 200 * 1024 * 1024).startswith(
        "Little disk space left: 150 MB free on"
    )
    assert storage.low_space_warning(report, 100 * 1024 * 1024) == ""
    assert storage.low_space_warning(report, 0) == ""
    assert storage.low_space_threshold() == 200 * 1024 * 1024
    monkeypatch.setenv(storage.ENV_LOW_SPACE, "50")
    assert storage.low_space_threshold() == 50 * 1024 * 1024
    lowest = storage.lowest_space([tmp_path, Path("/")])
    assert lowest is not None and lowest.free > 0


# -- atomic files -----------------------------------------------------------------------------


def test_atomic_writes_keep_the_old_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "report.pdf"
    write_atomic(target, b"first")
    with pytest.raises(RuntimeError), atomic_file(target) as file:
        file.write(b"half of the second")
        raise RuntimeError("the renderer failed")
    assert target.read_bytes() == b"first" and leftovers(tmp_path) == []
    with atomic_path(target) as partial:
        assert partial.parent == tmp_path and partial.name.startswith(".report.pdf.")
        partial.write_bytes(b"second")
        assert target.read_bytes() == b"first"
    assert target.read_bytes() == b"second" and leftovers(tmp_path) == []


def test_a_durable_write_syncs_the_file_once_and_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(descriptor: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)
    target = tmp_path / "report.pdf"
    write_atomic(target, b"kept")
    assert target.read_bytes() == b"kept"
    assert len(synced) == 2
    assert Path(synced[0]).name.startswith(".report.pdf.")  # the data, before the rename
    assert Path(synced[1]) == tmp_path  # the rename
    synced.clear()
    # Not durable (a slip's PDF, made again from the database if lost): whole or absent,
    # without a single fsync.
    write_atomic(target, b"spooled", durable=False)
    assert target.read_bytes() == b"spooled" and leftovers(tmp_path) == []
    assert synced == []
    with pytest.raises(RuntimeError), atomic_file(target, durable=False) as file:
        file.write(b"half")
        raise RuntimeError("the renderer failed")
    assert target.read_bytes() == b"spooled" and leftovers(tmp_path) == []


# -- request ids ------------------------------------------------------------------------------


def test_request_ids(any_demo_db: Database) -> None:
    assert len({idempotency.new_request_id() for _ in range(1000)}) == 1000
    with pytest.raises(KioskError, match="is not a request id"):
        idempotency.checked("a b")
    clock = FixedClock(NOON)
    r001 = staff_session(any_demo_db.unit_of_work(), "R001", clock=clock)
    first = reception.resolve_code(any_demo_db.unit_of_work(), "6200000003")
    other = reception.resolve_code(any_demo_db.unit_of_work(), "6200000004")
    done = reception.check_in(
        any_demo_db.unit_of_work(), first, r001, clock=clock, request_id="req-0001"
    )
    again = reception.check_in(
        any_demo_db.unit_of_work(), first, r001, clock=clock, request_id="req-0001"
    )
    assert done.created and not done.replayed
    assert again.created and again.replayed and again.ticket == done.ticket
    with pytest.raises(idempotency.RequestMismatch, match="already used"):
        reception.check_in(
            any_demo_db.unit_of_work(), other, r001, clock=clock, request_id="req-0001"
        )
    with any_demo_db.unit_of_work() as uow:
        s = uow.session
        assert s.scalar(select(func.count()).where(Visit.customer_id == other)) == 0
        row = s.get(ActionRequest, "req-0001")
        assert row is not None and row.action == "check_in" and '"ticket"' in row.result
        # Written with the check-in, under its audit record's digest.
        assert audit.verify(s) is None


# -- heartbeats -------------------------------------------------------------------------------


def test_station_heartbeat_is_cheap_and_quiet(any_demo_db: Database, tmp_path: Path) -> None:
    """An upsert per laptop, no audit record, no change for the other stations to reload."""
    clock = FixedClock(NOON)
    r001 = staff_session(any_demo_db.unit_of_work(), "R001", clock=clock)
    counter = read_counter(any_demo_db.engine)
    with any_demo_db.unit_of_work() as uow:
        records = uow.session.scalar(select(func.count()).select_from(AuditRecord))
    low = SpaceReport(120 * 1024 * 1024, storage.place_of(tmp_path))
    for free in (low, SpaceReport(90 * 1024 * 1024, low.place)):
        stations.report_station(
            any_demo_db.unit_of_work(), r001, free, station="reception", host="lap-1", clock=clock
        )
    stations.report_station(
        any_demo_db.unit_of_work(),
        r001,
        SpaceReport(5 * 1024**3, low.place),
        station="reception",
        host="lap-2",
        clock=FixedClock(NOON - timedelta(minutes=10)),  # not heard from lately
    )
    assert read_counter(any_demo_db.engine) == counter
    with any_demo_db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(AuditRecord)) == records
        assert uow.session.scalar(select(func.count()).select_from(StationStatus)) == 2
    (only,) = stations.station_space(any_demo_db.unit_of_work(), clock=clock)
    assert (only.host, only.megabytes, only.staff_no) == ("lap-1", 90, "R001")


def test_heartbeat_needs_a_signed_in_role(demo_db: Database, tmp_path: Path) -> None:
    from dataclasses import replace

    clock = FixedClock(NOON)
    r001 = staff_session(demo_db.unit_of_work(), "R001", clock=clock)
    nobody = replace(r001, roles=frozenset())
    with pytest.raises(PermissionDenied):
        stations.report_station(
            demo_db.unit_of_work(), nobody, SpaceReport(1, storage.place_of(tmp_path)), clock=clock
        )
