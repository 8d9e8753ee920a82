"""Reception search and check-in at 1,000, 100,000 and 1,000,000 invitees.

Reception must find a customer in a second or two with a queue in front of it, so the search
has to stay fast however many customers the bank invites. Measured:

- ``search query``: the key lookup alone (``kiosk.search.find_customer_ids``), in one open
  session: the part that grows with the event. Target p99 <= 2 ms at 1,000,000.
- ``search results``: what the station calls per keystroke (``reception.search``): a unit of
  work, the lookup and the masked details of up to 20 customers.
- ``keystroke to list``: the reception station offscreen: text in the field, search, model
  reset and a synchronous repaint of the result table. Target < 50 ms.
- ``scan to card``: a scanned invitation code until the customer card shows the new visit:
  resolve, check in (visit, queue entry, outbox, audit, one fsync'd commit), show the card.
  The ticket PDF is rendered and sent right after, outside the timing, as in the station.
  Target < 50 ms. Runs on a copy of the database, which it changes.

Queries are a fixed-seed mix of what reception types: pinyin initials of 1-3 letters, surname
and full-name prefixes, phone tails, customer numbers and invitation codes of real invitees.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import Row, progress
from benchmarks.demo_db import demo_database, sqlite_url

SIZES = (1_000, 100_000, 1_000_000)


def _queries(url: str, count: int) -> tuple[list[str], list[str]]:
    """(search queries, invitation codes) drawn from the database with a fixed seed."""
    from sqlalchemy import func, select

    from kiosk.db import open_database
    from kiosk.models import Customer, Invitation

    rng = random.Random(7)
    database = open_database(url)
    with database.unit_of_work() as uow:
        total = uow.session.scalar(select(func.max(Customer.id))) or 0
        ids = [rng.randint(1, total) for _ in range(count)]
        rows = uow.session.execute(
            select(
                Customer.id,
                Customer.name,
                Customer.name_initials,
                Customer.phone,
                Customer.customer_no,
                Invitation.code,
            )
            .join(Invitation, Invitation.customer_id == Customer.id)
            .where(Customer.id.in_(set(ids)))
        ).all()
    database.dispose()
    by_id = {row[0]: row for row in rows}
    queries, codes = [], []
    for customer_id in ids:
        row = by_id.get(customer_id)
        if row is None:
            continue
        _id, name, initials, phone, customer_no, code = row
        first = initials.split("|")[0]
        kind = rng.randrange(6)
        queries.append(
            [first[: rng.randint(1, 3)], name[:1], name, (phone or "0000")[-4:], customer_no, code][
                kind
            ]
        )
        codes.append(code)
    return queries, codes


def _percentile_ms(samples: list[float]) -> list[float]:
    return [s * 1000 for s in samples]


def _measure_queries(url: str, queries: list[str], warm: int) -> tuple[list[float], list[float]]:
    from kiosk.db import open_database
    from kiosk.search import find_customer_ids
    from kiosk.services import reception

    database = open_database(url)
    lookup, full = [], []
    with database.unit_of_work() as uow:
        for query in queries[:warm]:
            find_customer_ids(uow.session, query)
        for query in queries:
            started = time.perf_counter()
            find_customer_ids(uow.session, query)
            lookup.append(time.perf_counter() - started)
    for query in queries[:warm]:
        reception.search(database.unit_of_work(), query)
    for query in queries:
        started = time.perf_counter()
        reception.search(database.unit_of_work(), query)
        full.append(time.perf_counter() - started)
    database.dispose()
    return _percentile_ms(lookup), _percentile_ms(full)


def _station(url: str, spool: Path):  # type: ignore[no-untyped-def]
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["KIOSK_SPOOL_DIR"] = str(spool)
    os.environ.pop("KIOSK_PRINT_COMMAND", None)
    from kiosk.clock import FixedClock
    from kiosk.db import open_database
    from kiosk.services.auth import staff_session
    from ui.app import ensure_application
    from ui.context import AppContext, StationContext
    from ui.stations.reception import ReceptionStation
    from ui.theme import apply_theme

    app = ensure_application()
    apply_theme(app, False)
    database = open_database(url)
    clock = FixedClock(datetime(2026, 11, 28, 1, 10, tzinfo=UTC))
    staff = staff_session(database.unit_of_work(), "R001")
    station = ReceptionStation(StationContext(AppContext(database, clock), staff))
    station.resize(1366, 740)
    station.show()
    station.load()
    app.processEvents()
    return app, database, station


def _measure_ui(
    url: str, queries: list[str], codes: list[str], warm: int
) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "event.sqlite3"
        shutil.copyfile(url.removeprefix("sqlite:///"), copy)
        app, database, station = _station(sqlite_url(copy), Path(tmp) / "spool")
        keystroke: list[float] = []
        scan: list[float] = []
        try:
            for i, query in enumerate(queries):
                started = time.perf_counter()
                station.field.setText(query)
                station.run_search()
                station.table.viewport().repaint()
                if i >= warm:
                    keystroke.append(time.perf_counter() - started)
                app.processEvents()  # the card loads right after the list, outside the timing
            for i, code in enumerate(codes):
                started = time.perf_counter()
                station.on_scanned(code)
                station.card_view.repaint()
                if i >= warm:
                    scan.append(time.perf_counter() - started)
                app.processEvents()  # the ticket prints right after the card, outside the timing
                assert station.card is not None and station.card.visit is not None
        finally:
            station.slot_timer.stop()
            station.expected_timer.stop()
            app.processEvents()
            station.close()
            station.deleteLater()
            app.processEvents()
            database.dispose()
    return _percentile_ms(keystroke), _percentile_ms(scan)


def run(quick: bool) -> list[Row]:
    rows: list[Row] = []
    for size in SIZES:
        label = f"{size:,} invitees"
        url = sqlite_url(demo_database(size))
        queries, codes = _queries(url, 300 if quick else 2000)
        progress(f"search, {label}: {len(queries)} queries")
        lookup, full = _measure_queries(url, queries, warm=50)
        rows.append(Row(f"search query, {label}", "ms", lookup))
        rows.append(Row(f"search results, {label}", "ms", full))
        ui_queries = queries[: 60 if quick else 400]
        scan_codes = list(dict.fromkeys(codes))[: 25 if quick else 120]
        progress(f"search, {label}: station offscreen")
        keystroke, scan = _measure_ui(url, ui_queries, scan_codes, warm=10)
        rows.append(Row(f"keystroke to list, {label}", "ms", keystroke))
        rows.append(Row(f"scan to card, {label}", "ms", scan))
    return rows
