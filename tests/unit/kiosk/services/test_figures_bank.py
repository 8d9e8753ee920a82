"""Figures as the bank counts them (issue #19, item 5), on the demo event with the day played
through the real services (check-in, the mobile-banking login, slips from lots, a booth's
redemptions, a void), on SQLite and PostgreSQL:

- the redemption ratio against every customer's points (not only the invitees') and against
  the bank's whole stock, which only a supervisor sets (audited);
- the invitees' points expiring before the next event, less what the event took from those
  very lots, read back independently lot by lot with ``kiosk.points.lot_balances``;
- dormant customers reactivated: the login clears the snapshot's flag and the count survives;
- points redeemed per tier (the tier at issue), "no tier" last;
- a ledger pull that settles the journal leaves every customer's stock and the expiring
  points as they were.

The story: the demo's 240 invitees, plus one customer pulled from the ledger but not invited
(50,000 points, a 4,000 lot expired before the day, 7,777 expiring in spring: not an invitee,
not counted as expiring). The demo's tiers: GOLD 金卡 from AUM 50,000, PLATINUM 白金 from
500,000 (DIAMOND, PRIVATE above); the demo's other invitees keep their own dated lots.

- gold (6200000030, AUM 600,000: PLATINUM, dormant): lots A 30,000 expiring in 30 days,
  B 10,000 without a date. Logs in to mobile banking (reactivated); O101 x2 (24,000, all
  from A: 6,000 of A left), redeemed at M01's booth.
- silver (6200000031, AUM 60,000: GOLD, dormant, never logs in): lots X 2,000 expired 10
  days before, Y 5,000 in 200 days, Z 8,000 in 400 days, W 30,000 without a date. O101
  (12,000: Y 5,000, Z 7,000) redeemed; O102 (30,000: Z 1,000, W 29,000) voided, given back
  to Z and W.
- plain (6200000032, AUM 1,000: no tier, not dormant, 40,000 in one lot without a date):
  logs in; O102 (30,000) redeemed.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select, update

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.errors import KioskError, PermissionDenied
from kiosk.models import (
    AuditRecord,
    Customer,
    EventTier,
    Invitation,
    JournalEntry,
    PointsLot,
    Slip,
)
from kiosk.permissions import Action
from kiosk.points import LotInput, lot_balances, set_lots
from kiosk.services import activation, dashboard, keys, reception
from kiosk.services.auth import staff_session
from kiosk.services.booths import deliver_bundle
from kiosk.services.events import current_event
from kiosk.services.figure_settings import figure_settings, set_figure_settings
from kiosk.services.figures import PointsFigures, event_figures
from kiosk.services.slips import CartLine, issue_slips, void_slip
from printing.event_reports import write_event_report
from tests.approval_support import s001_approves
from tests.booth_support import new_booth, pack_bytes
from tests.conftest import DEMO_DATE
from tests.gate_support import make_ready

DAY = DEMO_DATE
MORNING = FixedClock(datetime(2026, 11, 28, 1, 10, tzinfo=UTC))  # 09:10 at the venue
GOLD, SILVER, PLAIN, OUTSIDER = "6200000030", "6200000031", "6200000032", "9900000001"


def _ids(db: Database) -> dict[str, int]:
    with db.unit_of_work() as uow:
        return {
            no: id_
            for no, id_ in uow.session.execute(
                select(Customer.customer_no, Customer.id).where(
                    Customer.customer_no.in_((GOLD, SILVER, PLAIN, OUTSIDER))
                )
            )
        }


def _prepare(db: Database) -> dict[str, int]:
    """The snapshot and the event's tiers, as an import and a ledger pull would leave them."""
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup
        s = uow.session
        event = current_event(s)
        tiers = {
            code
            for (code,) in s.execute(select(EventTier.code).where(EventTier.event_id == event.id))
        }
        assert {"GOLD", "PLATINUM"} <= tiers  # the demo's bands
        customers = {
            c.customer_no: c
            for c in s.scalars(
                select(Customer).where(Customer.customer_no.in_((GOLD, SILVER, PLAIN)))
            )
        }
        gold, silver, plain = customers[GOLD], customers[SILVER], customers[PLAIN]
        gold.aum, gold.dormant = 600_000, True
        set_lots(s, gold, [LotInput("A", 30_000, DAY + timedelta(30)), LotInput("B", 10_000)])
        silver.aum, silver.dormant = 60_000, True
        set_lots(
            s,
            silver,
            [
                LotInput("X", 2_000, DAY - timedelta(10)),
                LotInput("Y", 5_000, DAY + timedelta(200)),
                LotInput("Z", 8_000, DAY + timedelta(400)),
                LotInput("W", 30_000),
            ],
        )
        plain.aum, plain.dormant = 1_000, False
        set_lots(s, plain, [LotInput("", 40_000)])  # the demo's lots kept at 0
        outsider = Customer(
            customer_no=OUTSIDER, name="外部客户", branch_id=gold.branch_id, points_balance=0
        )
        s.add(outsider)
        s.flush()
        set_lots(
            s,
            outsider,
            [
                LotInput("1", 50_000),
                LotInput("2", 4_000, DAY - timedelta(1)),
                LotInput("3", 7_777, DAY + timedelta(100)),
            ],
        )
        uow.commit()
    ids = _ids(db)
    make_ready(db, ids[GOLD], ids[SILVER], ids[PLAIN])
    return ids


def _play_the_day(db: Database, ids: dict[str, int], folder: Path) -> None:
    r001 = staff_session(db.unit_of_work(), "R001", clock=MORNING)
    a001 = staff_session(db.unit_of_work(), "A001", clock=MORNING)
    for no in (GOLD, SILVER, PLAIN):
        reception.check_in(db.unit_of_work(), ids[no], r001, clock=MORNING)
    for no in (GOLD, PLAIN):
        activation.record_step(
            db.unit_of_work(), ids[no], activation.Step.MOBILE_BANKING_LOGIN, a001, clock=MORNING
        )
    key = keys.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
    codes = []
    for no, cart in ((GOLD, [CartLine("O101", 2)]), (SILVER, [CartLine("O101")]),
                     (PLAIN, [CartLine("O102")])):  # fmt: skip
        codes += [s.code for s in issue_slips(db.unit_of_work(), ids[no], cart, a001, key,
                                              clock=MORNING)]  # fmt: skip
    voided = issue_slips(db.unit_of_work(), ids[SILVER], [CartLine("O102")], a001, key,
                         clock=MORNING)  # fmt: skip
    void_slip(
        db.unit_of_work(),
        voided[0].serial,
        a001,
        reason="changed their mind",
        approval=s001_approves(db, Action.VOID_SLIP, clock=MORNING),
        clock=MORNING,
    )
    booth = new_booth(folder / "booth.sqlite3")
    booth.install(pack_bytes(db, "M01"))
    for code in codes:
        assert booth.redeem(code, "店员甲").redeemed
    deliver_bundle(db.unit_of_work(), booth.bundle()[0], clock=MORNING)


def _expected_by_hand_of_the_lots(db: Database, before: date) -> tuple[int, int]:
    """The invitees' points left in lots expiring from the day until before ``before``, one
    customer at a time through ``kiosk.points`` (what the figures do in one query)."""
    points = holders = 0
    with db.unit_of_work() as uow:
        s = uow.session
        invited = select(Invitation.customer_id)
        for customer in s.scalars(select(Customer).where(Customer.id.in_(invited))):
            left = sum(
                lot.left
                for lot in lot_balances(s, customer, DAY)
                if lot.expires_on is not None and DAY <= lot.expires_on < before
            )
            points += left
            holders += left > 0
    return points, holders


def _every_customers_points(db: Database) -> int:
    """Every customer's snapshot less the lots expired by the day, row by row."""
    with db.unit_of_work() as uow:
        s = uow.session
        balances = sum(s.scalars(select(Customer.points_balance)))
        expired = sum(
            lot.points
            for lot in s.scalars(select(PointsLot))
            if lot.expires_on is not None and lot.expires_on < DAY
        )
        return balances - expired


def _points(db: Database) -> PointsFigures:
    return event_figures(
        db.unit_of_work(), clock=MORNING, with_timelines=False, with_stock=True
    ).points


def test_points_as_the_bank_counts_them(any_demo_db: Database, tmp_path: Path) -> None:
    db = any_demo_db
    ids = _prepare(db)
    stock_before = _every_customers_points(db)
    # The demo's other invitees' lots in each window, before anything is spent, less the lots
    # of gold and silver written above (A, Y; and Z in the longer window).
    year, later = date(2027, 11, 28), DAY + timedelta(500)
    points, holders = _expected_by_hand_of_the_lots(db, year)
    others = (points - 35_000, holders - 2)
    points, holders = _expected_by_hand_of_the_lots(db, later)
    others_later = (points - 43_000, holders - 2)
    _play_the_day(db, ids, tmp_path)
    f = event_figures(db.unit_of_work(), clock=MORNING)
    p, total = f.points, f.total

    # Redeemed: gold's 24,000, silver's 12,000 and plain's 30,000; the void is not.
    assert p.redeemed == total.points_redeemed == 66_000
    with db.unit_of_work() as uow:
        customers = len(uow.session.scalars(select(Customer.id)).all())
    assert p.stock.customers == customers == 241
    # Every customer's points on the day: the outsider's 50,000 and 7,777 count, the lots
    # expired before the day (silver's X, the outsider's 4,000) do not; slips change nothing.
    assert p.stock.customers_stock == stock_before == _every_customers_points(db)
    assert p.stock.customers_stock - p.invitee_stock == 57_777 - 2_000  # the outsider, silver's X
    assert p.customers_ratio == pytest.approx(66_000 / p.stock.customers_stock)
    assert p.invitee_ratio == pytest.approx(66_000 / p.invitee_stock)
    assert p.customers_ratio < p.invitee_ratio
    assert p.bank_stock is None and p.bank_ratio is None

    # Expiring before the next event (a year on): 6,000 of gold's lot A; silver's Y is spent,
    # Z expires later, the outsider is not invited.
    assert (p.stock.expiring_from, p.stock.expiring_before) == (DAY, year)
    expiring = (p.stock.expiring_points, p.stock.expiring_customers)
    assert expiring == (others[0] + 6_000, others[1] + 1)
    assert expiring == _expected_by_hand_of_the_lots(db, year)

    # Dormant: gold and silver came; gold's login woke the account and cleared the flag.
    assert (total.dormant_arrived, total.dormant_reactivated) == (2, 1)
    with db.unit_of_work() as uow:
        assert uow.session.get(Customer, ids[GOLD]).dormant is False  # type: ignore[union-attr]
    reactivated = next(r for r in f.coverage if r.key == "reactivated")
    assert (reactivated.numerator, reactivated.denominator) == (1, 2)

    # Per tier, the tier each slip was issued in; highest band first, no tier last.
    with db.unit_of_work() as uow:
        tiers_issued = set(uow.session.scalars(select(Slip.tier).distinct()))
    assert tiers_issued == {"PLATINUM", "GOLD", None}
    assert [(t.code, t.name, t.customers, t.slips, t.points) for t in p.tiers] == [
        ("PLATINUM", "白金", 1, 1, 24_000),
        ("GOLD", "金卡", 1, 1, 12_000),
        ("", "No tier", 1, 1, 30_000),
    ]
    assert sum(t.points for t in p.tiers) == p.redeemed

    # The next event and the bank's stock: a supervisor's, audited; nobody else's.
    a001 = staff_session(db.unit_of_work(), "A001", clock=MORNING)
    with pytest.raises(PermissionDenied, match="Only a supervisor"):
        set_figure_settings(db.unit_of_work(), a001, bank_points_stock=1, clock=MORNING)
    s001 = staff_session(db.unit_of_work(), "S001", clock=MORNING)
    with pytest.raises(KioskError, match="must come after this event"):
        set_figure_settings(db.unit_of_work(), s001, next_event_on=DAY, clock=MORNING)
    with pytest.raises(KioskError, match="positive number of points"):
        set_figure_settings(db.unit_of_work(), s001, bank_points_stock=0, clock=MORNING)
    settings = set_figure_settings(
        db.unit_of_work(),
        s001,
        bank_points_stock=2_000_000_000,
        next_event_on=later,
        clock=MORNING,
        station="test",
    )
    assert (settings.bank_points_stock, settings.next_event_on) == (2_000_000_000, later)
    assert figure_settings(db.unit_of_work()) == settings
    with db.unit_of_work() as uow:
        details = uow.session.scalars(
            select(AuditRecord.details).where(AuditRecord.action == "figure_settings_set")
        ).all()
    assert [json.loads(d) for d in details] == [
        {
            "bank_points_stock": 2_000_000_000,
            "next_event_on": later.isoformat(),
            "was": {"bank_points_stock": None, "next_event_on": None},
        }
    ]
    p = _points(db)
    assert p.bank_stock == 2_000_000_000
    assert p.bank_ratio == pytest.approx(66_000 / 2_000_000_000)
    # Silver's Z now expires before the next event: 8,000 less the 7,000 O101 took (O102's
    # 1,000 came back with the void).
    expiring = (p.stock.expiring_points, p.stock.expiring_customers)
    assert p.stock.expiring_before == later
    assert expiring == (others_later[0] + 7_000, others_later[1] + 2)
    assert expiring == _expected_by_hand_of_the_lots(db, later)

    # The event summary prints the same, each ratio named by what it divides by.
    xlsx, pdf = write_event_report("summary", db.unit_of_work, tmp_path, clock=MORNING)
    rows = {
        row[0]: row[1]
        for row in openpyxl.load_workbook(xlsx)["Points"].iter_rows(min_row=2, values_only=True)
        if row[1] is not None
    }
    assert rows["Points of every customer (spendable on the event day)"] == p.stock.customers_stock
    assert rows["Bank's whole points stock"] == 2_000_000_000
    assert rows["Dormant customers reactivated"] == 1
    tiers = [
        list(row)
        for row in openpyxl.load_workbook(xlsx)["Points redeemed per tier"].iter_rows(
            min_row=2, max_row=5, values_only=True
        )
    ]
    assert [row[:4] for row in tiers] == [
        ["白金", 1, 1, 24_000],
        ["金卡", 1, 1, 12_000],
        ["No tier", 1, 1, 30_000],
        ["Total", 3, 3, 66_000],
    ]
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "2,000,000,000" in text and "24,000" in text and "白金" in text

    # Clearing the stock shows it as not given again.
    set_figure_settings(db.unit_of_work(), s001, bank_points_stock=None, clock=MORNING)
    assert _points(db).bank_stock is None
    board = dashboard.snapshot(db.unit_of_work(), clock=MORNING, with_timelines=False)
    assert board.figures.points.bank_stock is None

    # A ledger pull afterwards: the ledger has applied the journal, the lots are what is
    # left, the entries settled. Every customer's stock and the expiring points stay; the
    # invitees' stock is the snapshot's and shrinks by what was spent.
    before = _points(db)
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup: what a pull writes
        s = uow.session
        for no, lots in (
            (GOLD, [LotInput("A", 6_000, DAY + timedelta(30)), LotInput("B", 10_000)]),
            (
                SILVER,
                [
                    LotInput("X", 2_000, DAY - timedelta(10)),
                    LotInput("Y", 0, DAY + timedelta(200)),
                    LotInput("Z", 1_000, DAY + timedelta(400)),
                    LotInput("W", 30_000),
                ],
            ),
            (PLAIN, [LotInput("", 10_000)]),
        ):
            customer = s.get(Customer, ids[no])
            assert customer is not None
            set_lots(s, customer, lots)
        s.execute(update(JournalEntry).values(settled_at=MORNING.now()))
        uow.commit()
    after = _points(db)
    assert after.stock.customers_stock == before.stock.customers_stock
    assert (after.stock.expiring_points, after.stock.expiring_customers) == expiring
    assert after.invitee_stock == before.invitee_stock - 66_000
    # A later pull that flags gold dormant again does not count gold twice.
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup
        uow.session.execute(update(Customer).where(Customer.id == ids[GOLD]).values(dormant=True))
        uow.commit()
    total = event_figures(db.unit_of_work(), clock=MORNING, with_timelines=False).total
    assert (total.dormant_arrived, total.dormant_reactivated) == (2, 1)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from cli.main import main

    try:
        code = main(["--lang", "en", *argv])
    except SystemExit as exit_:  # argparse usage errors
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_kiosk_event_figures(
    any_demo_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIOSK_PIN", "1234")  # every demo staff member's PIN
    figures = ["--db", any_demo_url, "event", "figures"]
    code, out, err = _run(capsys, *figures)
    assert (code, err) == (0, "")
    assert out == (
        "Bank's whole points stock: not given\n"
        "Next event: not given (a year after this event: 2027-11-28)\n"
    )
    code, out, err = _run(capsys, *figures, "--bank-stock", "1,500,000,000", "--staff", "S001")
    assert (code, err) == (0, "")
    assert out.startswith("Bank's whole points stock: 1,500,000,000 points\nNext event: not")
    code, out, err = _run(capsys, *figures, "--next-event", "2027-06-01", "--staff", "S001")
    assert out == "Bank's whole points stock: 1,500,000,000 points\nNext event: 2027-06-01\n"
    # Refused: a typo, a next event before this one, anyone but a supervisor, nobody named.
    code, out, err = _run(capsys, *figures, "--bank-stock", "15亿", "--staff", "S001")
    assert code == 2 and "is not a number of points" in err
    code, out, err = _run(capsys, *figures, "--next-event", "2026-11-01", "--staff", "S001")
    assert code == 1 and "must come after this event (2026-11-28)" in err
    code, out, err = _run(capsys, *figures, "--bank-stock", "5", "--staff", "A001")
    assert code == 1 and "Only a supervisor sets the bank's points stock" in err
    code, out, err = _run(capsys, *figures, "--bank-stock", "5")
    assert code == 1 and "--staff" in err
    # "none" clears one and keeps the other.
    code, out, err = _run(capsys, *figures, "--bank-stock", "none", "--staff", "S001")
    assert out == "Bank's whole points stock: not given\nNext event: 2027-06-01\n"
    database = open_database(any_demo_url)
    try:
        with database.unit_of_work() as uow:
            event = current_event(uow.session)
            assert (event.bank_points_stock, event.next_event_on) == (None, date(2027, 6, 1))
            actions = uow.session.scalars(
                select(AuditRecord.action).where(AuditRecord.action == "figure_settings_set")
            ).all()
        assert len(actions) == 3
    finally:
        database.dispose()
