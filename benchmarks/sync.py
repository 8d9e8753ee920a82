"""Pushing the outbox to the central ledger on PostgreSQL (loopback).

After a busy event day the venue's laptop pushes everything at once over whatever network
there is, and a push cut off must simply be run again. Measured: 100,000 outbox entries
(check-ins and slip issues of 20,000 customers) pushed in batches of 5,000 into a fresh
reference ledger on PostgreSQL, then every entry marked pending again and pushed a second
time, which must insert nothing.

- ``sync push`` (entries/s): first push. Target: at least 20,000 entries per second.
- ``sync push floor`` (entries/s): the same entries written the cheapest idempotent way, in
  the same run, once just before the push and once just after (two samples): each batch one
  transaction of pipelined ``INSERT … ON CONFLICT (idempotency_key) DO NOTHING`` (psycopg's
  ``executemany``) into a fresh copy of ``ledger_entry``, the keys, kinds and payload texts
  read beforehand. No push can go under it: it reads no outbox, judges no balance, writes no
  lot or slip and marks nothing.
- ``sync push, ratio to floor`` (×): the push's speed as a fraction of the floor's (the
  floor's mean time / the push's time). Target (issue #23): at least 0.8.
- ``sync re-push`` (s): the full second push of the same entries, answered from the ledger.

Needs the PostgreSQL of the test set-up (``KIOSK_TEST_PG``, default
postgresql://postgres@127.0.0.1:5432/test); the ledger database is created and dropped.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import BenchmarkError, Row, progress

ENTRIES, QUICK_ENTRIES = 100_000, 10_000
PER_CUSTOMER = 5  # a check-in and four slips
BATCH = 5000


def run(quick: bool) -> list[Row]:
    import psycopg
    from sqlalchemy import insert, update

    from kiosk.audit import canonical_json
    from kiosk.db import open_database
    from kiosk.models import Event, OutboxEntry, OutboxStatus
    from sync.ledger import Account, Ledger
    from sync.push import pending, push

    count = QUICK_ENTRIES if quick else ENTRIES
    admin_url = os.environ.get("KIOSK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"kiosk_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.Error as error:
        raise BenchmarkError(f"PostgreSQL not reachable at {admin_url}: {error}") from None
    now = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    with admin, tempfile.TemporaryDirectory() as tmp:
        admin.execute(f'CREATE DATABASE "{name}"')
        ledger_url = f"{admin_url.rsplit('/', 1)[0]}/{name}"
        try:
            database = open_database(f"sqlite:///{Path(tmp) / 'event.sqlite3'}")
            customers = count // PER_CUSTOMER
            ledger = Ledger.open(ledger_url, create=True)
            progress(f"sync: seeding {customers:,} accounts and {count:,} outbox entries")
            ledger.upsert_accounts(
                Account(f"62{i:08d}", "客户", "B01", "standard", 1_000_000, "active", {}, now)
                for i in range(customers)
            )
            with database.unit_of_work() as uow:
                event = Event(code="BENCH", name="bench", event_date=now.date(), created_at=now)
                uow.session.add(event)
                uow.session.flush()
                rows = []
                serial = 0
                for i in range(customers):
                    number = f"62{i:08d}"
                    rows.append(("check_in", {"event": "BENCH", "customer_no": number}))
                    for offer in range(PER_CUSTOMER - 1):
                        serial += 1
                        rows.append(
                            (
                                "slip_issued",
                                {
                                    "event": "BENCH",
                                    "customer_no": number,
                                    "serial": serial,
                                    "merchant": "M01",
                                    "offer": f"O{offer}",
                                    "quantity": 1,
                                    "points": 2000,
                                },
                            )
                        )
                uow.session.execute(
                    insert(OutboxEntry),
                    [
                        {
                            "event_id": event.id,
                            "idempotency_key": f"{kind}:{uuid.uuid4().hex}",
                            "kind": kind,
                            "payload": canonical_json(payload),
                            "created_at": now,
                            "status": OutboxStatus.PENDING,
                        }
                        for kind, payload in rows
                    ],
                )
                uow.commit()
            with _Floor(database, ledger_url, now) as floor:
                progress("sync: floor (pipelined INSERT … ON CONFLICT), before the push")
                floor_seconds = [floor.write_all()]
                progress("sync: first push")
                started = time.perf_counter()
                first = push(database, ledger, batch_size=BATCH)
                first_seconds = time.perf_counter() - started
                progress("sync: floor again, after the push")
                floor_seconds.append(floor.write_all())
            if first.accepted != count or pending(database):
                raise BenchmarkError(f"first push accepted {first.accepted} of {count}")
            before = ledger.totals()
            with database.unit_of_work() as uow:
                uow.session.execute(update(OutboxEntry).values(status=OutboxStatus.PENDING))
                uow.commit()
            progress("sync: re-push of the same entries")
            started = time.perf_counter()
            second = push(database, ledger, batch_size=BATCH)
            second_seconds = time.perf_counter() - started
            if second.accepted != count or ledger.totals() != before:
                raise BenchmarkError("the re-push changed the ledger")
            ledger.dispose()
            database.dispose()
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return [
        Row(f"sync push, {count:,} entries", "entries/s", [count / first_seconds]),
        Row(f"sync push floor, {count:,} entries", "entries/s", [count / s for s in floor_seconds]),
        Row("sync push, ratio to floor", "×", [statistics.mean(floor_seconds) / first_seconds]),
        Row(f"sync re-push, {count:,} entries", "s", [second_seconds]),
    ]


class _Floor:
    """The floor: the outbox's entries written into a fresh copy of ``ledger_entry`` (same
    columns, unique key and indexes) ``BATCH`` at a time, each batch one transaction of
    pipelined ``INSERT … ON CONFLICT DO NOTHING``: the least an idempotent push has to do.
    Written once before the push and once after, so a load passing on the machine weighs on
    both (the push overlaps its batches, so the floor cannot run between them)."""

    STATEMENT = (
        "INSERT INTO {table} (idempotency_key, kind, customer_no, points, status, payload, "
        "received_at) VALUES (%s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (idempotency_key) DO NOTHING"
    )

    def __init__(self, database: Any, ledger_url: str, now: datetime) -> None:
        import json

        from sqlalchemy import select

        from kiosk.models import OutboxEntry

        with database.unit_of_work() as uow:
            self.rows = [
                (key, kind, json.loads(payload).get("customer_no"), 0, "accepted", payload, now)
                for key, kind, payload in uow.session.execute(
                    select(
                        OutboxEntry.idempotency_key, OutboxEntry.kind, OutboxEntry.payload
                    ).order_by(OutboxEntry.id)
                )
            ]
        self.url = ledger_url
        self.tables: list[str] = []

    def __enter__(self) -> _Floor:
        import psycopg

        self.connection = psycopg.connect(self.url, autocommit=True)
        return self

    def __exit__(self, *_exc: object) -> None:
        for table in self.tables:
            self.connection.execute(f"DROP TABLE {table}")
        self.connection.close()

    def write_all(self) -> float:
        """Seconds to write every entry into a new table, batch by batch."""
        table = f"floor_entry_{len(self.tables)}"
        self.connection.execute(f"CREATE TABLE {table} (LIKE ledger_entry INCLUDING ALL)")
        self.tables.append(table)
        statement = self.STATEMENT.format(table=table)
        started = time.perf_counter()
        for start in range(0, len(self.rows), BATCH):
            with self.connection.transaction(), self.connection.cursor() as cursor:
                cursor.executemany(statement, self.rows[start : start + BATCH])
        return time.perf_counter() - started
