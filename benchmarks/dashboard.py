"""One dashboard refresh on a large event in full swing.

The dashboard reads every figure again every five seconds, so a refresh has to stay cheap
as the event grows. Measured on the demo event with 100,000 invitees (10,000 with
``--quick``) after a played day generated in bulk (not through the services, which would
take hours): about 65% of the invitees checked in, half of them through the service desk,
each with the steps, queue tickets, slips and booth redemptions a day leaves behind, and
the last arrivals still waiting in the queues. The played database is kept in
``benchmarks/.cache/`` like the demo databases.

- ``dashboard refresh`` (ms): ``kiosk.services.dashboard.snapshot`` without the timelines,
  what the station runs every 5 s: funnel, slots, queues, branches, offers, coverage, alerts.
- ``dashboard refresh with timelines`` (ms): the same with the four timelines (window
  functions over every visit), which the station adds every sixth refresh.
"""

from __future__ import annotations

import random
import shutil
import statistics
import time
from datetime import timedelta
from pathlib import Path

from benchmarks import CACHE, Row, progress
from benchmarks.demo_db import demo_database, sqlite_url
from kiosk.db import head_revision

FULL, QUICK = 100_000, 10_000


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
    from kiosk.clock import FixedClock
    from kiosk.db import open_database
    from kiosk.services import dashboard

    invitees = QUICK if quick else FULL
    path = played_database(invitees)
    database = open_database(sqlite_url(path))
    clock = FixedClock(_noon(database))
    rows = []
    for name, with_timelines, count in (
        ("dashboard refresh", False, 10 if quick else 30),
        ("dashboard refresh with timelines", True, 3 if quick else 10),
    ):
        dashboard.snapshot(database.unit_of_work(), clock=clock, with_timelines=with_timelines)
        samples = []
        for _n in range(count):
            started = time.perf_counter()
            board = dashboard.snapshot(
                database.unit_of_work(), clock=clock, with_timelines=with_timelines
            )
            samples.append((time.perf_counter() - started) * 1000)
        progress(
            f"{name}: median {statistics.median(samples):.0f} ms "
            f"({board.figures.total.arrived:,} visits, {board.figures.total.slips:,} slips)"
        )
        rows.append(Row(f"{name}, {invitees:,} invitees", "ms", samples))
    database.dispose()
    return rows


def _noon(database: object) -> object:
    from kiosk.services.events import current_event

    with database.unit_of_work() as uow:  # type: ignore[attr-defined]
        event = current_event(uow.session)
        return max(slot.starts_at for slot in event.slots) + timedelta(hours=1)
