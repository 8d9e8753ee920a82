"""Issuing slips at the activation desk: per slip, including signing and the PDF.

A customer waits at the desk while slips print, and two desks serve a queue, so issuing must
be quick and steady. Measured on a copy of the demo database: 200 checked-in customers each
get one slip (issue in one transaction with capacity and balance checks, Ed25519 signature,
journal, outbox, audit, fsync'd commit), and the slip PDF is rendered.

- ``slip issue`` (ms): one slip, issue plus PDF. Target: p99 at most 30 ms.
- ``slip issue sustained`` (slips/s): slips issued and rendered per second over the run.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import Row, progress
from benchmarks.demo_db import demo_database, sqlite_url

SLIPS, QUICK_SLIPS = 200, 40


def run(quick: bool) -> list[Row]:
    from sqlalchemy import select, update

    from kiosk.clock import FixedClock
    from kiosk.db import open_database
    from kiosk.demo import DEMO_PASSPHRASE
    from kiosk.models import Customer, Offer
    from kiosk.services import keys, reception
    from kiosk.services.auth import staff_session
    from kiosk.services.slips import CartLine, SlipDocument, issue_slips
    from printing.slips import render_slip

    count = QUICK_SLIPS if quick else SLIPS
    clock = FixedClock(datetime(2026, 11, 28, 1, 10, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "event.sqlite3"
        shutil.copyfile(demo_database(240), copy)
        database = open_database(sqlite_url(copy))
        with database.unit_of_work() as uow:
            uow.session.execute(update(Offer).values(capacity=100_000))
            uow.session.execute(update(Customer).values(points_balance=1_000_000))
            ids = uow.session.scalars(select(Customer.id).order_by(Customer.id).limit(count)).all()
            uow.commit()
        reception_staff = staff_session(database.unit_of_work(), "R001")
        for customer_id in ids:
            reception.check_in(database.unit_of_work(), customer_id, reception_staff, clock=clock)
        desk = staff_session(database.unit_of_work(), "A001")
        key = keys.unlock(database.unit_of_work(), DEMO_PASSPHRASE)
        progress(f"slips: issuing {len(ids)}")
        samples = []
        started_all = time.perf_counter()
        for i, customer_id in enumerate(ids):
            started = time.perf_counter()
            slip = issue_slips(
                database.unit_of_work(), customer_id, [CartLine("O501")], desk, key, clock=clock
            )[0]
            render_slip(
                SlipDocument(
                    "尊享积分集中兑换日",
                    slip.serial,
                    slip.code,
                    slip.merchant,
                    slip.offer,
                    slip.quantity,
                    slip.points,
                    datetime(2027, 2, 26).date(),
                    "王**",
                ),
                Path(tmp) / f"slip-{i}.pdf",
            )
            samples.append((time.perf_counter() - started) * 1000)
        rate = len(ids) / (time.perf_counter() - started_all)
        database.dispose()
    return [
        Row("slip issue (sign + PDF)", "ms", samples[5:]),
        Row("slip issue sustained", "slips/s", [rate]),
    ]
