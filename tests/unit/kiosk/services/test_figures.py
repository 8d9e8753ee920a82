"""Event figures against the small event of ``tests/figures_support.py``, computed by hand
(the story is in that module's docstring), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.services import dashboard, reports
from kiosk.services.dashboard import Severity, Thresholds
from kiosk.services.figures import Attendance, EventFigures, Funnel, Interval, event_figures
from tests.figures_support import DAY, NOW, at, build_small_event


@pytest.fixture(params=["sqlite", "postgresql"])
def small(request: pytest.FixtureRequest, empty_url: str) -> Iterator[Database]:
    url = empty_url if request.param == "sqlite" else request.getfixturevalue("pg_url")
    database = open_database(url)
    build_small_event(database)
    yield database
    database.dispose()


def counts(row: Attendance) -> tuple[int, ...]:
    return (
        row.invited,
        row.confirmed,
        row.confirmed_arrived,
        row.arrived,
        row.walk_ins,
        row.governed,
        row.mobile_banking_opened,
        row.mobile_banking_activated,
        row.scan_pay,
        row.gate_overridden,
        row.slips_issued,
        row.redeemed,
        row.slips,
        row.slips_redeemed,
        row.points_issued,
        row.points_redeemed,
        row.points_stock,
    )


B01 = (3, 2, 2, 3, 0, 1, 1, 1, 2, 0, 2, 1, 3, 2, 8000, 6000, 35_000)
B02 = (2, 1, 1, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 38_000)
TOTAL = (5, 3, 3, 5, 1, 2, 1, 1, 2, 0, 2, 1, 3, 2, 8000, 6000, 73_000)


def figures(database: Database) -> EventFigures:
    return event_figures(database.unit_of_work(), clock=FixedClock(NOW))


def test_funnel_branches_and_points(small: Database) -> None:
    f = figures(small)
    assert counts(f.total) == TOTAL
    assert [(b.code, counts(b)) for b in f.branches] == [("B01", B01), ("B02", B02)]
    # Two true funnels: the invitations (c5 declined, c3 never confirmed, c1 c2 c4 came) and
    # the day (five arrivals, c1 and c2 with slips, c1 redeemed); the steps beside them.
    assert [(stage.value, n) for stage, n in f.total.funnel(Funnel.INVITATIONS)] == [
        ("invited", 5), ("confirmed", 3), ("confirmed_arrived", 3),
    ]  # fmt: skip
    assert [(stage.value, n) for stage, n in f.total.funnel(Funnel.DAY)] == [
        ("arrived", 5), ("slips_issued", 2), ("redeemed", 1),
    ]  # fmt: skip
    assert [(step.value, n) for step, n in f.total.steps()] == [
        ("governed", 2), ("mobile_banking_opened", 1), ("mobile_banking_activated", 1),
        ("scan_pay", 2), ("gate_overridden", 0),
    ]  # fmt: skip
    assert [n for _stage, n in f.total.stages()] == [5, 3, 3, 5, 2, 1]
    assert f.total.redemption_ratio == pytest.approx(6000 / 73_000)
    assert f.total.issued_ratio == pytest.approx(8000 / 73_000)


def test_rm_performance(small: Database) -> None:
    rms = reports.rm_performance(small.unit_of_work(), clock=FixedClock(NOW)).rms
    # RM001 invited c1-c3 (all of B01); RM002 c4 and c5; the walk-in has no RM.
    assert [(r.code, r.name, r.branch, counts(r)) for r in rms] == [
        ("RM001", "张经理", "B01", B01),
        ("RM002", "李经理", "B02", (2, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 38_000)),
        ("", "(no RM)", "", (0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
    ]


def test_slots_and_arrivals(small: Database) -> None:
    f = figures(small)
    assert [
        (s.code, s.capacity, s.invited, s.expected, s.arrived, s.early, s.on_time, s.late,
         s.companions, s.is_current, s.percent_of_capacity, s.percent_of_expected)
        for s in f.slots
    ] == [
        ("AM", 4, 3, 2, 3, 1, 1, 1, 1, False, 75, 150),
        ("PM", 10, 2, 1, 1, 0, 1, 0, 0, True, 10, 100),  # c5 declined: invited all the same
    ]  # fmt: skip
    # Half hours from 00:30 (the AM slot less the grace) to 08:00; c1 came before 00:30.
    assert f.arrivals[0].starts_at == at(0, 30) and f.arrivals[-1].starts_at == at(8, 0)
    assert {b.starts_at: b.arrivals for b in f.arrivals if b.arrivals} == {
        at(0, 30): 1,
        at(1, 0): 1,
        at(3, 30): 1,
        at(5, 0): 1,
        at(6, 0): 1,
    }


def test_queues(small: Database) -> None:
    f = figures(small)
    assert [
        (q.queue.value, q.waiting, q.in_service, q.served, q.oldest_waiting_since, q.wait_minutes)
        for q in f.queues
    ] == [
        ("service_desk", 1, 0, 2, at(3, 40), 170),
        ("activation", 2, 0, 2, at(5, 30), 60),
    ]


def test_offers_and_coverage(small: Database) -> None:
    f = figures(small)
    assert [
        (o.code, o.capacity, o.reserved, o.remaining, o.redeemed, o.redeemed_points)
        for o in f.offers
    ] == [("O1", 10, 3, 7, 1, 1000), ("O2", 1, 1, 0, 1, 5000)]
    assert [(r.key, r.numerator, r.denominator) for r in f.coverage] == [
        ("attendance", 3, 3),  # c1, c2, c4 of the three confirmed
        ("turnout", 4, 5),  # c1-c4 of five invitees
        ("governance", 2, 3),  # c1 and c4 of c1, c3, c4 (who had gaps at check-in)
        ("mobile_banking", 2, 5),  # c1 (opened today) and c2 of five arrivals
        ("activated", 1, 5),
        ("scan_pay", 2, 5),
        ("reactivated", 1, 2),  # c1 of c1 and c3, the dormant who came
        ("gate_overridden", 0, 5),
        ("slips", 2, 5),
        ("redeemed", 1, 2),
    ]


def test_points_as_the_bank_counts_them(small: Database) -> None:
    f = figures(small)
    p = f.points
    stock = p.stock
    assert stock is not None
    # Every customer's points on the day: c5's lot expired; c7 was pulled, never invited.
    assert (stock.customers, stock.customers_stock, p.invitee_stock, p.bank_stock) == (
        7, 165_000, 73_000, 10_000_000,
    )  # fmt: skip
    assert p.customers_ratio == pytest.approx(6000 / 165_000)  # 3.6%, the bank's kind
    assert p.invitee_ratio == pytest.approx(6000 / 73_000) == f.total.redemption_ratio
    assert p.bank_ratio == pytest.approx(6000 / 10_000_000)
    # c2's lot expiring in January, before the next event (a year on by default).
    assert (stock.expiring_from, stock.expiring_before) == (DAY, date(2027, 11, 28))
    assert (stock.expiring_points, stock.expiring_customers) == (12_000, 1)
    assert [(t.code, t.name, t.customers, t.slips, t.points) for t in p.tiers] == [
        ("GOLD", "金卡", 1, 1, 1000),
        ("", "No tier", 1, 1, 5000),
    ]
    assert (f.total.dormant_arrived, f.total.dormant_reactivated) == (2, 1)
    assert [(b.code, b.dormant_arrived, b.dormant_reactivated) for b in f.branches] == [
        ("B01", 2, 1),
        ("B02", 0, 0),
    ]


def test_every_customers_points_are_read_with_the_timelines(small: Database) -> None:
    """The dashboard's quick refresh leaves out the pass over every customer and lot."""
    quick = event_figures(small.unit_of_work(), clock=FixedClock(NOW), with_timelines=False)
    assert quick.points.stock is None and quick.points.customers_ratio is None
    assert quick.points.bank_ratio == pytest.approx(6000 / 10_000_000)
    assert quick.points.tiers == figures(small).points.tiers
    slow = event_figures(
        small.unit_of_work(), clock=FixedClock(NOW), with_timelines=False, with_stock=True
    )
    assert slow.points == figures(small).points


def test_timelines(small: Database) -> None:
    f = figures(small)
    found = {(t.interval, t.slot): (t.count, t.median_s, t.p90_s) for t in f.timelines}
    assert found == {
        # c1 600 s (AM), c4 1200 s (PM); together: median rank 1, p90 rank 2.
        (Interval.ARRIVAL_TO_DESK, "AM"): (1, 600, 600),
        (Interval.ARRIVAL_TO_DESK, "PM"): (1, 1200, 1200),
        (Interval.ARRIVAL_TO_DESK, ""): (2, 600, 1200),
        (Interval.DESK_TO_ACTIVATION, "AM"): (1, 1200, 1200),
        (Interval.DESK_TO_ACTIVATION, "PM"): (0, None, None),
        (Interval.DESK_TO_ACTIVATION, ""): (1, 1200, 1200),
        # c2 1200 s, c1 1800 s.
        (Interval.ARRIVAL_TO_ACTIVATION, "AM"): (2, 1200, 1800),
        (Interval.ARRIVAL_TO_ACTIVATION, "PM"): (0, None, None),
        (Interval.ARRIVAL_TO_ACTIVATION, ""): (2, 1200, 1800),
        # c1: called at activation 00:50, first redemption 01:20; the conflict does not count.
        (Interval.ACTIVATION_TO_REDEMPTION, "AM"): (1, 1800, 1800),
        (Interval.ACTIVATION_TO_REDEMPTION, "PM"): (0, None, None),
        (Interval.ACTIVATION_TO_REDEMPTION, ""): (1, 1800, 1800),
    }


def test_alerts_follow_the_thresholds(small: Database) -> None:
    board = dashboard.snapshot(small.unit_of_work(), clock=FixedClock(NOW))
    assert [(a.kind, a.subject, a.severity) for a in board.alerts] == [
        ("queue_wait", "service_desk", Severity.ERROR),  # 170 min, twice 15 and more
        ("queue_wait", "activation", Severity.ERROR),  # 60 min
        ("offer_capacity", "O2", Severity.ERROR),  # fully booked
    ]
    assert board.worst == Severity.ERROR
    assert "170 min" in board.alerts[0].message and "11:40" in board.alerts[0].message
    relaxed = Thresholds(queue_wait_minutes=100, slot_crowding_percent=75, offer_left_percent=0)
    board = dashboard.snapshot(small.unit_of_work(), clock=FixedClock(NOW), thresholds=relaxed)
    assert [(a.kind, a.subject, a.severity) for a in board.alerts] == [
        ("offer_capacity", "O2", Severity.ERROR),
        ("queue_wait", "service_desk", Severity.WARN),  # 170 < 200
        ("slot_crowding", "AM", Severity.WARN),  # 75% of capacity, not over it
    ]
    quiet = Thresholds(queue_wait_minutes=240, slot_crowding_percent=300, offer_left_percent=0)
    with audit.unaudited(), small.unit_of_work() as uow:  # test setup
        from kiosk.models import Offer

        uow.session.query(Offer).filter(Offer.code == "O2").update({"capacity": 2})
        uow.commit()
    assert (
        dashboard.snapshot(small.unit_of_work(), clock=FixedClock(NOW), thresholds=quiet).alerts
        == []
    )


def test_thresholds_refuse_nonsense() -> None:
    with pytest.raises(Exception, match="between 1 and 240 minutes"):
        Thresholds(queue_wait_minutes=0).check()
    with pytest.raises(Exception, match="between 10% and 300%"):
        Thresholds(slot_crowding_percent=5).check()


def test_merchant_redemptions_and_unredeemed(small: Database) -> None:
    merchants = reports.merchant_redemptions(small.unit_of_work(), clock=FixedClock(NOW))
    assert [(r.serial, r.offer_code, r.points, r.conflict) for r in merchants.redemptions] == [
        (1, "O1", 1000, None),
        (2, "O2", 5000, None),
        (4, "O2", 5000, "voided"),
    ]
    unredeemed = reports.unredeemed_slips(small.unit_of_work(), clock=FixedClock(NOW))
    assert [
        (u.serial, u.customer_no, u.masked_name, u.branch, u.rm, u.offer, u.quantity, u.points)
        for u in unredeemed.slips
    ] == [(3, "6200000002", "李*", "B01", "张经理", "基础体检", 2, 2000)]
    assert unredeemed.points == 2000
