"""Column lengths: what PostgreSQL enforces and SQLite does not.

A ``String(n)`` column is ``VARCHAR(n)`` on both databases, but SQLite stores a longer value
without a word while PostgreSQL refuses the whole transaction ("value too long for type
character varying(n)"). A writer that is only ever tried on SQLite can therefore pass every
test and fail on the venue's server (issue #16, symptom 12: a cart of 17 lines), and an event
prepared on SQLite then fails to copy to PostgreSQL.

Two things keep the backends alike:

- **Strict mode** (``KIOSK_STRICT_LENGTHS=1``; the tests set it, like ``KIOSK_AUDIT_STRICT``):
  every INSERT or UPDATE that SQLAlchemy sends to SQLite is checked against the lengths of the
  columns it writes, and a value too long fails exactly as PostgreSQL would (a ``DataError``
  with PostgreSQL's words). So a test on SQLite catches what the server would refuse.
  Production SQLite leaves it off: a laptop on its own keeps a long value rather than failing.
- ``bounded`` and ``summary`` let services fit a value to its column on purpose.

``kiosk.uow`` turns the error, on either backend, into one plain sentence
(``ValueTooLong``), never a raw driver error.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from sqlalchemy import Column, Engine, String, Text, event
from sqlalchemy.sql.dml import Insert, Update

ENV_STRICT = "KIOSK_STRICT_LENGTHS"
ELLIPSIS = "…"


def limit(column: Any) -> int | None:
    """The length ``column`` holds at most (characters), or None when it is unbounded."""
    column_type = getattr(column, "type", column)
    if isinstance(column_type, Text) or not isinstance(column_type, String):
        return None
    return column_type.length


def bounded(text: str, column: Any) -> bool:
    """Whether ``text`` fits ``column`` (an ORM attribute or Column)."""
    n = limit(getattr(column, "expression", column))
    return n is None or len(text) <= n


def summary(text: str, column: Any) -> str:
    """``text`` whole if it fits ``column``, else cut to fit and ending in "…".

    Only for values derived from others (a step note listing slip numbers): the full facts
    are elsewhere, so a shortened note loses nothing and never fails the action."""
    n = limit(getattr(column, "expression", column))
    if n is None or len(text) <= n:
        return text
    return text[: n - len(ELLIPSIS)] + ELLIPSIS


def require_fits(text: str, column: Any, what: str) -> str:
    """``text`` if it fits ``column``, else ``ValueTooLong`` saying what is too long and the
    most it may have: for what staff type (an event's name, a slot's label)."""
    from kiosk.errors import ValueTooLong
    from kiosk.i18n import _

    n = limit(getattr(column, "expression", column))
    if n is not None and len(text) > n:
        raise ValueTooLong(
            _("{what} is too long: at most {n} characters, this has {length}.").format(
                what=what, n=n, length=len(text)
            )
        )
    return text


def _check(context: Any) -> None:
    compiled = getattr(context, "compiled", None)
    statement = getattr(compiled, "statement", None)
    if not isinstance(statement, (Insert, Update)):
        return
    table = statement.table
    columns: dict[str, Column[Any]] = {c.key: c for c in getattr(table, "columns", ())}
    for parameters in context.compiled_parameters or ():
        for key, value in parameters.items():
            if not isinstance(value, str):
                continue
            column = columns.get(key)
            if column is None:
                continue  # a WHERE parameter (named "<column>_1"), not a written value
            n = limit(column)
            if n is not None and len(value) > n:
                # PostgreSQL's words, as the DBAPI error SQLAlchemy wraps into DataError.
                raise sqlite3.DataError(
                    f"value too long for type character varying({n}) "
                    f"({table.name}.{column.name}: {len(value)} characters)"
                )


def _before_cursor_execute(
    _conn: Any, _cursor: Any, _statement: Any, _parameters: Any, context: Any, _many: Any
) -> None:
    if context is not None:
        _check(context)


def strict() -> bool:
    return os.environ.get(ENV_STRICT) == "1"


def enforce_on_sqlite(engine: Engine) -> None:
    """Make ``engine`` (SQLite) refuse values longer than their column, as PostgreSQL does."""
    if engine.dialect.name == "sqlite" and not event.contains(
        engine, "before_cursor_execute", _before_cursor_execute
    ):
        event.listen(engine, "before_cursor_execute", _before_cursor_execute)
