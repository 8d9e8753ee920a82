"""Every wait of a station on the event database bounded, and said while it lasts.

On the venue LAN a packet can be dropped silently: a switch dies, a laptop's Wi-Fi goes out
of range. The connection stays open and the station hears nothing, no error, no answer. TCP
keepalives and ``tcp_user_timeout`` (``kiosk.db``) end such a connection only after about ten
seconds, and not at all when something on the way (a proxy, a NAT box) still acknowledges
the bytes. A station must not freeze that long: ``BoundedConnection`` (the psycopg
connection a station's engine makes) gives every round trip a deadline of its own, ``bound``
seconds (``STATION_BOUND``), and when no answer came by then closes the connection and
raises ``psycopg.OperationalError``. ``kiosk.uow`` turns that into the usual sentence: the
event database cannot be reached, nothing was saved (the server rolls back a transaction
whose connection is gone), or for a lost COMMIT the idempotency probe and ``OutcomeUnknown``.
With ``connect_timeout`` (``CONNECT_TIMEOUT``) for a new connection, a station action on a
frozen network ends within ``bound`` seconds, or ``bound + CONNECT_TIMEOUT`` when its COMMIT
was cut off and the probe has to reconnect to ask.

The server is asked to give up first, in words it can explain: a station's connections have
``lock_timeout`` and ``statement_timeout`` just under the bound (``server_options``), so a
station waiting behind another's lock, or a statement that is merely slow, ends with "busy,
try again" (``kiosk.uow``) while the connection stays good; and ``idle_in_transaction_
session_timeout`` plus server-side TCP keepalives end the session of a station that went
silent mid-transaction, so its row locks do not hold the other desks up.

A long operation (an import, an export, a migration, copying an event) is not a round trip
of a desk action: it runs inside ``patient()``, which lifts the client's deadline for this
thread and the server's timeouts for the transactions it begins (one ``set_config`` round
trip each, ``lift_server_timeouts``). Command-line tools make engines without a bound.

The wait itself stays on the calling thread: a station's action runs on a worker thread of
the window (``ui.operations``), so the window keeps painting meanwhile; a read the window makes
on its own thread is bounded the same way. A wait that lasts longer than ``FIRST_TICK`` calls
the ``watching`` callbacks every ``TICK`` seconds with the time waited so far, so that read can
show what it is waiting for (``ui.operations.waiting``); ``unwatched`` takes them away for a
call handed to a worker. The fast path is psycopg's own wait
(its C implementation) with a short timeout: an answer in milliseconds costs about 2 µs more
than before. Going on after that timeout relies on psycopg 3.3 (pinned) leaving its
generator resumable after ``errors._WaitTimeout`` and answering ``Ready.NONE`` with what it
waits for; tests/integration/test_net_faults.py fails if an upgrade changes that.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

# Seconds a station waits for one answer from the event database (a round trip: a statement,
# BEGIN, COMMIT, a pool ping) before it gives up and says so.
STATION_BOUND = 3.0
# Seconds a station waits for a new connection (libpq's connect_timeout; psycopg's minimum
# is 2).
CONNECT_TIMEOUT = 2
# Seconds a command (``kiosk sync push``, every command-line tool) waits for any one answer
# from the event database or the points ledger, and for a new connection to either: a peer
# that went silent (a frozen server, a dead switch, TCP still open) ends the command with a
# sentence instead of hanging it. Generous, as a command's statements may be long; only a
# client-side deadline (a command's server keeps its own timeouts). ``KIOSK_COMMAND_BOUND``
# (seconds) changes it for one run.
COMMAND_BOUND = 30.0
COMMAND_CONNECT_TIMEOUT = 5
ENV_COMMAND_BOUND = "KIOSK_COMMAND_BOUND"
# After this long a wait is said on screen (the watchers are called), then every TICK.
FIRST_TICK = 0.3
TICK = 0.1

_patient: ContextVar[bool] = ContextVar("kiosk_netwait_patient", default=False)
_watchers: ContextVar[tuple[Callable[[float], None], ...]] = ContextVar(
    "kiosk_netwait_watchers", default=()
)


@contextlib.contextmanager
def patient() -> Iterator[None]:
    """A long operation: no client deadline, and the server's timeouts lifted for every
    transaction it begins (``lift_server_timeouts``)."""
    token = _patient.set(True)
    try:
        yield
    finally:
        _patient.reset(token)


def command_bound() -> float:
    """``COMMAND_BOUND``, or ``KIOSK_COMMAND_BOUND`` when it is a number of seconds above 0."""
    try:
        value = float(os.environ.get(ENV_COMMAND_BOUND, ""))
    except ValueError:
        return COMMAND_BOUND
    return value if math.isfinite(value) and value > 0 else COMMAND_BOUND


def is_patient() -> bool:
    return _patient.get()


@contextlib.contextmanager
def watching(callback: Callable[[float], None]) -> Iterator[None]:
    """Call ``callback(seconds waited)`` while a wait on the database lasts (see module)."""
    token = _watchers.set((*_watchers.get(), callback))
    try:
        yield
    finally:
        _watchers.reset(token)


@contextlib.contextmanager
def unwatched() -> Iterator[None]:
    """No watcher called in this block: a call run on a worker thread for a window (its
    watchers are the window's, to be called on its own thread only)."""
    token = _watchers.set(())
    try:
        yield
    finally:
        _watchers.reset(token)


def server_options(bound: float) -> str:
    """libpq ``options`` for a station's connections: the server gives up before the client
    does, and ends the session of a station gone silent (see the module docstring)."""
    ms = int(bound * 1000)
    settings = {
        "statement_timeout": ms * 8 // 10,
        "lock_timeout": ms * 6 // 10,
        # A station's transaction lasts milliseconds; ten seconds (at the 3 s bound) idle in
        # one means it is gone (its network frozen, the laptop asleep): its locks are freed.
        "idle_in_transaction_session_timeout": ms * 10 // 3,
        # The server's side of the same connection: a station that vanished is noticed.
        "tcp_keepalives_idle": 5,
        "tcp_keepalives_interval": 2,
        "tcp_keepalives_count": 3,
        "tcp_user_timeout": 10_000,
        "client_connection_check_interval": 2_000,  # PostgreSQL 14+
    }
    return " ".join(f"-c {name}={value}" for name, value in settings.items())


def lift_server_timeouts(connection: Any) -> None:
    """SQLAlchemy ``begin`` listener: inside ``patient()`` a transaction may take as long as
    it needs (one round trip; a desk action pays nothing)."""
    if _patient.get():
        connection.exec_driver_sql(
            "SELECT set_config('statement_timeout', '0', true), "
            "set_config('lock_timeout', '0', true), "
            "set_config('idle_in_transaction_session_timeout', '0', true)"
        )


def connector(bound: float | None) -> Callable[..., Any]:
    """A ``do_connect`` listener making ``BoundedConnection``s with ``bound``."""

    def connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        from kiosk.netwait_pg import BoundedConnection

        connection = BoundedConnection.connect(*cargs, **cparams)
        connection.bound = bound
        return connection

    return connect


def __getattr__(name: str) -> Any:
    """``NoAnswer`` and ``BoundedConnection`` live in ``kiosk.netwait_pg``, which imports
    psycopg: only a PostgreSQL event database needs them, and a booth laptop (SQLite only, the
    booth build without psycopg: freeze/kiosk-booth.spec) imports this module without it."""
    if name in ("NoAnswer", "BoundedConnection"):
        from kiosk import netwait_pg

        return getattr(netwait_pg, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
