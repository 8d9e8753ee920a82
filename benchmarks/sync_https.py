"""Pushing the outbox over HTTPS on loopback, next to its floor: the direct database push.

A bank's ledger is reached over HTTPS (issue #22): every batch becomes a JSON request
through TLS to the reference service (``kiosk ledger serve``: Starlette behind uvicorn, a
client certificate required), which applies it with the same ``Ledger.apply`` the direct
push calls. The floor is that direct push into a fresh ledger on the same PostgreSQL, in the
same run; the HTTPS push goes into another fresh ledger. Measured per batch of 1,000 entries
(check-ins and slip issues), so median and p99 are of batches:

- ``sync push direct, N entries`` (entries/s): the floor, the ledger by its database URL.
- ``sync push HTTPS, N entries`` (entries/s): the same entries through the API.
- ``sync push HTTPS, ratio to direct`` (×): HTTPS batch time / direct batch time, batch by
  batch (1.0: the transport costs nothing).

Needs the PostgreSQL of the test set-up (``KIOSK_TEST_PG``); the ledgers are created and
dropped. The test CA and certificates are made in the run (tests/ledger_http_support.py).
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import BenchmarkError, Row, progress

ENTRIES, QUICK_ENTRIES = 50_000, 5_000
PER_CUSTOMER = 5  # a check-in and four slips
BATCH = 1000


def _outbox(database, count: int, now: datetime) -> list[str]:  # type: ignore[no-untyped-def]
    from sqlalchemy import insert

    from kiosk.audit import canonical_json
    from kiosk.models import Event, OutboxEntry, OutboxStatus

    customers = count // PER_CUSTOMER
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
                payload = {
                    "event": "BENCH",
                    "customer_no": number,
                    "serial": serial,
                    "merchant": "M01",
                    "offer": f"O{offer}",
                    "quantity": 1,
                    "points": 2000,
                }
                rows.append(("slip_issued", payload))
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
    return [f"62{i:08d}" for i in range(customers)]


def _timed_push(database, ledger, count: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Seconds per batch of a full push."""
    from sync.push import pending, push

    times: list[float] = []
    last = [time.perf_counter()]

    def tick(_done: int, _total: int) -> None:
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now

    report = push(database, ledger, batch_size=BATCH, progress=tick)
    if report.accepted != count or pending(database):
        raise BenchmarkError(f"the push accepted {report.accepted} of {count}")
    return times


def run(quick: bool) -> list[Row]:
    import psycopg
    from sqlalchemy import update

    from kiosk.db import open_database
    from kiosk.models import OutboxEntry, OutboxStatus
    from sync.http_ledger import HttpLedger
    from sync.ledger import Account, Ledger
    from tests.ledger_http_support import make_pki, serving

    count = QUICK_ENTRIES if quick else ENTRIES
    admin_url = os.environ.get("KIOSK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
    names = [f"kiosk_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.Error as error:
        raise BenchmarkError(f"PostgreSQL not reachable at {admin_url}: {error}") from None
    now = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    with admin, tempfile.TemporaryDirectory() as tmp:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
        base = admin_url.rsplit("/", 1)[0]
        try:
            database = open_database(f"sqlite:///{Path(tmp) / 'event.sqlite3'}")
            progress(f"sync_https: {count:,} outbox entries, two ledgers, a test CA")
            numbers = _outbox(database, count, now)
            ledgers = [Ledger.open(f"{base}/{name}", create=True) for name in names]
            for ledger in ledgers:
                ledger.upsert_accounts(
                    Account(no, "客户", "B01", "standard", 1_000_000, "active", {}, now)
                    for no in numbers
                )
            pki = make_pki(Path(tmp) / "pki")
            token = ledgers[1].create_token("BENCH")
            progress("sync_https: direct push (the floor)")
            direct = _timed_push(database, ledgers[0], count)
            with database.unit_of_work() as uow:
                uow.session.execute(update(OutboxEntry).values(status=OutboxStatus.PENDING))
                uow.commit()
            progress("sync_https: push over HTTPS on loopback")
            with serving(ledgers[1], pki, client_certs=True) as url:
                client = HttpLedger(
                    url,
                    token,
                    "BENCH",
                    ca_file=str(pki.ca),
                    client_cert=str(pki.client_cert),
                    client_key=str(pki.client_key),
                )
                try:
                    https = _timed_push(database, client, count)
                finally:
                    client.dispose()
            if ledgers[0].totals() != ledgers[1].totals():
                raise BenchmarkError("the two ledgers do not agree after the pushes")
            for ledger in ledgers:
                ledger.dispose()
            database.dispose()
        finally:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return [
        Row(f"sync push direct, {count:,} entries", "entries/s", [BATCH / t for t in direct]),
        Row(f"sync push HTTPS, {count:,} entries", "entries/s", [BATCH / t for t in https]),
        Row(
            "sync push HTTPS, ratio to direct",
            "×",
            [h / d for h, d in zip(https, direct, strict=True)],
        ),
    ]
