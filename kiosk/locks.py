"""Transaction-scoped locks for the few places two stations must take turns.

On SQLite every write transaction already starts with ``BEGIN IMMEDIATE`` (see ``kiosk.db``),
which serialises writers, so nothing more is needed. On PostgreSQL an advisory lock held until
commit serialises, say, ticket numbering per queue without locking whole tables.
"""

from __future__ import annotations

import zlib
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.orm import Session


def lock_key(name: str) -> int:
    """The advisory lock key of ``name`` on PostgreSQL."""
    return zlib.crc32(name.encode()) - 2**31  # fits PostgreSQL's signed bigint comfortably


_LOCK = text("SELECT pg_advisory_xact_lock(:key)")  # built once: every write action takes one


def transaction_lock(session: Session, name: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK, {"key": lock_key(name)})


def lock_columns(session: Session, name: str) -> list[Any]:
    """``transaction_lock`` as a column for a query the caller sends anyway (one round trip
    less on the venue LAN, issue #23): the lock is held once that query has returned a row.

    Only for a query that returns at least one row, with no row lock of its own (a
    ``FOR UPDATE`` query evaluates its columns before it locks its rows, which would turn
    the locks' order round), and read what the lock guards in a *later* statement: a
    statement sees what was committed when it began, before it waited for the lock. An
    ``INSERT … RETURNING`` of one row will do (``kiosk.audit.insert_noted``'s ``also``): its
    RETURNING is evaluated once the row is in, a row no other transaction can wait for
    unless it inserts the same unique key, which waits before reaching this lock. Empty on
    SQLite (``BEGIN IMMEDIATE`` serialises writers already)."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    return [func.pg_advisory_xact_lock(lock_key(name))]
