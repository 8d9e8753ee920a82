"""One dashboard refresh on a large event in full swing.

The dashboard reads every figure again every five seconds, so a refresh has to stay cheap
as the event grows. Measured on the demo event with 100,000 invitees (10,000 with
``--quick``) after a played day generated in bulk (not through the services, which would
take hours): about 65% of the invitees checked in, half of them through the service desk,
each with the steps, queue tickets, slips and booth redemptions a day leaves behind, and
the last arrivals still waiting in the queues. The played database is kept in
``benchmarks/.cache/`` like the demo databases.

The station keeps its figures between refreshes (``kiosk.services.live_figures``): the first
refresh reads the event once, each later one recomputes only the customers changed since.
Each measurement runs on a throw-away copy of the played day, at 2,000 invitees and at
100,000 (10,000 with ``--quick``), so the table shows whether a refresh grows with the event:

- ``dashboard first refresh (reads the event), N invitees`` (ms): once per dashboard.
- ``dashboard refresh, N invitees`` (ms): ``kiosk.services.dashboard.snapshot`` without the
  timelines, what the station runs every 5 s (funnel, slots, queues, branches, offers,
  coverage, alerts), after 20 arrived customers changed since the last refresh (each one's
  row rewritten, so every figure of theirs is recomputed: more than a busy venue does in 5 s).
  30 samples (10 with ``--quick``).
- ``dashboard refresh with timelines, N invitees`` (ms): the same with the four timelines and
  every customer's points, which the station shows every sixth refresh. 10 samples (5).
- ``..., 100,000 / 2,000 invitees`` (×): the large event's median over the small one's;
  about 1 means the refresh does not depend on the number of invitees.
- ``full recomputation (the reports' queries)`` and ``... with timelines`` (ms): what every
  refresh cost before, the reports' own path (``figures.event_figures``), for reference.
  3 samples (2).
"""

from __future__ import annotations

import random
import shutil
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from benchmarks import CACHE, Row, progress
from benchmarks.demo_db import demo_database, sqlite_url
from kiosk.db import head_revision

FULL, QUICK, SMALL = 100_000, 10_000, 2_000
CHANGED = 20  # customers changed between two refreshes (a busy venue's 5 seconds, and more)
FIRST = "dashboard first refresh (reads the event)"
REFRESH = "dashboard refresh"
WITH_TIMELINES = "dashboard refresh with timelines"
FULL_REFRESH = "full recomputation (the reports' queries)"
FULL_WITH_TIMELINES = "full recomputation with timelines"


def played_database(invitees: int) -> Path:
    path = CACHE / f"played-{invitees}-{head_revision()}.sqlite3"
    if path.exists():
        return path
    partial = CACHE / f"building-played-{invitees}.sqlite3"
    shutil.copyfile(demo_database(invitees), partial)
    progress(f"dashboard: playing a day on {invitees:,} invitees in bulk, once")
    started = time.perf_counter()
    _play(partial)
    partial.replace(path)
    progress(f"dashboard: played in {time.perf_counter() - started:.0f} s")
    return path


def _play(path: Path) -> None:
    """A day's rows, inserted in bulk with a fixed seed."""
    from sqlalchemy import insert, select

    from kiosk.db import open_database
    from kiosk.models import (
        Invitation,
        Merchant,
        Offer,
        QueueEntry,
        Redemption,
        Slip,
        Staff,
        TimeSlot,
        Visit,
        VisitStep,
    )
    from kiosk.services.events import current_event

    rng = random.Random(9)
    database = open_database(sqlite_url(path))
    with database.unit_of_work() as uow:
        s = uow.session
        event = current_event(s)
        staff = dict(s.execute(select(Staff.staff_no, Staff.id)).all())
        slots = {t.id: t.starts_at for t in s.scalars(select(TimeSlot))}
        offers = s.execute(
            select(Offer.id, Offer.merchant_id, Offer.points_price, Offer.redeem_by)
        ).all()
        merchants = list(s.scalars(select(Merchant.id)))
        invitations = s.execute(
            select(Invitation.id, Invitation.customer_id, Invitation.slot_id, Invitation.status)
        ).all()
        reception, desk, activation = staff["R001"], staff["RM001"], staff["A001"]
        came = [i for i in invitations if i.status != "declined" and rng.random() < 0.65]
        came.sort(key=lambda i: i.id)
        times = [slots[i.slot_id] + timedelta(minutes=rng.uniform(-40, 170)) for i in came]
        visit_rows = [
            {
                "event_id": event.id,
                "customer_id": i.customer_id,
                "invitation_id": i.id,
                "checked_in_at": at,
                "checked_in_by": reception,
                "route": "activation",
                "companions": rng.choice([0, 0, 1]),
            }
            for i, at in zip(came, times, strict=True)
        ]
        visit_ids = s.scalars(
            insert(Visit).returning(Visit.id, sort_by_parameter_order=True), visit_rows
        ).all()
        steps, entries, slips, redemptions = [], [], [], []
        tickets = {"service_desk": 0, "activation": 0}
        serial, booth_seq = 0, dict.fromkeys(merchants, 0)
        waiting_from = len(visit_ids) * 98 // 100  # the last 2% still wait

        def step(visit_id: int, name: str, at: object, by: int) -> None:
            steps.append({"visit_id": visit_id, "step": name, "at": at, "staff_id": by, "note": ""})

        def entry(visit_id: int, queue: str, at: object, called: object, waiting: bool) -> None:
            tickets[queue] += 1
            entries.append(
                {
                    "event_id": event.id,
                    "visit_id": visit_id,
                    "queue": queue,
                    "ticket_no": tickets[queue],
                    "reason": "occupation_code" if queue == "service_desk" else "",
                    "preferred_staff_id": None,
                    "status": "waiting" if waiting else "done",
                    "enqueued_at": at,
                    "called_at": None if waiting else called,
                    "called_by": None,
                    "desk": None,
                    "finished_at": None,
                }
            )

        for n, (visit_id, row, at) in enumerate(zip(visit_ids, visit_rows, times, strict=True)):
            waiting = n >= waiting_from
            step(visit_id, "check_in", at, reception)
            now = at
            if rng.random() < 0.5:
                called = now + timedelta(minutes=rng.uniform(1, 20))
                entry(visit_id, "service_desk", now, called, waiting)
                if waiting:
                    continue
                step(visit_id, "called", called, desk)
                if rng.random() < 0.6:
                    step(visit_id, "governance", called + timedelta(minutes=4), desk)
                if rng.random() < 0.3:
                    step(visit_id, "mobile_banking_opened", called + timedelta(minutes=6), desk)
                now = called + timedelta(minutes=rng.uniform(5, 12))
                step(visit_id, "service_desk_done", now, desk)
            called = now + timedelta(minutes=rng.uniform(1, 25))
            entry(visit_id, "activation", now, called, waiting)
            if waiting:
                continue
            step(visit_id, "called", called, activation)
            if rng.random() < 0.7:
                step(visit_id, "mobile_banking_login", called + timedelta(minutes=1), activation)
            if rng.random() < 0.65:
                step(visit_id, "charity_paid", called + timedelta(minutes=2), activation)
            if rng.random() < 0.85:
                issued = called + timedelta(minutes=4)
                step(visit_id, "slips_issued", issued, activation)
                for _k in range(rng.choice([1, 1, 2])):
                    offer = rng.choice(offers)
                    serial += 1
                    roll = rng.random()
                    status = "redeemed" if roll < 0.7 else "voided" if roll < 0.72 else "issued"
                    slips.append(
                        {
                            "event_id": event.id,
                            "serial": serial,
                            "visit_id": visit_id,
                            "customer_id": row["customer_id"],
                            "merchant_id": offer.merchant_id,
                            "offer_id": offer.id,
                            "quantity": 1,
                            "points": offer.points_price,
                            "redeem_by": offer.redeem_by,
                            "code": f"BENCH{serial}",
                            "key_id": "00000000",
                            "status": status,
                            "copies_printed": 1,
                            "issued_at": issued,
                            "issued_by": activation,
                        }
                    )
                    if status == "redeemed":
                        booth_seq[offer.merchant_id] += 1
                        redeemed = issued + timedelta(minutes=rng.uniform(5, 90))
                        redemptions.append(
                            {
                                "uid": f"bench-{serial}",
                                "event_id": event.id,
                                "slip_serial": serial,
                                "merchant_id": offer.merchant_id,
                                "booth_id": f"booth-{offer.merchant_id}",
                                "booth_seq": booth_seq[offer.merchant_id],
                                "redeemed_at": redeemed,
                                "staff_name": "",
                                "received_at": redeemed,
                                "conflict": None,
                            }
                        )
            step(visit_id, "activation_done", called + timedelta(minutes=6), activation)
        for model, rows in (
            (VisitStep, steps),
            (QueueEntry, entries),
            (Slip, slips),
            (Redemption, redemptions),
        ):
            for start in range(0, len(rows), 20_000):
                s.execute(insert(model), rows[start : start + 20_000])
        uow.commit()
    database.dispose()


def run(quick: bool) -> list[Row]:
    rows: list[Row] = []
    small, large = SMALL, (QUICK if quick else FULL)
    medians: dict[tuple[int, str], float] = {}
    for invitees in (small, large):
        for row in _measure(invitees, quick):
            rows.append(row)
            medians[(invitees, row.name.split(",")[0])] = statistics.median(row.samples)
    for name in (REFRESH, WITH_TIMELINES):
        ratio = medians[(large, name)] / medians[(small, name)]
        progress(f"{name}: {large:,} / {small:,} invitees = {ratio:.2f}x")
        rows.append(Row(f"{name}, {large:,} / {small:,} invitees", "×", [ratio]))
    return rows


def _measure(invitees: int, quick: bool) -> list[Row]:
    """The refreshes on a copy of the played day (the refreshes between write to it)."""
    from kiosk.clock import FixedClock
    from kiosk.db import open_database
    from kiosk.services import dashboard
    from kiosk.services.live_figures import LiveFigures

    played = played_database(invitees)
    with tempfile.TemporaryDirectory(dir=CACHE) as folder:
        path = Path(folder) / played.name
        shutil.copyfile(played, path)
        database = open_database(sqlite_url(path))
        clock = FixedClock(_noon(database))
        arrived = _arrived_customers(database)
        rng = random.Random(invitees)
        rows = []
        # The first refresh of a dashboard reads the whole event once.
        live = LiveFigures()
        started = time.perf_counter()
        dashboard.snapshot(database.unit_of_work(), clock=clock, live=live)
        first = (time.perf_counter() - started) * 1000
        progress(f"dashboard first refresh, {invitees:,} invitees: {first:.0f} ms (reads all)")
        rows.append(Row(f"{FIRST}, {invitees:,} invitees", "ms", [first]))
        for name, with_timelines, count in (
            (REFRESH, False, 10 if quick else 30),
            (WITH_TIMELINES, True, 5 if quick else 10),
        ):
            samples = []
            for _n in range(count):
                _touch(database, rng.sample(arrived, CHANGED))
                started = time.perf_counter()
                board = dashboard.snapshot(
                    database.unit_of_work(), clock=clock, with_timelines=with_timelines, live=live
                )
                samples.append((time.perf_counter() - started) * 1000)
                assert live.recomputed == CHANGED, live.recomputed
            progress(
                f"{name}, {invitees:,} invitees: median {statistics.median(samples):.1f} ms "
                f"({board.figures.total.arrived:,} visits, {board.figures.total.slips:,} slips)"
            )
            rows.append(Row(f"{name}, {invitees:,} invitees", "ms", samples))
        # The reports' full recomputation, what each refresh cost before: the reference.
        for name, with_timelines in ((FULL_REFRESH, False), (FULL_WITH_TIMELINES, True)):
            samples = []
            for _n in range(2 if quick else 3):
                started = time.perf_counter()
                dashboard.snapshot(
                    database.unit_of_work(), clock=clock, with_timelines=with_timelines
                )
                samples.append((time.perf_counter() - started) * 1000)
            rows.append(Row(f"{name}, {invitees:,} invitees", "ms", samples))
        database.dispose()
    return rows


def _arrived_customers(database: object) -> list[int]:
    from sqlalchemy import select

    from kiosk.models import Visit

    with database.unit_of_work() as uow:  # type: ignore[attr-defined]
        return list(uow.session.scalars(select(Visit.customer_id)))


def _touch(database: object, customers: list[int]) -> None:
    """A few customers changed between two refreshes, as desks do: each customer row
    rewritten (its trigger logs it, so the next refresh recomputes every figure of theirs)."""
    from sqlalchemy import text

    with database.engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(
            text("UPDATE customer SET points_balance = points_balance WHERE id = :c"),
            [{"c": c} for c in customers],
        )


def _noon(database: object) -> object:
    from kiosk.services.events import current_event

    with database.unit_of_work() as uow:  # type: ignore[attr-defined]
        event = current_event(uow.session)
        return max(slot.starts_at for slot in event.slots) + timedelta(hours=1)
