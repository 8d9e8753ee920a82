"""Moving a prepared event from one database to another (SQLite on the coordinator's laptop
to the venue's PostgreSQL, usually).

Everything is copied: the event, staff with their PIN hashes, customers, invitations, the
signing keys (private halves still locked with the passphrase, so slips issued before still
verify and the desk still unlocks the key), slips, the journal, the outbox and the audit chain,
ids unchanged so every reference holds. Tables go in foreign-key order inside ONE transaction
on the target: a copy cut off half-way leaves the target empty, never half an event. The
target must be empty (freshly migrated); a copy never merges into an event. On PostgreSQL the
id sequences are moved past the copied ids, so the next check-in does not collide with a
copied one. Row counts are compared table by table before the commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Integer, Table, func, select, text

from kiosk import dbroles
from kiosk.db import Database, describe_url, open_database
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.models import Base, ChangeCounter, DatabaseAccess, FigureChange

BATCH = 2_000
# Bookkeeping of the database itself rather than of the event: the target has its own.
# The change counter restarts per database; the station role belongs to the target's own
# set-up (``kiosk db setup``), not to the event; the figures' change log is written by the
# target's own triggers as the rows arrive.
SKIPPED = {
    ChangeCounter.__tablename__,
    DatabaseAccess.__tablename__,
    FigureChange.__tablename__,
}


class CopyError(KioskError):
    """The event cannot be copied (target not empty, same database, counts differ)."""


@dataclass(frozen=True)
class CopyResult:
    source: str
    target: str
    rows: dict[str, int]  # table -> rows copied, in copy order
    seconds: float

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def event_tables() -> list[Table]:
    """The tables to copy, parents before children."""
    return [t for t in Base.metadata.sorted_tables if t.name not in SKIPPED]


def _count(connection: Connection, table: Table) -> int:
    return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def _refuse_non_empty(connection: Connection, target_url: str) -> None:
    for table in event_tables():
        n = _count(connection, table)
        if n:
            raise CopyError(
                _(
                    "The target database {url} is not empty (table {table} has {n} rows); "
                    "copy an event only into a new, empty database."
                ).format(url=describe_url(target_url), table=table.name, n=n)
            )


def _fix_sequences(connection: Connection, tables: list[Table]) -> None:
    """Move every id sequence past the copied ids (PostgreSQL keeps them apart from rows)."""
    for table in tables:
        if "id" not in table.c or not isinstance(table.c.id.type, Integer):
            continue  # no id sequence (action_request is keyed by the client's request id)
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table.name}"
            )
        )


def copy_event(
    source_url: str,
    target_url: str,
    *,
    progress: Callable[[str, int], None] | None = None,
) -> CopyResult:
    """Copy everything in ``source_url`` into the empty database at ``target_url``."""
    started = time.monotonic()
    source = open_database(source_url)
    try:
        target = open_database(target_url)
    except KioskError:
        source.dispose()
        raise
    try:
        if _same_database(source, target):
            raise CopyError(_("The source and the target are the same database."))
        # The copy resets the target's sequences, which only the tables' owner may do.
        dbroles.require_owner(target, _("copy an event into the event database"))
        rows = _copy(source, target, progress)
    finally:
        source.dispose()
        target.dispose()
    return CopyResult(
        describe_url(source_url), describe_url(target_url), rows, time.monotonic() - started
    )


def _same_database(a: Database, b: Database) -> bool:
    return a.engine.url.render_as_string(hide_password=False) == b.engine.url.render_as_string(
        hide_password=False
    )


def _copy(
    source: Database, target: Database, progress: Callable[[str, int], None] | None
) -> dict[str, int]:
    tables = event_tables()
    rows: dict[str, int] = {}
    read = source.engine.connect()
    if source.engine.dialect.name == "postgresql":
        # One consistent picture of a source that stations may still be writing to.
        read = read.execution_options(isolation_level="REPEATABLE READ")
    with read, read.begin(), target.engine.begin() as write:
        _refuse_non_empty(write, target.url)
        for table in tables:
            copied = 0
            order = [c for c in table.primary_key.columns]
            result = read.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
            for batch in result.partitions(BATCH):
                write.execute(table.insert(), [dict(row._mapping) for row in batch])
                copied += len(batch)
            rows[table.name] = copied
            if progress is not None:
                progress(table.name, copied)
        for table in tables:
            expected, got = _count(read, table), _count(write, table)
            if expected != got or got != rows[table.name]:
                raise CopyError(
                    _(
                        "Table {table}: {got} rows arrived of {expected}; nothing was copied."
                    ).format(table=table.name, got=got, expected=expected)
                )
        if target.engine.dialect.name == "postgresql":
            _fix_sequences(write, tables)
        # Stations already open on the target refresh at once.
        write.execute(text("UPDATE change_counter SET value = value + 1 WHERE id = 1"))
    return rows
