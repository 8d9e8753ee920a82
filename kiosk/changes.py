"""Telling every station, on every laptop, that the event changed.

Every transaction that writes bumps the one row of ``change_counter`` just before it commits
(``track_changes`` hooks the session factory, so no service has to remember it). A station
reads that one value every second and refreshes its lists only when it moved: one indexed
single-row read per second per station instead of reloading everything, and it works the same
on one laptop's SQLite file and on the venue's PostgreSQL.

The bump is the last statement before COMMIT, after the session's pending writes are flushed,
so the counter row's lock is held for one round trip and is always the last lock a
transaction takes: it cannot be part of a deadlock.

``ChangeWatcher`` reads the counter without ever blocking the caller on PostgreSQL: it drives
libpq's asynchronous connect and query (``psycopg.pq``) one non-blocking step per call, so a
window polling it from a timer on its main thread never freezes when the venue LAN is gone;
it just reports the database unreachable after a few seconds and keeps trying. (libpq
resolves a host NAME before it starts; give stations the server's address, as
``kiosk db serve-help`` does, and nothing in the poll can block.)
"""

from __future__ import annotations

import contextlib
import itertools
import select
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.sql.elements import TextClause

from kiosk import audit
from kiosk.i18n import _

_WROTE = "kiosk_wrote"
_REACHED = "kiosk_counter_reached"
COUNTER_SQL = "SELECT value FROM change_counter WHERE id = 1"
# RETURNING (SQLite 3.35+, PostgreSQL): the value this transaction made, in the same statement.
_BUMP_SQL = "UPDATE change_counter SET value = value + 1 WHERE id = 1 RETURNING value"


class OwnCommits:
    """The counter values this process's own commits reached, newest last.

    A window that acted refreshes at once; when the counter then moves by exactly its own
    commits, that is its own echo and nothing needs reloading (``ui.live``). Only committed
    values are kept: a rolled-back bump is nobody's, and another laptop may reach it next.
    """

    def __init__(self, keep: int = 1024) -> None:
        self._values: deque[tuple[int, int]] = deque(maxlen=keep)  # (sequence, value)
        self._sequence = itertools.count(1)
        self._last = 0

    def add(self, value: int) -> None:
        self._last = next(self._sequence)
        self._values.append((self._last, value))

    def mark(self) -> int:
        """A bookmark: ``since(mark)`` is what was committed after it."""
        return self._last

    def since(self, mark: int) -> list[int]:
        return [value for sequence, value in self._values if sequence > mark]


def _mark(session: Session, *_args: Any) -> None:
    session.info[_WROTE] = True


def wrote(session: Session) -> None:
    """Say that ``session`` writes, for writes no ORM event sees (``kiosk.bulk``'s COPY)."""
    _mark(session)


_DML = ("INSERT", "UPDATE", "DELETE")


def _mark_dml(state: ORMExecuteState) -> None:
    statement = state.statement
    if getattr(getattr(statement, "table", None), "name", None) in audit.QUIET:
        return  # a station's heartbeat: nothing for the other stations to reload
    if (
        state.is_insert
        or state.is_update
        or state.is_delete
        or (isinstance(statement, TextClause) and statement.text.lstrip().upper().startswith(_DML))
    ):
        state.session.info[_WROTE] = True


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_WROTE, None)
    session.info.pop(_REACHED, None)


def _bump_before_commit(session: Session) -> None:
    # Pending ORM changes and audit records first, so the counter is the last row this
    # transaction locks.
    audit.write_pending(session)
    session.flush()
    if session.info.pop(_WROTE, False):
        reached = session.connection().execute(text(_BUMP_SQL)).scalar()
        session.info[_REACHED] = reached


def track_changes(factory: sessionmaker[Session]) -> OwnCommits:
    """Bump the change counter in every transaction of ``factory`` that writes; the values
    its commits reach are kept in the ``OwnCommits`` returned."""
    own = OwnCommits()

    def _committed(session: Session) -> None:
        reached = session.info.pop(_REACHED, None)
        if reached is not None:
            own.add(int(reached))
        _forget(session)

    event.listen(factory, "after_flush", _mark)
    event.listen(factory, "do_orm_execute", _mark_dml)
    event.listen(factory, "before_commit", _bump_before_commit)
    event.listen(factory, "after_soft_rollback", _forget)
    event.listen(factory, "after_commit", _committed)
    return own


def read_counter(engine: Engine) -> int:
    """The counter now (a blocking read; the UI uses ``ChangeWatcher``)."""
    with engine.connect() as connection:
        return int(connection.execute(text(COUNTER_SQL)).scalar_one())


@dataclass(frozen=True)
class Reading:
    """What one poll learnt.

    ``reachable`` is None while the first answer is still on its way; ``value`` is the counter
    when this poll got an answer, else None; ``delay_ms`` is when to poll again.
    """

    reachable: bool | None
    value: int | None
    error: str
    delay_ms: int


class ChangeWatcher:
    """Reads the change counter every ``interval`` seconds without blocking the caller."""

    def __init__(
        self,
        engine: Engine,
        *,
        interval: float = 1.0,
        timeout: float = 4.0,
        retry: float = 2.0,
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.timeout = timeout
        self.retry = retry
        self.reachable: bool | None = None
        self.error = ""
        self._pg = engine.dialect.name == "postgresql"
        self._conn: Any = None  # psycopg.pq.PGconn
        self._phase = "idle"  # idle / connecting / busy / down
        self._want = "write"  # what the connect poll waits for
        self._deadline = 0.0
        self._next = 0.0
        if self._pg:
            url = make_url(engine.url).set(drivername="postgresql")
            self._conninfo = url.render_as_string(hide_password=False).encode()

    # -- one step ----------------------------------------------------------------------------

    def poll(self) -> Reading:
        """Advance as far as possible without waiting; never raises."""
        now = time.monotonic()
        if not self._pg:
            return self._poll_blocking(now)
        try:
            return self._poll_pg(now)
        except Exception as error:  # any libpq failure is "unreachable", said in words
            return self._down(now, str(error).strip().splitlines()[0] if str(error) else "")

    def _poll_blocking(self, now: float) -> Reading:
        """SQLite: a local file read takes microseconds, so a plain read is fine."""
        try:
            value = read_counter(self.engine)
        except Exception as error:
            self.reachable, self.error = False, str(error).splitlines()[0]
            return Reading(False, None, self.error, int(self.retry * 1000))
        self.reachable, self.error = True, ""
        return Reading(True, value, "", int(self.interval * 1000))

    def _poll_pg(self, now: float) -> Reading:
        from psycopg import pq

        if self._phase == "down" and now < self._next:
            return self._reading(None, self._next - now)
        if self._conn is None:
            self._conn = pq.PGconn.connect_start(self._conninfo)
            if self._conn.status == pq.ConnStatus.BAD:
                return self._down(now, self._conn.get_error_message())
            self._phase, self._want, self._deadline = "connecting", "write", now + self.timeout
        if self._phase == "connecting":
            if self._ready(self._want):
                status = self._conn.connect_poll()
                if status == pq.PollingStatus.OK:
                    self._conn.nonblocking = 1
                    self._phase, self._next = "idle", now
                elif status == pq.PollingStatus.FAILED:
                    return self._down(now, self._conn.get_error_message())
                else:
                    self._want = "read" if status == pq.PollingStatus.READING else "write"
            if self._phase == "connecting":
                if now > self._deadline:
                    return self._down(now, _("no answer within {s} seconds").format(s=self.timeout))
                return self._reading(None, 0.02)
        if self._phase == "idle":
            if now < self._next:
                return self._reading(None, self._next - now)
            if self._conn.status != pq.ConnStatus.OK:
                return self._down(now, self._conn.get_error_message())
            self._conn.send_query(COUNTER_SQL.encode())
            self._conn.flush()
            self._phase, self._deadline = "busy", now + self.timeout
        # busy: a query is on its way
        if self._ready("read"):
            self._conn.consume_input()
        if self._conn.is_busy():
            if now > self._deadline:
                return self._down(now, _("no answer within {s} seconds").format(s=self.timeout))
            return self._reading(None, 0.02)
        value, error = None, ""
        while (result := self._conn.get_result()) is not None:
            if result.status == pq.ExecStatus.TUPLES_OK and result.ntuples:
                value = int(result.get_value(0, 0))
            elif result.status != pq.ExecStatus.TUPLES_OK:
                error = (result.error_message or b"").decode("utf-8", "replace").strip()
        if value is None:
            return self._down(now, error or self._conn.get_error_message())
        self._phase, self._next = "idle", now + self.interval
        self.reachable, self.error = True, ""
        return Reading(True, value, "", int(self.interval * 1000))

    # -- helpers -----------------------------------------------------------------------------

    def _ready(self, want: str) -> bool:
        sock = self._conn.socket
        readable, writable, _x = select.select(
            [sock] if want == "read" else [], [sock] if want == "write" else [], [], 0
        )
        return bool(readable or writable)

    def _reading(self, value: int | None, delay: float) -> Reading:
        return Reading(self.reachable, value, self.error, max(10, int(delay * 1000)))

    def _down(self, now: float, reason: Any) -> Reading:
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        self.close()
        self._phase, self._next = "down", now + self.retry
        self.reachable = False
        self.error = str(reason).strip().splitlines()[0] if str(reason).strip() else ""
        return Reading(False, None, self.error, int(self.retry * 1000))

    def close(self) -> None:
        """Drop the watcher's connection (it reconnects on the next poll)."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.finish()
        self._conn = None
        self._phase = "idle"

    def wait(self, timeout: float = 10.0) -> Reading:
        """Poll until an answer or a failure (for the CLI and tests; blocks)."""
        end = time.monotonic() + timeout
        while True:
            reading = self.poll()
            if reading.value is not None or reading.reachable is False:
                return reading
            if time.monotonic() > end:
                return reading
            time.sleep(min(reading.delay_ms, 20) / 1000)
