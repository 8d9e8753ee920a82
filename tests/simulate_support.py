"""A simulated demo day (``kiosk.simulate``), and the check that every report agrees with the
dashboard's figures, shared by the unit and the UI tests."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest

from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import create_demo
from kiosk.services import dashboard
from kiosk.services.dashboard import Dashboard
from kiosk.services.figures import FUNNELS
from kiosk.services.settlement import reconciliation, settlement
from kiosk.simulate import Simulation, SimulationSummary
from printing.event_reports import REPORTS, write_event_report

SIM_DATE = date(2026, 11, 28)


def simulate(
    path: Path, *, invitees: int = 60, seed: int = 11
) -> tuple[SimulationSummary, FixedClock]:
    """A demo event of ``invitees`` played to the end; the clock when it was over."""
    database = open_database(f"sqlite:///{path}")
    create_demo(database.unit_of_work(), event_date=SIM_DATE, invitees=invitees, seed=seed)
    simulation = Simulation(database, path.parent / "booths", seed=seed)
    summary = simulation.run()
    simulation.close()
    database.dispose()
    return summary, FixedClock(simulation.clock.now())


def table(path: Path, sheet: str) -> list[list[object]]:
    """The sheet's table: header and rows, without the note below it."""
    rows = [list(r) for r in openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True)]
    return [r for r in rows if any(v is not None for v in r[1:])]


def keyed(path: Path, sheet: str) -> dict[object, list[object]]:
    return {row[0]: row[1:] for row in table(path, sheet)[1:]}


def assert_reports_agree(database: Database, clock: FixedClock, folder: Path) -> Dashboard:
    """Write every report and check each figure it shares with the dashboard."""
    board = dashboard.snapshot(database.unit_of_work(), clock=clock)
    f, total = board.figures, board.figures.total
    files = {
        kind.name: write_event_report(kind.name, database.unit_of_work, folder, clock=clock)[0]
        for kind in REPORTS
    }
    summary = files["summary"]
    funnel = keyed(summary, "Invitation funnel") | keyed(summary, "Funnel of the day")
    assert [values[0] for values in funnel.values()] == [n for _s, n in total.stages()]
    for which in FUNNELS:  # a true funnel never rises from one stage to the next
        counts = [n for _stage, n in total.funnel(which)]
        assert counts == sorted(counts, reverse=True), (which, counts)
    steps = keyed(summary, "Steps at the desks")
    assert [values[0] for values in steps.values()] == [n for _s, n in total.steps()]
    points = keyed(summary, "Points")
    assert points["Points stock of the invitees"][0] == total.points_stock
    p = f.points
    stock = p.stock
    assert stock is not None
    assert (p.redeemed, p.invitee_stock) == (total.points_redeemed, total.points_stock)
    every = points["Points of every customer (spendable on the event day)"][0]
    assert every == stock.customers_stock >= p.invitee_stock - _expired_invitee_points(database, f)
    assert points["Customers in the event database"][0] == stock.customers
    bank_ratio = "Redemption ratio as the bank counts it (redeemed / every customer's points)"
    assert points[bank_ratio][0] == (
        pytest.approx(p.customers_ratio) if p.customers_ratio is not None else None
    )
    invitee_ratio = "Invitees' redemption ratio (redeemed / invitees' points; not the bank's)"
    assert points[invitee_ratio][0] == (
        pytest.approx(p.invitee_ratio) if p.invitee_ratio is not None else None
    )
    bank_stock = points["Bank's whole points stock"][0]
    assert bank_stock == (p.bank_stock if p.bank_stock is not None else "not given")
    expiring = next(k for k in points if str(k).startswith("Invitees' points expiring before"))
    assert points[expiring][0] == stock.expiring_points
    assert str(expiring).endswith(
        f"({stock.expiring_from} to {stock.expiring_before - timedelta(1)})"
    )
    assert points["Dormant customers reactivated"][0] == total.dormant_reactivated
    assert points["Dormant customers who came"][0] == total.dormant_arrived
    tiers = keyed(summary, "Points redeemed per tier")
    assert tiers.pop("Total")[:3] == [
        total.redeemed, sum(t.slips for t in p.tiers), total.points_redeemed,
    ]  # fmt: skip
    assert [(name, v[:3]) for name, v in tiers.items()] == [
        (t.name, [t.customers, t.slips, t.points]) for t in p.tiers
    ]
    assert sum(t.points for t in p.tiers) == total.points_redeemed
    assert sum(t.slips for t in p.tiers) == total.slips_redeemed
    assert points["Points issued on slips"][0] == total.points_issued
    assert points["Points redeemed at merchants"][0] == total.points_redeemed
    assert points["Slips redeemed"][0] == total.slips_redeemed
    branches = keyed(summary, "Attendance by branch")
    assert branches.pop("Total")[1:] == [
        total.invited, total.confirmed, total.confirmed_arrived, total.arrived, total.governed,
        total.mobile_banking_opened, total.mobile_banking_activated, total.scan_pay,
        total.slips_issued, total.points_issued, total.points_redeemed,
    ]  # fmt: skip
    assert {code: values[4] for code, values in branches.items()} == {
        b.code: b.arrived for b in f.branches
    }
    slots = keyed(summary, "Attendance by slot")
    for slot in f.slots:
        assert slots[slot.label][3:5] == [slot.expected, slot.arrived]
    assert sum(v[4] for v in slots.values()) == total.arrived  # slots and walk-ins
    queues = keyed(summary, "Queues")
    assert [v[0] for v in queues.values()] == [q.waiting for q in f.queues]

    rms = keyed(files["rm"], "Per RM")
    assert rms.pop("Total")[2:] == [
        total.invited, total.confirmed, total.confirmed_arrived, total.arrived, total.governed,
        total.mobile_banking_opened, total.mobile_banking_activated, total.scan_pay,
        total.slips_issued, total.points_issued, total.points_redeemed,
    ]  # fmt: skip
    for column in range(2, 13):  # the RMs add up to the event
        assert sum(int(v[column] or 0) for v in rms.values()) == rms_total(total, column)

    merchants = keyed(files["merchants"], "Per service")
    merchant_total = merchants.pop("Total")
    assert merchant_total[3:7] == [
        sum(o.reserved for o in f.offers),
        sum(o.remaining for o in f.offers),
        sum(o.redeemed for o in f.offers),
        total.points_redeemed,
    ]
    redemptions = table(files["merchants"], "Redemptions")[1:]
    clean = [r for r in redemptions if not r[9]]
    assert len(clean) == total.slips_redeemed
    assert sum(r[7] for r in clean) == total.points_redeemed

    unredeemed = table(files["unredeemed"], "Slips")[1:]
    assert unredeemed[-1][0] == "Total"
    assert len(unredeemed) - 1 == total.slips - total.slips_redeemed
    assert unredeemed[-1][9] == total.points_issued - total.points_redeemed

    progress = keyed(files["progress"], "Per branch")["Total"]
    assert progress[1] == total.invited and progress[5] == total.confirmed

    paid = settlement(database.unit_of_work())
    assert sum(line.points for line in paid) == total.points_redeemed
    recon = reconciliation(database.unit_of_work())
    assert recon.balanced and recon.redeemed_points == total.points_redeemed
    return board


def _expired_invitee_points(database: Database, f: object) -> int:
    """The invitees' points in lots expired by the event day: the only way every customer's
    points can fall below the invitees' (who are customers too)."""
    from sqlalchemy import func, select

    from kiosk.models import Invitation, PointsLot

    with database.unit_of_work() as uow:
        return int(
            uow.session.scalar(
                select(func.coalesce(func.sum(PointsLot.points), 0)).where(
                    PointsLot.expires_on < f.event_date,  # type: ignore[attr-defined]
                    PointsLot.customer_id.in_(select(Invitation.customer_id)),
                )
            )
            or 0
        )


def rms_total(total: object, column: int) -> int:
    names = [
        "invited", "confirmed", "confirmed_arrived", "arrived", "governed",
        "mobile_banking_opened", "mobile_banking_activated", "scan_pay", "slips_issued",
        "points_issued", "points_redeemed",
    ]  # fmt: skip
    return int(getattr(total, names[column - 2]))
