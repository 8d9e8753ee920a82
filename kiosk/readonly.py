"""A transaction that only read ends with COMMIT on PostgreSQL, so its connection keeps its
prepared statements (issue #23).

psycopg prepares a statement on the server once a connection has run it five times
(``prepare_threshold``): from then on the server neither parses nor plans it again, and for
the many-joined selects of a check-in or a slip the planning is a good part of the server's
work. But psycopg forgets every prepared statement at each ROLLBACK and sends ``DEALLOCATE
ALL`` (a rollback may undo DDL they depend on). A unit of work that only reads ends with a
rollback (``kiosk.uow``), so every refresh of a station's screen, every read-only action and
every booth's look-up wiped the connection's prepared statements: the next five runs of each
statement were planned afresh and the sixth prepared again, and the ``DEALLOCATE ALL`` was a
round trip more, unseen by ``kiosk.roundtrips``.

For a transaction that changed nothing, COMMIT and ROLLBACK end it alike (no write to keep or
undo, its locks released either way), and psycopg leaves its prepared statements alone at a
COMMIT. So ``ending`` tells ``kiosk.uow`` when a block that ends without an error may end
that way: the session holds nothing unwritten or unflushed, it noted no write
(``kiosk.changes``, ``kiosk.audit``), and every statement its connection sent in the
transaction was a compiled ``select()``, perhaps FOR UPDATE (the engine's listener here marks
anything else: INSERT, UPDATE, DELETE, text and driver SQL; and a locking read, whose COMMIT
need not wait for the disk: ``end_locks``). A write sent behind SQLAlchemy's back
(``kiosk.bulk``'s COPY) marks itself with ``mark_written``. Anything in doubt, and every block
that ends with an error, is rolled back as before.
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Engine, Select, event
from sqlalchemy.orm import Session

# In the DBAPI connection's info (kept across checkouts): its transaction sent more than reads,
# or locking reads (FOR UPDATE) among its reads.
SENT_MORE = "kiosk_sent_more_than_reads"
LOCKED = "kiosk_locked_rows"


class Ending(enum.Enum):
    """How a unit of work that ends without an error ends its transaction."""

    ROLLBACK = "rollback"  # it may have written (or SQLite, or no transaction)
    COMMIT = "commit"  # it only read: COMMIT keeps the prepared statements
    COMMIT_LOCKS = "commit locks"  # it read and locked rows, wrote nothing: COMMIT, not waited


def track(engine: Engine) -> None:
    """Mark each of ``engine``'s connections whose transaction sends more than plain reads."""
    event.listen(engine, "before_cursor_execute", _sent)
    event.listen(engine, "commit", _ended)
    event.listen(engine, "rollback", _ended)
    event.listen(engine.pool, "reset", _reset)


def _reset(_dbapi_connection: Any, record: Any, _state: Any) -> None:
    # The pool ended a transaction left open (its reset is a rollback): the next starts clean.
    _clear(record.info)


def _sent(conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: Any) -> None:
    statement = getattr(getattr(context, "compiled", None), "statement", None)
    if not isinstance(statement, Select):
        conn.info[SENT_MORE] = True
    elif statement._for_update_arg is not None:
        conn.info[LOCKED] = True


def _ended(conn: Any) -> None:
    if conn.invalidated or conn.closed:
        return  # its DBAPI connection is gone (a dropped network): nothing to clear on it
    _clear(conn.info)


def _clear(info: dict[str, Any]) -> None:
    info.pop(SENT_MORE, None)
    info.pop(LOCKED, None)


def mark_written(connection: Any) -> None:
    """Say that ``connection``'s transaction wrote behind SQLAlchemy's back (a COPY)."""
    connection.info[SENT_MORE] = True


def ending(session: Session) -> Ending:
    """How ``session``'s transaction may end when its block ends without an error: on
    PostgreSQL, one that read and nothing else ends with COMMIT, which keeps its connection's
    prepared statements and changes nothing a ROLLBACK would undo.

    A transaction that also locked rows (``SELECT … FOR UPDATE``) and then wrote nothing — a
    booth's redemption refused at the gateway because the slip was redeemed elsewhere, a call
    for the next customer that found nobody — ends with COMMIT too, for the same reason: its
    ROLLBACK wiped the prepared statements, and at the gateway every refusal did so for the
    redemptions that followed. Locking a row writes to the server's log, so such a COMMIT
    would wait for the disk like a real write's; ``end_locks`` tells the server not to wait
    (nothing of value is in it: were the server to stop before the flush, the transaction
    counts as rolled back, which is what a ROLLBACK would have made of it)."""
    from kiosk.audit import has_pending
    from kiosk.changes import noted_write

    if not session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return Ending.ROLLBACK
    if session.new or session.dirty or session.deleted:
        return Ending.ROLLBACK
    if noted_write(session) or has_pending(session):
        return Ending.ROLLBACK
    info = session.connection().info
    if info.get(SENT_MORE, False):
        return Ending.ROLLBACK
    return Ending.COMMIT_LOCKS if info.get(LOCKED, False) else Ending.COMMIT


def end_locks(session: Session) -> None:
    """Before the COMMIT of an ``Ending.COMMIT_LOCKS`` transaction: its commit need not wait
    for the server's disk (``SET LOCAL``: this transaction only)."""
    session.connection().exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
