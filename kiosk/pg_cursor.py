"""The cursor every PostgreSQL connection of the event database uses (issue #23).

SQLAlchemy reads a cursor's ``description`` once per statement, for the result's column names.
psycopg builds it anew on each read as one ``Column`` object per column, and each looks up its
type's display size and more that nothing here uses: about 1.5 µs a column, and a check-in's
first query alone has some ninety columns (the customer, invitation, slot, band and lots in one
row). Measured on the 2-core machine that hosts PostgreSQL and eight stations, that was 130 µs
of a check-in's CPU in ``description`` against 40 µs with plain named tuples; every statement
of every action pays its share.

``LeanCursor.description`` gives the DB-API's seven-item sequences (``name``, ``type_code``,
then five Nones) from the result's public ``pgresult``. The connection's other cursors (server
side, ``cursor(name=...)``) are psycopg's own.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import psycopg
from psycopg.pq import ExecStatus

# What psycopg itself counts as "this result has columns" even when there are none
# (``SELECT ;``): every status of a result that returned rows.
_ROWS = frozenset(
    status
    for status in (
        ExecStatus.TUPLES_OK,
        ExecStatus.SINGLE_TUPLE,
        getattr(ExecStatus, "TUPLES_CHUNK", ExecStatus.TUPLES_OK),
    )
)


class Described(NamedTuple):
    """One column of a result, as PEP 249 describes it (only the first two are known here)."""

    name: str
    type_code: int
    display_size: int | None = None
    internal_size: int | None = None
    precision: int | None = None
    scale: int | None = None
    null_ok: bool | None = None


class LeanCursor(psycopg.Cursor):  # type: ignore[type-arg]
    """psycopg's client cursor with a cheaper ``description`` (see the module)."""

    @property
    def description(self) -> list[Described] | None:  # type: ignore[override]
        result = self.pgresult
        if result is None or not (result.nfields or result.status in _ROWS):
            return None
        encoding = self.connection.info.encoding
        name, oid = result.fname, result.ftype
        return [
            Described((name(i) or f"column_{i + 1}".encode()).decode(encoding), oid(i))
            for i in range(result.nfields)
        ]


def use_lean_cursors(dbapi_connection: Any, _record: Any = None) -> None:
    """SQLAlchemy ``connect`` listener: the new connection's cursors are ``LeanCursor``s."""
    if isinstance(dbapi_connection, psycopg.Connection):
        dbapi_connection.cursor_factory = LeanCursor
