"""Issuing slips at the activation desk: per slip, including signing and the PDF.

A customer waits at the desk while slips print, and two desks serve a queue, so issuing must
be quick and steady. Measured on a copy of the demo database: 200 checked-in customers each
get one slip (issue in one transaction with capacity and balance checks, Ed25519 signature,
journal, outbox, audit, fsync'd commit), and the slip PDF is rendered.

- ``slip issue`` (ms): one slip, issue plus PDF. Target: p99 at most 30 ms.
- ``slip issue floor`` (ms): what no slip can go under, measured right after each slip (a
  passing load weighs on both): the same code signed (Ed25519), its QR encoded, a minimal
  PDF (the QR as rectangles and one line in a built-in font, no embedded font) written
  atomically, and one fsync'd commit of one row to an SQLite file set up as the event
  database is (WAL, ``synchronous=FULL``).
- ``slip issue, ratio to floor`` (×): each slip's time / the floor's time right after it.
- ``slip issue sustained`` (slips/s): slips issued and rendered per second (the floors' time
  between them left out).

The demo's customers have not all done the steps the bank's default gate requires; what is
measured is issuing, so the event requires none (the gate is still checked, as in lan.py).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import Row, progress
from benchmarks.demo_db import demo_database, sqlite_url

SLIPS, QUICK_SLIPS = 200, 40


def run(quick: bool) -> list[Row]:
    from sqlalchemy import select, update

    from kiosk.clock import FixedClock
    from kiosk.db import open_database
    from kiosk.demo import DEMO_PASSPHRASE
    from kiosk.models import Customer, Event, Offer
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
            uow.session.execute(update(Event).values(redeem_requires=""))
            ids = uow.session.scalars(select(Customer.id).order_by(Customer.id).limit(count)).all()
            uow.commit()
        reception_staff = staff_session(database.unit_of_work(), "R001")
        for customer_id in ids:
            reception.check_in(database.unit_of_work(), customer_id, reception_staff, clock=clock)
        desk = staff_session(database.unit_of_work(), "A001")
        key = keys.unlock(database.unit_of_work(), DEMO_PASSPHRASE)
        progress(f"slips: issuing {len(ids)}")
        samples = []
        floor_samples = []
        floor = _Floor(Path(tmp))
        run_seconds = 0.0
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
            run_seconds += time.perf_counter() - started
            floor_samples.append(floor.one(key, slip.code, i))
        rate = len(ids) / run_seconds
        floor.close()
        database.dispose()
    return [
        Row("slip issue (sign + PDF)", "ms", samples[5:]),
        Row("slip issue floor", "ms", floor_samples[5:]),
        Row(
            "slip issue, ratio to floor",
            "×",
            [a / b for a, b in zip(samples[5:], floor_samples[5:], strict=True)],
        ),
        Row("slip issue sustained", "slips/s", [rate]),
    ]


class _Floor:
    """The least a slip costs: sign, QR, a minimal PDF written atomically, one fsync'd
    commit. Each call is one slip's floor, in milliseconds."""

    def __init__(self, folder: Path) -> None:
        import sqlite3

        self.folder = folder
        self.connection = sqlite3.connect(folder / "floor.sqlite3", isolation_level=None)
        self.connection.execute("PRAGMA journal_mode = WAL")
        self.connection.execute("PRAGMA synchronous = FULL")
        self.connection.execute("CREATE TABLE slip (serial INTEGER PRIMARY KEY, code TEXT)")

    def one(self, key: Any, code: str, serial: int) -> float:
        import io

        from reportlab.lib.units import mm
        from reportlab.pdfgen.canvas import Canvas

        from kiosk.files import write_atomic
        from printing.slips import DOT, DOTS_PER_MODULE, qr_matrix

        started = time.perf_counter()
        key.sign(code.encode())
        matrix = qr_matrix(code)
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=(80 * mm, 120 * mm))
        module = DOTS_PER_MODULE * DOT
        for row, cells in enumerate(matrix):
            for column, dark in enumerate(cells):
                if dark:
                    canvas.rect(column * module, row * module, module, module, stroke=0, fill=1)
        canvas.setFont("Helvetica", 12)
        canvas.drawString(4 * mm, 110 * mm, f"No. {serial:06d}")
        canvas.showPage()
        canvas.save()
        write_atomic(self.folder / f"floor-{serial}.pdf", buffer.getvalue())
        self.connection.execute("BEGIN")
        self.connection.execute("INSERT INTO slip VALUES (?, ?)", (serial, code))
        self.connection.execute("COMMIT")
        return (time.perf_counter() - started) * 1000

    def close(self) -> None:
        self.connection.close()
