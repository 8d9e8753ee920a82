"""Writing many rows at once: COPY on PostgreSQL, executemany elsewhere.

An import writes a customer, an invitation and half a dozen search keys for every row of a
branch's file: 170,000 rows for 20,000 invitees. Through ``executemany`` PostgreSQL receives
one INSERT per row (psycopg pipelines them, but SQLAlchemy still builds every parameter set
and the server still plans every statement), which made PostgreSQL imports half as fast as
SQLite's (issue #17). ``COPY … FROM STDIN`` on the same connection sends the rows as one
stream inside the caller's transaction, so a rollback or a Cancel still leaves nothing.

The values go through each column's own bind processing first (``UTCDateTime`` refuses a naive
time and stores UTC, enums become their stored strings), and a column left out of the rows
gets its scalar default, so the rows are stored exactly as the ORM would store them. SQLite
keeps ``executemany``: it is in-process, has no round trips to save, and its writes are checked
by the strict-lengths hook (``kiosk.lengths``), which sees statements, not COPY.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

from sqlalchemy import Column, Connection, Table, insert

from kiosk import readonly

_MISSING = object()


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (dicts keyed by column key, all with the same keys) into ``table`` in
    the connection's transaction."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), list(rows))
        return
    dialect = connection.dialect
    columns: list[tuple[Column[Any], Any, Callable[[Any], Any] | None]] = []
    for column in table.columns:
        if column.key in rows[0]:
            fallback = _MISSING
        elif column.default is not None and column.default.is_scalar:
            fallback = column.default.arg  # type: ignore[attr-defined]
        else:
            continue  # the server's default or NULL, as an INSERT without the column
        processor = column.type.dialect_impl(dialect).bind_processor(dialect)
        columns.append((column, fallback, processor))
    preparer = dialect.identifier_preparer
    names = ", ".join(preparer.quote(column.name) for column, _, _ in columns)
    statement = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN"
    raw = connection.connection.driver_connection
    readonly.mark_written(connection)  # behind SQLAlchemy's back: kiosk.readonly must know
    # The common case, every column given and none with a bind processor, takes each row's
    # values with one itemgetter: the per-value loop below cost a push (100,000 entries and
    # 80,000 slips) more than the COPY itself.
    plain = all(fallback is _MISSING and processor is None for _c, fallback, processor in columns)
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        if plain and len(columns) > 1:
            values_of = itemgetter(*(column.key for column, _, _ in columns))
            for row in rows:
                copy.write_row(values_of(row))
            return
        for row in rows:
            values = []
            for column, fallback, processor in columns:
                value = row[column.key] if fallback is _MISSING else fallback
                values.append(processor(value) if processor is not None else value)
            copy.write_row(values)


@contextmanager
def page_cache(connection: Connection, mebibytes: int = 64) -> Iterator[None]:
    """A larger SQLite page cache for one bulk write, the connection's own size restored after.

    SQLite's default cache is 2 MiB. A 200,000-row import inserts search keys and invitations
    at random places in indexes that soon outgrow it, so every batch reread and spilled pages:
    writing took 25 times as long for 10 times the rows. 64 MiB keeps the indexes' working set
    in memory (52 s -> 35 s for 200,000 invitees here). The cache is per connection and the
    pool keeps the connection, hence the restore. PostgreSQL sizes its own buffers: nothing to
    do there."""
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{mebibytes * 1024}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")
