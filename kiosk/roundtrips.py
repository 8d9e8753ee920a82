"""Counting the round trips an action makes to the event database (issue #23).

On the venue LAN every request a station sends to PostgreSQL and waits for costs one network
round trip (0.5–2 ms on a good LAN, far more on a busy Wi-Fi), on top of the server's work. An
action's speed on the day is therefore mostly *how many times it waits*, which a benchmark on
loopback hides. ``count(engine)`` tells it, in the same unit for every action, so the LAN
benchmark can print it and a test can hold an action to its number.

What counts as one round trip (what the driver sends and then waits for):

- every statement executed (``executemany`` too: psycopg 3 pipelines it into one exchange);
- on PostgreSQL, the ``BEGIN`` psycopg sends before a transaction's first statement;
- a ``COMMIT`` or ``ROLLBACK`` of a transaction that sent anything;
- the pool's liveness ping when a pooled connection is handed out (``pool_pre_ping``, or
  ``kiosk.pool_ping``'s when the connection idled long or its socket says something);
- a new connection counts once in ``connects`` (its handshake is several exchanges, TLS and
  authentication, but it happens once per station, not per action).

SQLite has no network, but counting there too lets a test hold an action's statements down on
both backends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from kiosk.pool_ping import PINGED


@dataclass
class RoundTrips:
    """What one ``count`` block sent: totals and, for reading a failing test, the statements."""

    statements: int = 0
    begins: int = 0
    ends: int = 0  # COMMIT or ROLLBACK of a transaction that sent something
    pings: int = 0
    connects: int = 0
    sql: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Round trips to the server: everything except new connections' handshakes."""
        return self.statements + self.begins + self.ends + self.pings

    def __str__(self) -> str:
        return (
            f"{self.total} round trips ({self.statements} statements, {self.begins} BEGIN, "
            f"{self.ends} COMMIT/ROLLBACK, {self.pings} pings; {self.connects} new connections)"
        )


@contextlib.contextmanager
def count(engine: Engine, *, keep_sql: bool = False) -> Iterator[RoundTrips]:
    """Count the round trips ``engine`` makes inside the block (from every thread)."""
    trips = RoundTrips()
    postgres = engine.dialect.name == "postgresql"
    pre_ping = bool(getattr(engine.pool, "_pre_ping", False))
    sent: dict[int, bool] = {}  # per DBAPI connection: did this transaction send anything
    fresh: set[int] = set()  # pool records connected inside the block: not pinged yet

    def executed(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        key = id(conn.connection.dbapi_connection)
        if postgres and not sent.get(key) and conn.in_transaction():
            trips.begins += 1
        sent[key] = True
        trips.statements += 1
        if keep_sql:
            trips.sql.append(" ".join(statement.split())[:200])

    def ended(conn: Any) -> None:
        key = id(conn.connection.dbapi_connection)
        if sent.pop(key, False):
            trips.ends += 1

    def checkout(_dbapi: Any, record: Any, _proxy: Any) -> None:
        if (pre_ping and id(record) not in fresh) or record.info.get(PINGED):
            trips.pings += 1
        fresh.discard(id(record))

    def connected(_dbapi: Any, record: Any) -> None:
        trips.connects += 1
        fresh.add(id(record))

    listeners: list[tuple[Any, str, Any]] = [
        (engine, "before_cursor_execute", executed),
        (engine, "commit", ended),
        (engine, "rollback", ended),
        (engine.pool, "checkout", checkout),
        (engine.pool, "connect", connected),
    ]
    for target, name, function in listeners:
        event.listen(target, name, function)
    try:
        yield trips
    finally:
        for target, name, function in listeners:
            event.remove(target, name, function)
