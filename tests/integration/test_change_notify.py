"""Changes pushed, not polled (issue #23): on PostgreSQL a station's watcher LISTENs, and every
commit that bumps the change counter notifies it (migration 0018's trigger); an idle watcher
sends nothing. Proved by the watcher's own count of statements sent and by the server's view of
the watcher's backend (``pg_stat_activity``: the time its last statement started), never by a
clock. The counter poll stays for SQLite and where LISTEN is not used; a dropped or silent
connection is noticed and replaced, and a server given by host name is looked up first.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import psycopg
import pytest
from sqlalchemy import create_engine, make_url, select

from kiosk.changes import COUNTER_SQL, BlockingLookup, ChangeWatcher, Reading, read_counter
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.models import Customer
from kiosk.services import reception
from kiosk.services.auth import staff_session
from tests.booth_support import MORNING
from tests.conftest import PG_ADMIN_URL
from tests.tcp_proxy import LanCable

# A generous bound for a notification to arrive (it takes milliseconds); what the tests prove
# is the mechanism, counted, not the speed.
ARRIVES_WITHIN = 5.0


def _check_in(db: Database, customer_no: str) -> int:
    """A real write at another station (a check-in): the counter value its commit reached."""
    with db.unit_of_work() as uow:
        found = select(Customer.id).where(Customer.customer_no == customer_no)
        customer = uow.session.scalar(found)
    assert customer is not None
    mark = db.own_commits.mark()
    clock = FixedClock(MORNING)
    staff = staff_session(db.unit_of_work(), "R001", clock=clock)
    assert reception.check_in(db.unit_of_work(), customer, staff, clock=clock).created
    reached = db.own_commits.since(mark)
    assert reached
    return reached[-1]


def _until(watcher: ChangeWatcher, done: object, within: float = ARRIVES_WITHIN) -> Reading:
    """Poll as a window's timer would (every 10 ms) until ``done(reading)`` or the bound."""
    end = time.monotonic() + within
    reading = watcher.poll()
    while not done(reading) and time.monotonic() < end:  # type: ignore[operator]
        time.sleep(0.01)
        reading = watcher.poll()
    return reading


def _last_statement(pid: int) -> tuple[str, datetime, str]:
    """The server's view of a backend: its last statement, when that started, its state."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        row = admin.execute(
            "SELECT query, query_start, state FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone()
    assert row is not None, f"no backend {pid}"
    return row[0], row[1], row[2]


@contextmanager
def _two_stations(url: str) -> Iterator[tuple[Database, Database]]:
    watching, writing = open_database(url), open_database(url)
    try:
        yield watching, writing
    finally:
        watching.dispose()
        writing.dispose()


@pytest.mark.pg
def test_another_station_s_commit_arrives_without_a_query(pg_station_demo_url: str) -> None:
    """As the stations' role (a trigger must need no more privilege than a station has)."""
    with _two_stations(pg_station_demo_url) as (watching, writing):
        watcher = ChangeWatcher(watching.engine)
        try:
            first = watcher.wait()
            assert first.reachable and first.value == read_counter(writing.engine)
            assert watcher.listening
            pid = watcher._conn.backend_pid
            sent = watcher.queries
            # The server's view: LISTEN, then the one counter read after it, and nothing more.
            before = _last_statement(pid)
            assert before[0] == COUNTER_SQL and before[2] == "idle"

            reached = _check_in(writing, "6200000044")
            seen = _until(watcher, lambda r: r.value is not None)
            assert seen.value == reached and seen.reachable
            assert watcher.queries == sent  # heard, not asked
            assert watcher.notifications >= 1
            assert _last_statement(pid) == before  # no statement ran there
        finally:
            watcher.close()


@pytest.mark.pg
def test_an_idle_watcher_sends_nothing(pg_demo_url: str) -> None:
    database = open_database(pg_demo_url)
    watcher = ChangeWatcher(database.engine, tick=0.01)
    try:
        assert watcher.wait().reachable and watcher.listening
        pid = watcher._conn.backend_pid
        sent, before = watcher.queries, _last_statement(pid)
        readings = []
        for _tick in range(100):  # ten seconds of a window's 100 ms ticks, compressed
            readings.append(watcher.poll())
            time.sleep(0.01)
        assert all(r.reachable and r.value is None for r in readings)
        assert watcher.queries == sent
        assert _last_statement(pid) == before
    finally:
        watcher.close()
        database.dispose()


@pytest.mark.pg
def test_without_listen_the_watcher_reads_the_counter(pg_demo_url: str) -> None:
    """The fallback (a server that refuses LISTEN, and SQLite): one read per interval."""
    with _two_stations(pg_demo_url) as (watching, writing):
        watcher = ChangeWatcher(watching.engine, interval=0.05, listen=False)
        try:
            assert watcher.wait().value is not None and not watcher.listening
            sent = watcher.queries
            reached = _check_in(writing, "6200000045")
            seen = _until(watcher, lambda r: r.value == reached)
            assert seen.value == reached
            assert watcher.queries > sent and watcher.notifications == 0
        finally:
            watcher.close()


def test_on_sqlite_the_watcher_reads_the_counter(sqlite_demo_db: Database) -> None:
    """SQLite has no notifications: every poll is a read of the counter (microseconds)."""
    watcher = ChangeWatcher(sqlite_demo_db.engine, interval=0.05)
    first = watcher.poll()
    assert first.reachable and first.value == read_counter(sqlite_demo_db.engine)
    reached = _check_in(sqlite_demo_db, "6200000046")
    second = watcher.poll()
    assert second.value == reached == first.value + 1  # type: ignore[operator]
    assert watcher.queries == 2 and second.delay_ms == 50


@pytest.mark.pg
def test_the_lan_cut_is_said_and_nothing_committed_meanwhile_is_missed(pg_demo_url: str) -> None:
    with LanCable(pg_demo_url) as cable, _two_stations(cable.url) as (watching, _unused):
        writing = open_database(pg_demo_url)  # another laptop, still on the LAN
        watcher = ChangeWatcher(watching.engine, timeout=1.0, retry=0.2)
        try:
            assert watcher.wait().reachable and watcher.listening
            cable.cut()
            gone = _until(watcher, lambda r: r.reachable is False)
            assert gone.reachable is False and gone.error  # said, in the driver's words
            during = _check_in(writing, "6200000047")  # committed while this one is away
            cable.plug()
            back = _until(watcher, lambda r: r.reachable and r.value is not None)
            assert back.reachable and back.value == during  # read once, after LISTEN
            assert watcher.listening
            sent = watcher.queries
            after = _check_in(writing, "6200000048")
            assert _until(watcher, lambda r: r.value is not None).value == after
            assert watcher.queries == sent  # notified again on the new connection
        finally:
            watcher.close()
            writing.dispose()


@pytest.mark.pg
def test_a_connection_ended_by_the_server_is_replaced_quietly(pg_demo_url: str) -> None:
    """A backend terminated by an administrator (or a restart's first moments): the watcher
    connects again at once and reports nothing; changes keep arriving."""
    with _two_stations(pg_demo_url) as (watching, writing):
        watcher = ChangeWatcher(watching.engine)
        try:
            assert watcher.wait().reachable
            old = watcher._conn.backend_pid
            with psycopg.connect(pg_demo_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (old,))
            reached = _check_in(writing, "6200000049")
            readings = []
            end = time.monotonic() + ARRIVES_WITHIN
            while time.monotonic() < end and not any(r.value == reached for r in readings):
                readings.append(watcher.poll())
                time.sleep(0.01)
            assert any(r.value == reached for r in readings)
            assert all(r.reachable for r in readings)  # no banner for it
            assert watcher._conn.backend_pid != old and watcher.listening
        finally:
            watcher.close()


@pytest.mark.pg
def test_a_server_that_stops_answering_is_noticed_after_a_silence(pg_demo_url: str) -> None:
    """After ``check_after`` seconds of silence one empty query asks whether the server still
    answers. Frozen (the proxy stopped: the kernel still keeps the connection, as for a hung
    server), nothing comes back and the watcher says so; thawed, it answers again."""
    with LanCable(pg_demo_url) as cable:
        database = open_database(cable.url)
        watcher = ChangeWatcher(database.engine, timeout=0.5, retry=0.2, check_after=0.3)
        try:
            assert watcher.wait().reachable
            pid, sent = watcher._conn.backend_pid, watcher.queries
            # Silence: one empty query, answered; the same connection, LISTENing on.
            asked = _until(watcher, lambda r: watcher.queries == sent + 1 and not watcher._query)
            assert asked.reachable and watcher._conn.backend_pid == pid and watcher.listening
            sent = watcher.queries
            assert cable.process is not None
            os.kill(cable.process.pid, signal.SIGSTOP)
            try:
                gone = _until(watcher, lambda r: r.reachable is False)
            finally:
                os.kill(cable.process.pid, signal.SIGCONT)
            assert gone.reachable is False and "no answer within" in gone.error
            assert watcher.queries == sent + 1  # the one empty query, nothing else
            assert _until(watcher, lambda r: r.reachable is True).reachable
        finally:
            watcher.close()
            database.dispose()


# -- a server given by host name ---------------------------------------------------------------


class _Lookup:
    """A resolver under the test's control: what it answers, and when."""

    def __init__(self, answer: tuple[tuple[str, ...], str] | None) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def start(self, host: str) -> None:
        self.asked.append(host)

    def result(self) -> tuple[tuple[str, ...], str] | None:
        return self.answer

    def cancel(self) -> None:
        pass


def _named(url: str, host: str) -> str:
    return make_url(url).set(host=host).render_as_string(hide_password=False)


@pytest.mark.pg
def test_localhost_by_name(pg_demo_url: str) -> None:
    database = open_database(_named(pg_demo_url, "localhost"))
    watcher = ChangeWatcher(database.engine, lookup=BlockingLookup())
    try:
        reading = watcher.wait()
        assert reading.reachable and reading.value is not None
        assert watcher._conn.host == b"localhost"  # the name, for TLS verify-full
        assert watcher._conn.hostaddr in (b"127.0.0.1", b"::1")  # what libpq dialled
    finally:
        watcher.close()
        database.dispose()


@pytest.mark.pg
def test_libpq_is_never_left_to_resolve_a_name(pg_demo_url: str) -> None:
    """A name no resolver knows (``.invalid``), given its address by the watcher's lookup:
    the connection works, so libpq dialled the address and never looked the name up. While
    the lookup is pending each poll returns at once; an unknown name is said in words."""
    engine = create_engine(_named(pg_demo_url, "kiosk-event-db.invalid"))
    try:
        pending = _Lookup(None)
        waiting = ChangeWatcher(engine, timeout=0.3, retry=0.1, lookup=pending)
        first = waiting.poll()
        assert first.reachable is None and first.value is None and first.delay_ms <= 20
        gone = _until(waiting, lambda r: r.reachable is False)
        assert gone.reachable is False and "no answer within" in gone.error
        assert pending.asked == ["kiosk-event-db.invalid"] and waiting.queries == 0

        unknown = ChangeWatcher(engine, lookup=_Lookup(((), "Host not found")))
        said = unknown.poll()
        assert said.reachable is False
        assert "kiosk-event-db.invalid" in said.error and "Host not found" in said.error

        known = ChangeWatcher(engine, lookup=_Lookup((("127.0.0.1",), "")))
        try:
            reading = known.wait()
            assert reading.reachable and reading.value is not None, reading.error
            assert known._conn.host == b"kiosk-event-db.invalid"
        finally:
            known.close()
    finally:
        engine.dispose()


# -- migration 0018 ------------------------------------------------------------------------------


@pytest.mark.pg
def test_the_notify_trigger_comes_and_goes_with_0018(pg_url: str) -> None:
    """At head every bump notifies, at commit only; taken back to 0017, none does; upgraded
    again, it does again."""
    from tests.unit.kiosk.test_migrations import _downgrade

    def heard_after(statements: list[str]) -> list[str]:
        with psycopg.connect(pg_url, autocommit=True) as listener:
            listener.execute("LISTEN kiosk_changes")
            with psycopg.connect(pg_url) as writer:
                for statement in statements:
                    writer.execute(statement)
                writer.rollback()  # a bump rolled back is nobody's: nothing to hear
                writer.execute("UPDATE change_counter SET value = value + 1 WHERE id = 1")
                writer.commit()
            listener.execute("SELECT 1")  # notifications are read with the next answer
            return [n.payload for n in listener.notifies(timeout=0.5, stop_after=10)]

    open_database(pg_url).dispose()
    bump = "UPDATE change_counter SET value = value + 1 WHERE id = 1"
    assert heard_after([bump, bump]) == ["1"]  # the rolled-back 1 and 2 said nothing
    _downgrade(pg_url, "3715987bc59e")
    assert heard_after([]) == []
    open_database(pg_url).dispose()
    assert heard_after([]) == ["3"]


# -- migration 0022 ------------------------------------------------------------------------------


@pytest.mark.pg
def test_the_audit_append_bumps_the_counter_last_in_the_same_round_trip(
    pg_station_demo_url: str,
) -> None:
    """A check-in ends with one statement for its audit records and the counter's bump
    (``kiosk_audit_append_bump``), the bump after the records: while another transaction
    holds the counter row, the check-in waits holding the chain's lock with its records in,
    so the counter is still the last lock it takes. Then it commits; the chain checks out and
    the counter moved by one, to the value the station says its commit reached."""
    import threading

    from kiosk import audit
    from kiosk.roundtrips import count

    db = open_database(pg_station_demo_url)
    try:
        with db.unit_of_work() as uow:
            customer = uow.session.scalar(
                select(Customer.id).where(Customer.customer_no == "6200000044")
            )
        clock = FixedClock(MORNING)
        staff = staff_session(db.unit_of_work(), "R001", clock=clock)
        before = read_counter(db.engine)
        admin_url = make_url(pg_station_demo_url).set(
            drivername="postgresql", username="postgres", password=None
        )
        admin = admin_url.render_as_string(hide_password=False)
        # ``looking`` in autocommit: pg_stat_activity is read once per transaction.
        with psycopg.connect(admin) as holder, psycopg.connect(admin, autocommit=True) as looking:
            holder.execute("UPDATE change_counter SET value = value WHERE id = 1")  # row locked
            done: list[object] = []
            mark = db.own_commits.mark()

            def check_in() -> None:
                with count(db.engine, keep_sql=True) as trips:
                    done.append(reception.check_in(db.unit_of_work(), customer, staff, clock=clock))
                done.append(trips)

            worker = threading.Thread(target=check_in)
            worker.start()
            waiting = None
            end = time.monotonic() + ARRIVES_WITHIN
            while waiting is None and time.monotonic() < end:
                waiting = looking.execute(
                    "SELECT pid, query FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                ).fetchone()
                time.sleep(0.01)
            assert waiting is not None, "the check-in never waited for the counter row"
            pid, query = waiting
            assert "kiosk_audit_append_bump" in query
            advisory = looking.execute(
                "SELECT granted FROM pg_locks WHERE pid = %s AND locktype = 'advisory' "
                "AND classid = 0 AND objid = 1635083369 AND objsubid = 1",  # the chain's key
                (pid,),
            ).fetchall()
            assert advisory == [(True,)]  # the chain's lock held: the records went in first
            holder.rollback()
        worker.join(10)
        assert not worker.is_alive()
        result, trips = done
        assert result.created  # type: ignore[attr-defined]
        sql = trips.sql  # type: ignore[attr-defined]
        assert sum("kiosk_audit_append_bump" in line for line in sql) == 1
        assert not any("change_counter" in line for line in sql)
        assert read_counter(db.engine) == before + 1
        assert db.own_commits.since(mark) == [before + 1]
        with db.unit_of_work() as uow:
            assert audit.check(uow.session).intact
    finally:
        db.dispose()


@pytest.mark.pg
def test_the_append_with_the_bump_comes_and_goes_with_0022(pg_url: str) -> None:
    from tests.unit.kiosk.test_migrations import _downgrade

    def there() -> bool:
        with psycopg.connect(pg_url) as connection:
            found = connection.execute(
                "SELECT to_regprocedure('kiosk_audit_append_bump(jsonb)') IS NOT NULL"
            ).fetchone()
        return bool(found and found[0])

    open_database(pg_url).dispose()
    assert there()
    _downgrade(pg_url, "7e3a9c1d2b64")
    assert not there()
    open_database(pg_url).dispose()
    assert there()
