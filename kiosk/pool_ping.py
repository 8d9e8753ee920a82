"""Checking a pooled PostgreSQL connection is alive only when it may not be (issue #23).

SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` every time a connection is handed out: one
more round trip on every action, ~2 ms on the venue LAN, to guard against a connection that
died while it sat in the pool. Most connections are handed out again within a second of
being returned, and a connection that died in that second almost always says so: when the
server restarts or ends a session (``pg_terminate_backend``, a proxy or the cable cut with a
reset) the server's goodbye or the socket's end arrives on it and makes it readable while
idle. So a connection is pinged only when:

- it sat in the pool longer than ``IDLE_SECONDS`` (a silent death, a NAT or firewall that
  forgot it: these need time), or
- its socket has something to read while idle (nothing is owed to an idle connection: it is
  the server saying goodbye, or a notice; the ping tells which), or psycopg knows it broken.

A failed ping raises ``DisconnectionError`` in the pool's checkout, so the pool throws the
connection away and hands out a new one, exactly as ``pool_pre_ping`` did; when no new one
can be made, the action fails with the same "cannot be reached; nothing was saved" sentence
(``kiosk.uow``). A connection that died silently within the last ``IDLE_SECONDS`` fails on
its first statement instead, before anything was written; SQLAlchemy then invalidates the
pool's other connections too, and doing the action again works, as the sentence says.

``kiosk.roundtrips`` counts these pings (``PINGED`` in the record's info).
"""

from __future__ import annotations

import select
import time
from typing import Any

from sqlalchemy import Engine, event, exc

IDLE_SECONDS = 30.0
_RETURNED = "kiosk_returned_at"  # monotonic time the connection went back to the pool
PINGED = "kiosk_pinged"  # this checkout sent a ping (for kiosk.roundtrips)


def _said_something(dbapi_connection: Any) -> bool:
    """The idle connection is closed, broken, or has bytes waiting: worth a ping."""
    if getattr(dbapi_connection, "closed", False) or getattr(dbapi_connection, "broken", False):
        return True
    try:
        fd = dbapi_connection.fileno()
    except Exception:  # no socket any more
        return True
    if hasattr(select, "poll"):  # any descriptor number
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    readable, _writable, broken = select.select([fd], [], [fd], 0)  # Windows: sockets only
    return bool(readable or broken)


def ping_when_idle(engine: Engine, idle_seconds: float = IDLE_SECONDS) -> None:
    """Ping ``engine``'s pooled connections at checkout only when they may have died."""

    def connected(_dbapi: Any, record: Any) -> None:
        record.info[_RETURNED] = time.monotonic()  # just made: alive

    def returned(_dbapi: Any, record: Any) -> None:
        record.info[_RETURNED] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_RETURNED)
        record.info[PINGED] = False
        if (
            since is not None
            and time.monotonic() - since <= idle_seconds
            and not _said_something(dbapi_connection)
        ):
            return
        record.info[PINGED] = True
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # As pool_pre_ping: the pool discards this connection and connects anew.
            raise exc.DisconnectionError(str(error)) from error

    event.listen(engine.pool, "connect", connected)
    event.listen(engine.pool, "checkin", returned)
    event.listen(engine.pool, "checkout", checkout)
