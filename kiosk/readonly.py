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
COMMIT. So ``only_read`` tells ``kiosk.uow`` when a block that ends without an error may end
that way: the session holds nothing unwritten or unflushed, it noted no write
(``kiosk.changes``, ``kiosk.audit``), and every statement its connection sent in the
transaction was a compiled ``select()`` without FOR UPDATE (the engine's listener here marks
anything else: INSERT, UPDATE, DELETE, text and driver SQL, a locking read). A write sent
behind SQLAlchemy's back (``kiosk.bulk``'s COPY) marks itself with ``mark_written``. Anything
in doubt, and every block that ends with an error, is rolled back as before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Select, event
from sqlalchemy.orm import Session

# In the DBAPI connection's info (kept across checkouts): its transaction sent more than reads.
SENT_MORE = "kiosk_sent_more_than_reads"


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
    if not _plain_read(context):
        conn.info[SENT_MORE] = True


def _plain_read(context: Any) -> bool:
    statement = getattr(getattr(context, "compiled", None), "statement", None)
    return isinstance(statement, Select) and statement._for_update_arg is None


def _ended(conn: Any) -> None:
    if conn.invalidated or conn.closed:
        return  # its DBAPI connection is gone (a dropped network): nothing to clear on it
    _clear(conn.info)


def _clear(info: dict[str, Any]) -> None:
    info.pop(SENT_MORE, None)


def mark_written(connection: Any) -> None:
    """Say that ``connection``'s transaction wrote behind SQLAlchemy's back (a COPY)."""
    connection.info[SENT_MORE] = True


def only_read(session: Session) -> bool:
    """``session``'s transaction, on PostgreSQL, read and nothing else: ending it with COMMIT
    keeps its connection's prepared statements and changes nothing a ROLLBACK would undo."""
    from kiosk.audit import has_pending
    from kiosk.changes import noted_write

    if not session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return False
    if session.new or session.dirty or session.deleted:
        return False
    if noted_write(session) or has_pending(session):
        return False
    return not session.connection().info.get(SENT_MORE, False)
