"""Several laptops, one event on PostgreSQL: moving the event there, stations noticing each
other's changes, and a station losing the database mid-action and carrying on."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select, text

from kiosk import audit
from kiosk.changes import ChangeWatcher, read_counter
from kiosk.clock import FixedClock
from kiosk.db import HEAD_REVISION, Database, open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.errors import DatabaseUnavailable
from kiosk.eventcopy import CopyError, copy_event, event_tables
from kiosk.models import Customer, QueueEntry, Slip, SlipStatus, Visit
from kiosk.permissions import Action
from kiosk.services import keys, reception
from kiosk.services.auth import staff_session
from kiosk.services.booths import deliver_bundle
from kiosk.services.slips import CartLine, issue_slips, void_slip
from kiosk.slipcode import Verdict
from tests.approval_support import s001_approves
from tests.booth_support import MORNING, issue, new_booth, pack_bytes
from tests.gate_support import make_ready
from tests.points_support import drop_lots
from tests.tcp_proxy import LanCable

# Bounds a poll's time: in the one group of timing-sensitive tests (tests/conftest.py).
pytestmark = [pytest.mark.pg, pytest.mark.xdist_group("timing")]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg_demo_url(pg_station_demo_url: str) -> str:
    """The stations here connect as the stations' role, as on the venue LAN (issue #29): what
    they do must need no more than a station is granted."""
    return pg_station_demo_url


def _rows(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every event table, in primary-key order, as plain tuples."""
    out = {}
    with db.engine.connect() as connection:
        for table in event_tables():
            order = list(table.primary_key.columns)
            out[table.name] = [tuple(r) for r in connection.execute(select(table).order_by(*order))]
    return out


def _customer(db: Database, customer_no: str) -> int:
    with db.unit_of_work() as uow:
        found = uow.session.scalar(select(Customer.id).where(Customer.customer_no == customer_no))
    assert found is not None
    return found


# -- kiosk event copy ---------------------------------------------------------------------------


def test_copy_a_prepared_event_to_postgresql(
    demo_db: Database, pg_url: str, tmp_path: Path
) -> None:
    """Everything arrives, ids and all; slips issued before still verify, the key still
    unlocks, and the next slip, check-in and audit record follow the copied ones."""
    codes = issue(demo_db, ["O101", "O501", "O102"])
    booth = new_booth(tmp_path / "booth.sqlite3")
    booth.install(pack_bytes(demo_db))
    assert booth.redeem(codes[0], "Ms Booth").redeemed
    deliver_bundle(demo_db.unit_of_work(), booth.bundle()[0], clock=FixedClock(MORNING))
    a001 = staff_session(demo_db.unit_of_work(), "A001", clock=FixedClock(MORNING))
    void_slip(
        demo_db.unit_of_work(),
        3,
        a001,
        reason="test",
        approval=s001_approves(demo_db, Action.VOID_SLIP, clock=FixedClock(MORNING)),
        clock=FixedClock(MORNING),
    )
    before = _rows(demo_db)

    result = copy_event(demo_db.url, pg_url)

    assert result.rows == {name: len(rows) for name, rows in before.items()}
    assert result.rows["slip"] == 3 and result.rows["signing_key"] == 1
    pg = open_database(pg_url)
    try:
        assert _rows(pg) == before
        # Slips keep their verdicts on the new database.
        verdicts = [
            keys.verify_code(pg.unit_of_work(), code, clock=FixedClock(MORNING)).verdict
            for code in codes
        ]
        assert verdicts[1] == Verdict.VALID
        with pg.unit_of_work() as uow:
            statuses = dict(uow.session.execute(select(Slip.serial, Slip.status)).all())
            assert audit.verify(uow.session) is None
        assert statuses == {1: SlipStatus.REDEEMED, 2: SlipStatus.ISSUED, 3: SlipStatus.VOIDED}
        # The private key still unlocks with the passphrase, and new rows get new ids.
        key = keys.unlock(pg.unit_of_work(), DEMO_PASSPHRASE)
        other = _customer(pg, "6200000031")
        make_ready(pg, other)
        r001 = staff_session(pg.unit_of_work(), "R001", clock=FixedClock(MORNING))
        checked = reception.check_in(pg.unit_of_work(), other, r001, clock=FixedClock(MORNING))
        assert checked.created
        a001 = staff_session(pg.unit_of_work(), "A001", clock=FixedClock(MORNING))
        with audit.unaudited(), pg.unit_of_work() as uow:  # test setup
            uow.session.execute(
                text("UPDATE customer SET points_balance = 1000000 WHERE id = :id"), {"id": other}
            )
            drop_lots(uow.session, Customer.id == other)
            uow.commit()
        new = issue_slips(
            pg.unit_of_work(), other, [CartLine("O101")], a001, key, clock=FixedClock(MORNING)
        )
        assert [s.serial for s in new] == [4]
        assert (
            keys.verify_code(pg.unit_of_work(), new[0].code, clock=FixedClock(MORNING)).verdict
            == Verdict.VALID
        )
        with pg.unit_of_work() as uow:
            assert audit.verify(uow.session) is None
            assert uow.session.scalar(select(func.count()).select_from(Visit)) == 2
    finally:
        pg.dispose()


def test_copy_refuses_a_target_that_holds_data(demo_url: str, pg_url: str) -> None:
    copy_event(demo_url, pg_url)
    pg = open_database(pg_url)
    counts = {name: len(rows) for name, rows in _rows(pg).items()}
    pg.dispose()
    with pytest.raises(CopyError, match=r"is not empty .* copy an event only into a new"):
        copy_event(demo_url, pg_url)
    pg = open_database(pg_url)
    assert {name: len(rows) for name, rows in _rows(pg).items()} == counts
    pg.dispose()


def test_a_copy_that_fails_leaves_the_target_empty(
    demo_url: str, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One transaction: a failure at the end (here the count check) keeps nothing."""
    import kiosk.eventcopy as eventcopy

    real = eventcopy._count
    calls = {"n": 0}
    # The emptiness check counts every table once first; only the check after the copy lies.
    checked_empty = len(eventcopy.event_tables())

    def lying_count(connection, table):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        n = real(connection, table)
        return n + 1 if table.name == "visit_step" and calls["n"] > checked_empty else n

    monkeypatch.setattr(eventcopy, "_count", lying_count)
    with pytest.raises(CopyError, match=r"visit_step: .* nothing was copied"):
        copy_event(demo_url, pg_url)
    monkeypatch.undo()
    pg = open_database(pg_url)
    assert all(not rows for rows in _rows(pg).values())
    pg.dispose()


def test_cli_copy_and_serve_help(demo_url: str, pg_url: str) -> None:
    def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "--lang", "en", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )

    help_text = kiosk("db", "serve-help", "--host", "10.1.2.3").stdout
    # Least privilege: the set-up command, TLS-only lines for the station account, no
    # password anywhere, the booths through the gateway.
    assert "kiosk db setup --admin" in help_text and "--host 10.1.2.3" in help_text
    assert "hostssl  kiosk_event  kiosk_event_station  10.1.2.0/24  scram-sha-256" in help_text
    assert "listen_addresses = '*'" in help_text
    assert "postgresql://kiosk_event_station@10.1.2.3:5432/kiosk_event" in help_text
    assert "kiosk booth serve --db STATION_URL" in help_text
    assert "https://10.1.2.3:8443" in help_text
    assert "\nhost " not in help_text and "PASSWORD" not in help_text
    init = kiosk("--db", pg_url, "init")
    assert init.returncode == 0 and HEAD_REVISION in init.stdout
    copied = kiosk("event", "copy", "--from", demo_url, "--to", pg_url)
    assert copied.returncode == 0, copied.stderr
    assert "the counts match" in copied.stdout and "customer: 240 rows" in copied.stderr
    again = kiosk("event", "copy", "--from", demo_url, "--to", pg_url)
    assert again.returncode == 1 and "is not empty" in again.stderr
    info = kiosk("--db", pg_url, "info")
    assert info.returncode == 0 and "240" in info.stdout


# -- the change counter -------------------------------------------------------------------------


def test_every_write_and_only_a_write_moves_the_counter(demo_url: str) -> None:
    db = open_database(demo_url)
    try:
        start = read_counter(db.engine)
        reception.search(db.unit_of_work(), "62000000")  # a read
        assert read_counter(db.engine) == start
        with db.unit_of_work() as uow:  # a write rolled back
            uow.session.execute(text("UPDATE customer SET tier = 'x'"))
        assert read_counter(db.engine) == start
        staff = staff_session(db.unit_of_work(), "R001", clock=FixedClock(MORNING))
        customer = _customer(db, "6200000040")
        reception.check_in(db.unit_of_work(), customer, staff, clock=FixedClock(MORNING))
        assert read_counter(db.engine) == start + 1
        reception.check_in(db.unit_of_work(), customer, staff, clock=FixedClock(MORNING))
        assert read_counter(db.engine) == start + 1  # already checked in: nothing written
        with db.unit_of_work() as uow:  # a plain-SQL write counts too
            uow.session.execute(text("UPDATE customer SET tier = tier WHERE id = 1"))
            uow.commit()
        assert read_counter(db.engine) == start + 2
    finally:
        db.dispose()


def test_watcher_sees_a_change_and_never_blocks(pg_demo_url: str) -> None:
    db = open_database(pg_demo_url)
    watcher = ChangeWatcher(db.engine, interval=0.05)
    try:
        first = watcher.wait()
        assert first.reachable and first.value is not None
        reception.check_in(
            db.unit_of_work(),
            _customer(db, "6200000041"),
            staff_session(db.unit_of_work(), "R001", clock=FixedClock(MORNING)),
            clock=FixedClock(MORNING),
        )
        time.sleep(0.06)
        seen = watcher.wait()
        assert seen.value == first.value + 1
    finally:
        watcher.close()
        db.dispose()


def test_watcher_reports_the_lan_gone_and_back_without_blocking(pg_demo_url: str) -> None:
    with LanCable(pg_demo_url) as cable:
        db = open_database(cable.url)
        watcher = ChangeWatcher(db.engine, interval=0.05, timeout=1.0, retry=0.2)
        try:
            assert watcher.wait().reachable
            cable.cut()
            slowest, deadline, reading = 0.0, time.monotonic() + 5, watcher.poll()
            while reading.reachable is not False and time.monotonic() < deadline:
                t0 = time.monotonic()
                reading = watcher.poll()
                slowest = max(slowest, time.monotonic() - t0)
                time.sleep(0.01)
            assert reading.reachable is False and reading.error
            assert slowest < 0.05  # each poll returns at once, LAN or not
            cable.plug()
            deadline = time.monotonic() + 5
            while not (reading := watcher.poll()).reachable and time.monotonic() < deadline:
                time.sleep(0.02)
            assert reading.reachable
        finally:
            watcher.close()
            db.dispose()


# -- a station losing the database mid-action ---------------------------------------------------


def test_check_in_with_the_lan_cut_says_so_and_succeeds_when_it_is_back(
    pg_demo_url: str,
) -> None:
    with LanCable(pg_demo_url) as cable:
        db = open_database(cable.url)
        try:
            staff = staff_session(db.unit_of_work(), "R001", clock=FixedClock(MORNING))
            customer = _customer(db, "6200000042")
            cable.cut()
            with pytest.raises(DatabaseUnavailable, match=r"cannot be reached .* saved"):
                reception.check_in(db.unit_of_work(), customer, staff, clock=FixedClock(MORNING))
            cable.plug()
            result = reception.check_in(
                db.unit_of_work(), customer, staff, clock=FixedClock(MORNING)
            )
            assert result.created
        finally:
            db.dispose()


def test_server_ends_the_connection_mid_transaction(pg_demo_url: str) -> None:
    """The backend is terminated between the read and the write of a check-in: nothing is
    half-saved, the error is one sentence, and the same action works right after."""
    db = open_database(pg_demo_url)
    try:
        staff = staff_session(db.unit_of_work(), "R001", clock=FixedClock(MORNING))
        customer = _customer(db, "6200000043")
        with pytest.raises(DatabaseUnavailable), db.unit_of_work() as uow:
            s = uow.session
            pid = s.scalar(text("SELECT pg_backend_pid()"))
            with psycopg.connect(pg_demo_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            s.execute(text("INSERT INTO change_counter (id, value) VALUES (2, 0)"))
        with db.unit_of_work() as uow:
            assert uow.session.scalar(select(func.count()).select_from(Visit)) == 0
        assert reception.check_in(
            db.unit_of_work(), customer, staff, clock=FixedClock(MORNING)
        ).created
        with db.unit_of_work() as uow:
            assert uow.session.scalar(select(func.count()).select_from(QueueEntry)) == 1
    finally:
        db.dispose()
