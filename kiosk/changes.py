"""Telling every station, on every laptop, that the event changed.

Every transaction that writes bumps the one row of ``change_counter`` just before it commits
(``track_changes`` hooks the session factory, so no service has to remember it). A station
learns the counter's new value and refreshes its lists only when it moved, instead of
reloading everything; it works the same on one laptop's SQLite file and on the venue's
PostgreSQL.

The bump is the last statement before COMMIT, after the session's pending writes are flushed,
so the counter row's lock is held for one round trip and is always the last lock a
transaction takes: it cannot be part of a deadlock. On PostgreSQL a trigger on the row
(migration 0018) adds ``pg_notify(CHANNEL, value)`` to that same statement: no second round
trip, and the server delivers the notification when, and only if, the transaction commits.

``ChangeWatcher`` never blocks the caller, so a window driving it from a timer on its main
thread never freezes when the venue LAN is gone; it reports the database unreachable, in words,
within a few seconds and keeps trying. On PostgreSQL it drives libpq's asynchronous connect and
queries (``psycopg.pq``) one non-blocking step per call, LISTENs on ``CHANNEL`` and then only
looks at its socket: notifications arrive as the other stations commit, and a station that sees
none sends nothing (no periodic query; TCP keepalives notice a vanished server, one empty query
after ``check_after`` seconds of silence a server that no longer answers). After every
(re)connect it reads the counter once, after LISTEN, so nothing committed while it was away
goes unseen. Where LISTEN is refused, and on SQLite, it reads the counter every ``interval``
seconds. libpq would resolve a host NAME before starting, blocking; the watcher has the name
resolved by a ``Lookup`` first (the window's runs on Qt's resolver threads) and gives libpq the
addresses with the name kept for TLS verify-full (``kiosk.lan_tls``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import select
import socket
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

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
_BUMP = text(_BUMP_SQL)  # built once: every writing transaction of the day sends it
# PostgreSQL: the trigger on change_counter (migration 0018) notifies this channel with the
# new value at every bump, delivered when the transaction commits.
CHANNEL = "kiosk_changes"
LISTEN_SQL = f"LISTEN {CHANNEL}"
# A connection that had been answering and fails is replaced at once, quietly, within this
# many seconds (then: unreachable, and the retries every ``retry`` seconds).
QUIET_RECONNECT = 2.0
# The watcher's own connection: named in pg_stat_activity, and TCP keepalives tuned for a
# connection that is silent by design (a vanished server is noticed in about four seconds
# without a query: probes after 2 s of silence, 1 s apart, two unanswered). The kernel
# answers them; the server's backend never wakes for one.
_WATCHER_PARAMS = {
    "application_name": "kiosk change watcher",
    "keepalives": "1",
    "keepalives_idle": "2",
    "keepalives_interval": "1",
    "keepalives_count": "2",
}


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


def noted_write(session: Session) -> bool:
    """This transaction wrote (a flush, a DML statement, a ``wrote`` call) and has not
    committed yet."""
    return bool(session.info.get(_WROTE))


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_WROTE, None)
    session.info.pop(_REACHED, None)


def _bump_before_commit(session: Session) -> None:
    # Pending ORM changes and audit records first, so the counter is the last row this
    # transaction locks. On PostgreSQL the audit append bumps it in its own round trip when
    # there are records (every service's write has one): one round trip less per action on
    # the venue LAN (issue #23).
    reached = audit.write_pending(session, bump=True)
    session.flush()
    if session.info.pop(_WROTE, False):
        if reached is None:
            reached = session.connection().execute(_BUMP).scalar()
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
    # Before ``kiosk.audit``'s own hook on every Session (``insert``), so the records go
    # with the bump; that hook then finds nothing left to write.
    event.listen(factory, "before_commit", _bump_before_commit, insert=True)
    event.listen(factory, "after_soft_rollback", _forget)
    event.listen(factory, "after_commit", _committed)
    return own


def read_counter(engine: Engine) -> int:
    """The counter now (a blocking read; the UI uses ``ChangeWatcher``)."""
    with engine.connect() as connection:
        return int(connection.execute(text(COUNTER_SQL)).scalar_one())


class Lookup(Protocol):
    """Finding a server's addresses from its host name without blocking the caller.

    ``start`` begins; ``result`` is None while the answer is on its way, then the addresses
    (empty when the name is unknown) and the reason in words; ``cancel`` forgets it. The
    window's is ``ui.live.HostLookup`` (Qt's own resolver threads: no Python thread);
    ``BlockingLookup`` is for the command line and tests, where waiting is fine.
    """

    def start(self, host: str) -> None: ...

    def result(self) -> tuple[tuple[str, ...], str] | None: ...

    def cancel(self) -> None: ...


class BlockingLookup:
    """``getaddrinfo`` in the caller: the answer is there when ``start`` returns."""

    def __init__(self) -> None:
        self._result: tuple[tuple[str, ...], str] | None = None

    def start(self, host: str) -> None:
        try:
            found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError as error:
            self._result = ((), str(error.strerror or error))
            return
        self._result = (tuple(dict.fromkeys(str(info[4][0]) for info in found)), "")

    def result(self) -> tuple[tuple[str, ...], str] | None:
        return self._result

    def cancel(self) -> None:
        self._result = None


def host_to_look_up(params: dict[str, Any]) -> str | None:
    """The host NAME libpq would resolve (blocking) before connecting, or None when there is
    nothing to resolve: an address, a local socket, a hostaddr given, or several hosts
    (left to libpq)."""
    host = str(params.get("host") or "")
    if params.get("hostaddr") or not host or "," in host or host.startswith(("/", "@")):
        return None
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    return None


def with_addresses(params: dict[str, Any], addresses: tuple[str, ...]) -> dict[str, Any]:
    """``params`` connecting to ``addresses`` (tried in turn, as libpq tries a name's) while
    keeping the host name: TLS verify-full checks the server's certificate against it."""
    host = str(params["host"])
    return {**params, "host": ",".join([host] * len(addresses)), "hostaddr": ",".join(addresses)}


@dataclass(frozen=True)
class Reading:
    """What one poll learnt.

    ``reachable`` is None while the first answer is still on its way; ``value`` is the counter
    when this poll learnt it (an answer, or a notification), else None; ``delay_ms`` is when
    to poll again.
    """

    reachable: bool | None
    value: int | None
    error: str
    delay_ms: int


class ChangeWatcher:
    """Learns the change counter's new values without ever blocking the caller.

    PostgreSQL: LISTEN on ``CHANNEL`` and pick the notifications up as they come (each poll
    a zero-timeout ``select`` on the socket, nothing sent); every ``interval`` seconds a
    counter read only where LISTEN is refused. SQLite: a counter read every ``interval``.
    ``queries`` counts the statements this watcher sent, ``notifications`` what it heard.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        interval: float = 1.0,
        timeout: float = 4.0,
        retry: float = 2.0,
        tick: float = 0.1,
        check_after: float = 30.0,
        listen: bool = True,
        lookup: Lookup | None = None,
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.timeout = timeout
        self.retry = retry
        self.tick = tick
        self.check_after = check_after
        self.listen = listen
        self.lookup: Lookup = lookup if lookup is not None else BlockingLookup()
        self.reachable: bool | None = None
        self.error = ""
        self.listening = False  # this connection LISTENs (else: the counter poll)
        self.queries = 0
        self.notifications = 0
        self._pg = engine.dialect.name == "postgresql"
        self._conn: Any = None  # psycopg.pq.PGconn
        # start / resolving / connecting / busy / listening / waiting (poll mode) / down
        self._phase = "start"
        self._want = "write"  # what the connect poll waits for
        self._query = ""  # what is on its way while busy: listen / read / check
        self._deadline = 0.0
        self._next = 0.0
        self._heard_at = 0.0  # when the server last said anything
        self._heard: int | None = None  # notified while a query was on its way
        self._stale = False  # a notification without a number: read the counter
        self._established = False  # the connection answered: a loss is retried at once
        self._quiet = False  # replacing a lost connection: not reported unless that fails
        self._budget = timeout  # how long this attempt may take
        if self._pg:
            from psycopg.conninfo import conninfo_to_dict

            url = make_url(engine.url).set(drivername="postgresql")
            params = conninfo_to_dict(url.render_as_string(hide_password=False))
            for key, value in _WATCHER_PARAMS.items():
                params.setdefault(key, value)
            self._params: dict[str, Any] = params
            self._host = host_to_look_up(params)

    # -- one step ----------------------------------------------------------------------------

    def poll(self) -> Reading:
        """Advance as far as possible without waiting; never raises."""
        now = time.monotonic()
        if not self._pg:
            return self._poll_blocking(now)
        try:
            return self._poll_pg(now)
        except Exception as error:  # any libpq failure is "unreachable", said in words
            return self._lost(now, str(error).strip().splitlines()[0] if str(error) else "")

    def _poll_blocking(self, now: float) -> Reading:
        """SQLite: a local file read takes microseconds, so a plain read is fine."""
        try:
            self.queries += 1
            value = read_counter(self.engine)
        except Exception as error:
            self.reachable, self.error = False, str(error).splitlines()[0]
            return Reading(False, None, self.error, int(self.retry * 1000))
        self.reachable, self.error = True, ""
        return Reading(True, value, "", int(self.interval * 1000))

    def _poll_pg(self, now: float) -> Reading:
        if self._phase == "down":
            if now < self._next:
                return self._reading(None, self._next - now)
            self._phase = "start"
        if self._phase == "start":
            self._begin(now)
        if self._phase == "resolving" and (reading := self._resolved(now)) is not None:
            return reading
        if self._phase == "connecting" and (reading := self._connected(now)) is not None:
            return reading
        if self._phase == "waiting":
            if now < self._next:
                return self._reading(None, self._next - now)
            self._send(COUNTER_SQL, "read", now)
        if self._phase == "listening" and (reading := self._listened(now)) is not None:
            return reading
        return self._answered(now)

    def _begin(self, now: float) -> None:
        self._budget = min(self.timeout, QUIET_RECONNECT) if self._quiet else self.timeout
        self._quiet = False
        self._deadline = now + self._budget
        if self._host is None:
            self._start_connect(self._params)
            return
        self.lookup.start(self._host)
        self._phase = "resolving"

    def _resolved(self, now: float) -> Reading | None:
        found = self.lookup.result()
        if found is None:
            if now > self._deadline:
                self.lookup.cancel()
                return self._down(now, _("no answer within {s} seconds").format(s=self._budget))
            return self._reading(None, 0.02)
        addresses, reason = found
        self.lookup.cancel()
        if not addresses:
            return self._down(
                now,
                _("the server name {host} is not known on this network ({reason})").format(
                    host=self._host, reason=reason
                ),
            )
        self._start_connect(with_addresses(self._params, addresses))
        return None

    def _start_connect(self, params: dict[str, Any]) -> None:
        from psycopg import pq
        from psycopg.conninfo import make_conninfo

        self._conn = pq.PGconn.connect_start(make_conninfo("", **params).encode())
        if self._conn.status == pq.ConnStatus.BAD:
            raise _Failed(self._conn.get_error_message())
        self._phase, self._want = "connecting", "write"

    def _connected(self, now: float) -> Reading | None:
        from psycopg import pq

        if self._ready(self._want):
            status = self._conn.connect_poll()
            if status == pq.PollingStatus.OK:
                self._conn.nonblocking = 1
                if self.listen:
                    self._send(LISTEN_SQL, "listen", now)
                else:
                    self._send(COUNTER_SQL, "read", now)
                return None
            if status == pq.PollingStatus.FAILED:
                raise _Failed(self._conn.get_error_message())
            self._want = "read" if status == pq.PollingStatus.READING else "write"
        if now > self._deadline:
            return self._down(now, _("no answer within {s} seconds").format(s=self._budget))
        return self._reading(None, 0.02)

    def _listened(self, now: float) -> Reading | None:
        """A healthy LISTEN connection: what the server pushed, or nothing; a zero-timeout
        select when nothing came. After ``check_after`` seconds of silence one empty query
        asks whether the server still answers (TCP keepalives notice a vanished one sooner:
        the socket then reads as an error)."""
        from psycopg import pq

        if self._ready("read"):
            self._conn.consume_input()  # raises when the connection is gone
            self._heard_at = now
        if self._conn.status != pq.ConnStatus.OK:
            raise _Failed(self._conn.get_error_message())
        value = self._notified()
        if value is not None and not self._stale:
            self.reachable, self.error = True, ""
            return Reading(True, value, "", self._ms(self.tick))
        if self._stale:
            self._send(COUNTER_SQL, "read", now)
            return None
        if now - self._heard_at >= self.check_after:
            self._send("", "check", now)
            return None
        return self._reading(None, self.tick)

    def _answered(self, now: float) -> Reading:
        """A query is on its way: its answer, once all of it is here."""
        from psycopg import pq

        if self._conn.flush() == 0 and self._ready("read"):
            self._conn.consume_input()
        heard = self._notified()
        if heard is not None:
            self._heard = heard if self._heard is None else max(self._heard, heard)
        if self._conn.is_busy():
            if now > self._deadline:
                return self._down(now, _("no answer within {s} seconds").format(s=self.timeout))
            return self._reading(None, 0.02)
        value, error, ok = None, "", True
        while (result := self._conn.get_result()) is not None:
            if result.status == pq.ExecStatus.TUPLES_OK and result.ntuples:
                value = int(result.get_value(0, 0))
            elif result.status not in (
                pq.ExecStatus.TUPLES_OK,
                pq.ExecStatus.COMMAND_OK,
                pq.ExecStatus.EMPTY_QUERY,
            ):
                ok = False
                error = (result.error_message or b"").decode("utf-8", "replace").strip()
        if self._conn.status != pq.ConnStatus.OK:
            raise _Failed(error or self._conn.get_error_message())
        self._established, self._heard_at = True, now
        query, self._query = self._query, ""
        if query == "listen":
            # Refused (a server in recovery, a pooler): the counter poll, as on SQLite.
            self.listening = ok
            self._send(COUNTER_SQL, "read", now)
            return self._reading(None, 0.02)
        if query == "check":
            self._phase = "listening"
            self.reachable, self.error = True, ""
            return self._listened(now) or self._reading(None, self.tick)
        if value is None:
            return self._down(now, error or self._conn.get_error_message())
        if self._heard is not None:
            value, self._heard = max(value, self._heard), None
        self._stale = False
        self.reachable, self.error = True, ""
        if self.listening:
            self._phase = "listening"
            return Reading(True, value, "", self._ms(self.tick))
        self._phase, self._next = "waiting", now + self.interval
        return Reading(True, value, "", self._ms(self.interval))

    # -- helpers -----------------------------------------------------------------------------

    def _send(self, sql: str, query: str, now: float) -> None:
        self._conn.send_query(sql.encode())
        self._conn.flush()
        self.queries += 1
        self._phase, self._query, self._deadline = "busy", query, now + self.timeout

    def _notified(self) -> int | None:
        """The newest counter value among the notifications received (None: none)."""
        value = None
        while (notify := self._conn.notifies()) is not None:
            self.notifications += 1
            try:
                value = int(notify.extra)
            except ValueError:
                self._stale = True  # someone else's NOTIFY on the channel: read the counter
        return value

    def _ready(self, want: str) -> bool:
        sock = self._conn.socket
        readable, writable, _x = select.select(
            [sock] if want == "read" else [], [sock] if want == "write" else [], [], 0
        )
        return bool(readable or writable)

    @staticmethod
    def _ms(delay: float) -> int:
        return max(10, int(delay * 1000))

    def _reading(self, value: int | None, delay: float) -> Reading:
        return Reading(self.reachable, value, self.error, self._ms(delay))

    def _lost(self, now: float, reason: Any) -> Reading:
        """The connection failed. One that had been answering is replaced at once, quietly
        (a restarted server, a backend ended by an administrator); only when the new one
        fails too is the server reported unreachable."""
        if self._established and self.reachable and self._phase not in ("start", "down"):
            self.close()
            self._quiet = True
            try:
                return self._poll_pg(now)
            except Exception as error:
                reason = str(error).strip().splitlines()[0] if str(error) else reason
        return self._down(now, reason)

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
        if self._phase == "resolving":
            self.lookup.cancel()
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.finish()
        self._conn = None
        self._phase, self._query, self._heard = "start", "", None
        self._established = self.listening = self._stale = False

    def wait(self, timeout: float = 10.0) -> Reading:
        """Poll until a value or a failure (for the CLI and tests; blocks): the first reading,
        then, LISTENing, the next notification, at most ``timeout`` seconds."""
        end = time.monotonic() + timeout
        while True:
            reading = self.poll()
            if reading.value is not None or reading.reachable is False:
                return reading
            if time.monotonic() > end:
                return reading
            time.sleep(min(reading.delay_ms, 20) / 1000)


class _Failed(Exception):
    """libpq said no (its message, bytes or text)."""

    def __init__(self, message: bytes | str) -> None:
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        super().__init__(message)
