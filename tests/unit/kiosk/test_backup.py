"""Backups taken while stations write, restored and checked; rotation; restore refusals.

The stations are threads at the domain level (reception checking in, activation issuing slips,
a service desk governing), each on its own engine as separate laptops on one file would be.
Every backup taken meanwhile is restored and must be a consistent database: integrity and
foreign keys, the audit chain, the points journal against slips and offers, and a prefix of
what each station wrote.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from kiosk import audit
from kiosk.backup import BackupError, backup, backups, restore
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import DEMO_PASSPHRASE, create_demo
from kiosk.kyc import governance_gaps
from kiosk.models import (
    AuditRecord,
    Customer,
    GovernanceChange,
    JournalEntry,
    JournalKind,
    Offer,
    OutboxEntry,
    Slip,
    SlipStatus,
    Visit,
)
from kiosk.points import available_points
from kiosk.services import desk, keys, reception
from kiosk.services.auth import staff_session
from kiosk.services.slips import CartLine, issue_slips
from tests.conftest import DEMO_DATE
from tests.gate_support import make_ready
from tests.unit.cli.test_cli import run

# These customers hold a balance without lots: no day makes any of it expire.
UNDATED = date(2026, 12, 6)

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)


def _customers(database: Database) -> tuple[list[int], list[int], list[int]]:
    """Three disjoint groups: to check in, to issue slips to, to govern (no gaps)."""
    with database.unit_of_work() as uow:
        rows = uow.session.scalars(
            select(Customer).where(Customer.points_balance >= 4000).order_by(Customer.id)
        ).all()
        clean = [c.id for c in rows if not governance_gaps(c, DEMO_DATE)]
        others = [c.id for c in rows if c.id not in set(clean)]
    return others[:24], others[24:40], clean[:12]


def _station(
    url: str, work: Callable[[Database, int], None], items: list[int], halfway: threading.Event
) -> list[int]:
    """Run ``work`` over ``items`` on its own engine; returns the items done, in order. Half
    way through it waits for ``halfway``: the test's first backup is then taken while the
    stations have written some and not all, however fast the machine writes."""
    done: list[int] = []

    def go() -> None:
        database = open_database(url)
        try:
            for number, item in enumerate(items):
                if number == len(items) // 2:
                    assert halfway.wait(60)
                work(database, item)
                done.append(item)
                time.sleep(0.005)
        finally:
            database.dispose()

    thread = threading.Thread(target=go)
    thread.start()
    _THREADS.append(thread)
    return done


_THREADS: list[threading.Thread] = []


def _check_consistent(url: str) -> dict[str, object]:
    """Everything a restored database must satisfy; returns what it holds."""
    database = open_database(url)
    try:
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        with database.unit_of_work() as uow:
            s = uow.session
            assert audit.verify(s) is None
            for slip in s.scalars(select(Slip)):
                reserves = s.scalars(
                    select(JournalEntry.points).where(
                        JournalEntry.slip_id == slip.id, JournalEntry.kind == JournalKind.RESERVE
                    )
                ).all()
                assert reserves == [slip.points]
            for offer in s.scalars(select(Offer)):
                held = s.scalar(
                    select(func.coalesce(func.sum(Slip.quantity), 0)).where(
                        Slip.offer_id == offer.id,
                        Slip.status.in_([SlipStatus.ISSUED, SlipStatus.REDEEMED]),
                    )
                )
                assert offer.reserved == held, offer.code
            for customer in s.scalars(select(Customer)):
                assert available_points(s, customer, UNDATED) >= 0
            slips = s.scalar(select(func.count(Slip.id)))
            assert slips == s.scalar(
                select(func.count(OutboxEntry.id)).where(OutboxEntry.kind == "slip_issued")
            )
            return {
                "audit": s.execute(
                    select(AuditRecord.id, AuditRecord.hash).order_by(AuditRecord.id)
                ).all(),
                "visits": set(s.scalars(select(Visit.customer_id))),
                "slips": set(s.scalars(select(Slip.customer_id))),
                "governed": set(s.scalars(select(GovernanceChange.customer_id))),
            }
    finally:
        database.dispose()


def _is_prefix(order: list[int], present: set[int]) -> bool:
    """``present`` restricted to ``order`` is exactly its first n items."""
    got = [item for item in order if item in present]
    return got == order[: len(got)]


def test_backups_during_writes_restore_consistent(sqlite_demo_url: str, tmp_path: Path) -> None:
    """SQLite only: the backup copies the event's SQLite file while stations write to it."""
    demo_url = sqlite_demo_url
    database = open_database(demo_url)
    to_check_in, to_issue, to_govern = _customers(database)
    clock = FixedClock(MORNING)
    front = staff_session(database.unit_of_work(), "R001", clock=clock)
    make_ready(database, *to_issue)
    for customer_id in to_issue:  # activation's customers arrived earlier
        reception.check_in(database.unit_of_work(), customer_id, front, clock=clock)
    key = keys.unlock(database.unit_of_work(), DEMO_PASSPHRASE)
    activation = staff_session(database.unit_of_work(), "A001", clock=clock)
    rm = staff_session(database.unit_of_work(), "RM001", clock=clock)

    def check_in(db: Database, customer_id: int) -> None:
        reception.check_in(db.unit_of_work(), customer_id, front, clock=clock)

    def issue(db: Database, customer_id: int) -> None:
        line = [CartLine("O501")]
        issue_slips(db.unit_of_work(), customer_id, line, activation, key, clock=clock)

    def govern(db: Database, customer_id: int) -> None:
        form = desk.current_form(db.unit_of_work(), customer_id)
        new = replace(form, phone=f"139{customer_id:08d}", occupation_code="3")
        desk.save_governance(db.unit_of_work(), customer_id, new, rm, clock=clock)

    folder = tmp_path / "usb"
    halfway = threading.Event()
    done = [
        _station(demo_url, check_in, to_check_in, halfway),
        _station(demo_url, issue, to_issue, halfway),
        _station(demo_url, govern, to_govern, halfway),
    ]
    taken = []
    stamps = FixedClock(MORNING)  # a second apart: each backup its own file name
    lists = [to_check_in, to_issue, to_govern]
    while any(t.is_alive() for t in _THREADS):
        taken.append(backup(database, folder, keep=1000, clock=stamps).path)
        stamps.advance(seconds=1)
        if not halfway.is_set() and all(
            len(d) == len(items) // 2 for d, items in zip(done, lists, strict=True)
        ):
            # Every station is half way and waits: a backup was taken before they can
            # finish (so at least one holds some of the writes and not all); let them go on,
            # and the next backups are taken while they write.
            halfway.set()
        time.sleep(0.02)
    for thread in _THREADS:
        thread.join()
    _THREADS.clear()
    taken.append(backup(database, folder, keep=1000, clock=stamps).path)
    database.dispose()
    assert len(taken) >= 2 and [len(d) for d in done] == [24, 16, 12]

    final = _check_consistent(demo_url)
    seen_partial = False
    for number, path in enumerate(taken):
        url = f"sqlite:///{tmp_path / f'restored-{number}.sqlite3'}"
        restore(path, url)
        held = _check_consistent(url)
        audit_rows = held["audit"]
        assert isinstance(audit_rows, list)
        assert audit_rows == final["audit"][: len(audit_rows)]  # type: ignore[index]
        assert _is_prefix(to_check_in, held["visits"])  # type: ignore[arg-type]
        assert _is_prefix(to_issue, held["slips"])  # type: ignore[arg-type]
        assert _is_prefix(to_govern, held["governed"])  # type: ignore[arg-type]
        seen_partial |= 0 < len(audit_rows) < len(final["audit"])  # type: ignore[arg-type]
    assert seen_partial, "no backup was taken while the stations were writing"
    # The last one, taken after the writes, holds all of them.
    assert held["visits"] == final["visits"] and held["slips"] == final["slips"]


def test_rotation_keeps_the_newest(sqlite_demo_db: Database, tmp_path: Path) -> None:
    """SQLite only: the backup files are copies of the SQLite file."""
    demo_db = sqlite_demo_db
    folder = tmp_path / "usb"
    (folder / "kiosk-OTHER-20261101-090000-000.sqlite3").parent.mkdir(parents=True)
    (folder / "kiosk-OTHER-20261101-090000-000.sqlite3").write_bytes(b"another event's")
    paths = []
    for minute in range(5):
        clock = FixedClock(datetime(2026, 11, 28, 1, minute, tzinfo=UTC))
        result = backup(demo_db, folder, keep=3, clock=clock)
        paths.append(result.path)
        assert result.size > 100_000 and result.path.read_bytes().startswith(b"SQLite format 3")
    assert backups(folder, "DEMO") == paths[-3:]
    assert (folder / "kiosk-OTHER-20261101-090000-000.sqlite3").exists()  # not ours to remove
    assert not list(folder.glob(".*part"))
    with pytest.raises(BackupError, match="at least one"):
        backup(demo_db, folder, keep=0)


def test_restore_refusals(sqlite_demo_db: Database, tmp_path: Path) -> None:
    """SQLite only: restoring writes an SQLite file."""
    demo_db = sqlite_demo_db
    path = backup(demo_db, tmp_path / "usb", clock=FixedClock(MORNING)).path
    target = tmp_path / "restored.sqlite3"
    restore(path, f"sqlite:///{target}")
    with pytest.raises(BackupError, match="already exists"):
        restore(path, f"sqlite:///{target}")
    restore(path, f"sqlite:///{target}", replace=True)
    other = tmp_path / "notes.txt"
    other.write_text("hello", encoding="utf-8")
    with pytest.raises(BackupError, match="not a kiosk backup"):
        restore(other, f"sqlite:///{tmp_path / 'x.sqlite3'}")
    damaged = tmp_path / "damaged.sqlite3"
    data = bytearray(path.read_bytes())
    data[4096 : 4096 * 3] = b"\xff" * (4096 * 2)
    damaged.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="damaged"):
        restore(damaged, f"sqlite:///{tmp_path / 'y.sqlite3'}")
    with pytest.raises(BackupError, match="SQLite backup: restore it into an sqlite"):
        restore(path, "postgresql://postgres@127.0.0.1/nowhere")
    read_only = tmp_path / "locked"
    read_only.mkdir()
    read_only.chmod(0o500)
    try:
        if not os.access(read_only, os.W_OK):  # root writes anywhere
            with pytest.raises(BackupError, match="backup folder"):
                backup(demo_db, read_only / "sub")
    finally:
        read_only.chmod(0o700)


def test_backup_and_restore_commands(
    capsys: pytest.CaptureFixture[str], sqlite_demo_url: str, tmp_path: Path
) -> None:
    """SQLite only: an SQLite backup restored into an SQLite file (PostgreSQL's dump and
    restore: test_postgresql_dump_and_restore)."""
    demo_url = sqlite_demo_url
    base = ["--lang", "en", "--db", demo_url]
    code, out, err = run(capsys, *base, "backup", "--to", str(tmp_path / "usb"), "--keep", "2")
    assert code == 0, err
    assert "Backed up to" in out and "bytes" in out
    path = backups(tmp_path / "usb", "DEMO")[0]
    target = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    code, out, err = run(capsys, "--lang", "en", "restore", str(path), "--db", target)
    assert code == 0 and "Restored" in out, err
    code, out, _err = run(capsys, "--lang", "en", "--db", target, "info")
    assert code == 0 and "240" in out
    code, _out, err = run(capsys, "--lang", "en", "restore", str(path), "--db", target)
    assert code == 1 and "already exists" in err


@pytest.fixture
def pg_target(pg_url: str) -> str:
    """A second empty PostgreSQL database beside ``pg_url``, dropped afterwards."""
    import psycopg

    base, _name = pg_url.rsplit("/", 1)
    name = f"kiosk_restore_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{base}/{name}"  # type: ignore[misc]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.pg
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_postgresql_dump_and_restore(pg_url: str, pg_target: str, tmp_path: Path) -> None:
    database = open_database(pg_url)
    create_demo(database.unit_of_work(), event_date=DEMO_DATE, invitees=40)
    result = backup(database, tmp_path / "usb", clock=FixedClock(MORNING))
    database.dispose()
    assert result.path.suffix == ".dump" and result.path.read_bytes().startswith(b"PGDMP")
    restore(result.path, pg_target)
    restored = _check_consistent_pg(pg_target)
    assert restored == 40
    with pytest.raises(BackupError, match="empty PostgreSQL database"):
        restore(result.path, pg_target)
    subprocess.run(["pg_restore", "--list", str(result.path)], check=True, capture_output=True)


def _check_consistent_pg(url: str) -> int:
    database = open_database(url)
    try:
        with database.unit_of_work() as uow:
            assert audit.verify(uow.session) is None
            count = uow.session.scalar(select(func.count(Customer.id)))
            assert uow.session.execute(text("SELECT count(*) FROM privacy_key")).scalar() == 1
            return int(count or 0)
    finally:
        database.dispose()
