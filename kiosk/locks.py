"""Transaction-scoped locks for the few places two stations must take turns.

On SQLite every write transaction already starts with ``BEGIN IMMEDIATE`` (see ``kiosk.db``),
which serialises writers, so nothing more is needed. On PostgreSQL an advisory lock held until
commit serialises, say, ticket numbering per queue without locking whole tables.
"""

from __future__ import annotations

import zlib

from sqlalchemy import text
from sqlalchemy.orm import Session


def transaction_lock(session: Session, name: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(name.encode()) - 2**31  # fits PostgreSQL's signed bigint comfortably
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
