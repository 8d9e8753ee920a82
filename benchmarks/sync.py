"""Pushing the outbox to the central ledger on PostgreSQL (loopback).

After a busy event day the venue's laptop pushes everything at once over whatever network
there is, and a push cut off must simply be run again. Measured: 100,000 outbox entries
(check-ins and slip issues of 20,000 customers) pushed in batches of 5,000 into a fresh
reference ledger on PostgreSQL, then every entry marked pending again and pushed a second
time, which must insert nothing.

- ``sync push`` (entries/s): first push. Target: at least 20,000 entries per second.
- ``sync re-push`` (s): the full second push of the same entries, answered from the ledger.

Needs the PostgreSQL of the test set-up (``KIOSK_TEST_PG``, default
postgresql://postgres@127.0.0.1:5432/test); the ledger database is created and dropped.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

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
            progress("sync: first push")
            started = time.perf_counter()
            first = push(database, ledger, batch_size=BATCH)
            first_seconds = time.perf_counter() - started
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
        Row(f"sync re-push, {count:,} entries", "s", [second_seconds]),
    ]
