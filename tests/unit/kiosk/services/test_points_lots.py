"""Points lots and tiers at the desk: spending takes the lots that expire first, a void or a
release gives back to the same lots (expired or not), a tier pays its own price and never
takes more than its quota, also when desks issue at the same moment (issue #19)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, select, update

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.models import (
    Customer,
    EventTier,
    JournalEntry,
    JournalKind,
    JournalLot,
    Offer,
    OfferTier,
    OutboxEntry,
    PointsLot,
    Slip,
)
from kiosk.permissions import Action
from kiosk.points import LotInput, available_points, lot_balances, set_lots
from kiosk.services import keys, reception, settlement
from kiosk.services.auth import staff_session
from kiosk.services.customer_offers import offers_for
from kiosk.services.events import current_event
from kiosk.services.slips import CartLine, SlipError, issue_slips, void_slip
from tests.approval_support import s001_approves
from tests.gate_support import make_ready
from tests.points_support import drop_lots

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)  # the demo event's day, 09:10 in Shanghai
EVENT_DAY = date(2026, 11, 28)
LOTS = [
    LotInput("A", 3_000, date(2027, 1, 31)),
    LotInput("B", 10_000, date(2027, 6, 30)),
    LotInput("C", 20_000, None),
]


def _checked_in(
    db: Database,
    customer_no: str,
    lots: list[LotInput],
    *,
    aum: int | None = None,
    label: str = "standard",
) -> int:
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup: the snapshot's lots
        customer = uow.session.scalar(select(Customer).where(Customer.customer_no == customer_no))
        assert customer is not None
        drop_lots(uow.session, Customer.id == customer.id)  # the demo's lots: only these
        set_lots(uow.session, customer, lots)
        customer.aum = aum
        customer.tier = label
        customer_id = customer.id
        uow.commit()
    make_ready(db, customer_id)
    staff = staff_session(db.unit_of_work(), "R001", clock=FixedClock(MORNING))
    reception.check_in(db.unit_of_work(), customer_id, staff, clock=FixedClock(MORNING))
    return customer_id


def _left(db: Database, customer_id: int, on: date) -> dict[str, tuple[int, bool]]:
    with db.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None
        return {lot.ref: (lot.left, lot.expired) for lot in lot_balances(uow.session, customer, on)}


def _available(db: Database, customer_id: int, on: date) -> int:
    with db.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None
        return available_points(uow.session, customer, on)


def _issue(db: Database, customer_id: int, cart: list[CartLine], staff_no: str = "A001") -> list:
    desk = staff_session(db.unit_of_work(), staff_no, clock=FixedClock(MORNING))
    key = keys.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
    return list(
        issue_slips(db.unit_of_work(), customer_id, cart, desk, key, clock=FixedClock(MORNING))
    )


def test_spending_takes_the_lots_that_expire_first_and_gives_back_to_them(
    demo_db: Database,
) -> None:
    customer_id = _checked_in(demo_db, "6200000030", LOTS)
    assert _available(demo_db, customer_id, EVENT_DAY) == 33_000

    checkup = _issue(demo_db, customer_id, [CartLine("O101")])[0]  # 12,000 points
    assert _left(demo_db, customer_id, EVENT_DAY) == {
        "A": (0, False),
        "B": (1_000, False),
        "C": (20_000, False),
    }
    movies = _issue(demo_db, customer_id, [CartLine("O501", 2)])[0]  # 4,000 points
    assert _left(demo_db, customer_id, EVENT_DAY) == {
        "A": (0, False),
        "B": (0, False),
        "C": (17_000, False),
    }
    with demo_db.unit_of_work() as uow:
        payloads = [
            json.loads(p)
            for p in uow.session.scalars(
                select(OutboxEntry.payload)
                .where(OutboxEntry.kind == "slip_issued")
                .order_by(OutboxEntry.id)
            )
        ]
    # The ledger is told which lots each slip took (docs/sync.md).
    assert [p["lots"] for p in payloads] == [
        [{"lot": "A", "points": 3_000}, {"lot": "B", "points": 9_000}],
        [{"lot": "B", "points": 1_000}, {"lot": "C", "points": 3_000}],
    ]

    # Voided after lot A expired: A gets its 3,000 back, but they can no longer be spent.
    february = FixedClock(datetime(2027, 2, 10, 2, 0, tzinfo=UTC))
    desk = staff_session(demo_db.unit_of_work(), "A001", clock=february)
    void_slip(
        demo_db.unit_of_work(),
        checkup.serial,
        desk,
        reason="customer changed mind",
        approval=s001_approves(demo_db, Action.VOID_SLIP, clock=february),
        clock=february,
    )
    on = date(2027, 2, 10)
    assert _left(demo_db, customer_id, on) == {
        "A": (3_000, True),
        "B": (9_000, False),
        "C": (17_000, False),
    }
    assert _available(demo_db, customer_id, on) == 26_000

    # Released at close (the movies' redeem-by date passed): back to B and C.
    march = FixedClock(datetime(2027, 3, 1, 2, 0, tzinfo=UTC))
    supervisor = staff_session(demo_db.unit_of_work(), "S001", clock=march)
    settlement.close_event(demo_db.unit_of_work(), supervisor, clock=march)
    on = date(2027, 3, 1)
    assert _left(demo_db, customer_id, on) == {
        "A": (3_000, True),
        "B": (10_000, False),
        "C": (20_000, False),
    }
    with demo_db.unit_of_work() as uow:
        s = uow.session
        assert s.scalar(select(Slip.status).where(Slip.serial == movies.serial)) == "released"
        # Each release mirrors its reserve lot for lot.
        for slip_serial in (checkup.serial, movies.serial):
            by_kind: dict[str, list[tuple[int, int]]] = {}
            for kind, lot_id, points in s.execute(
                select(JournalEntry.kind, JournalLot.lot_id, JournalLot.points)
                .join(JournalLot, JournalLot.journal_entry_id == JournalEntry.id)
                .join(Slip, Slip.id == JournalEntry.slip_id)
                .where(Slip.serial == slip_serial)
                .order_by(JournalLot.id)
            ):
                by_kind.setdefault(kind, []).append((lot_id, points))
            assert by_kind[JournalKind.RESERVE] == by_kind[JournalKind.RELEASE]


def test_expired_lots_are_not_spent(demo_db: Database) -> None:
    """A lot already expired on the event day counts for nothing; the cart is refused with
    the spendable balance, and nothing is taken."""
    customer_id = _checked_in(
        demo_db,
        "6200000031",
        [LotInput("old", 30_000, date(2026, 11, 27)), LotInput("new", 5_000, None)],
    )
    assert _available(demo_db, customer_id, EVENT_DAY) == 5_000
    with pytest.raises(SlipError, match="the customer has 5,000"):
        _issue(demo_db, customer_id, [CartLine("O101")])
    with demo_db.unit_of_work() as uow:
        assert uow.session.scalar(select(JournalLot.id)) is None


def _gold_tiers(db: Database, *, quota: int) -> None:
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup: the event's bands
        s = uow.session
        event = current_event(s)
        s.execute(delete(OfferTier))  # the demo's bands and tier prices: only these
        s.execute(delete(EventTier))
        s.add_all(
            [
                EventTier(event_id=event.id, code="GOLD", name="金卡", aum_floor=500_000),
                EventTier(event_id=event.id, code="DIAMOND", name="钻石", aum_floor=3_000_000),
            ]
        )
        offer = s.scalar(select(Offer).where(Offer.code == "O501"))
        assert offer is not None
        s.add(OfferTier(offer_id=offer.id, tier_code="GOLD", points_price=1_500, quota=quota))
        uow.commit()


def test_each_tier_pays_its_own_price(demo_db: Database) -> None:
    _gold_tiers(demo_db, quota=10)
    gold = _checked_in(demo_db, "6200000030", [LotInput("", 50_000)], aum=600_000)
    diamond = _checked_in(demo_db, "6200000031", [LotInput("", 50_000)], aum=5_000_000)
    below = _checked_in(demo_db, "6200000032", [LotInput("", 50_000)], aum=10_000)
    by_label = _checked_in(demo_db, "6200000033", [LotInput("", 50_000)], label="gold")
    prices = {}
    for name, customer_id in (
        ("gold", gold),
        ("diamond", diamond),
        ("below", below),
        ("label", by_label),
    ):
        offers = offers_for(demo_db.unit_of_work(), customer_id, clock=FixedClock(MORNING))
        shown = next(o.price for o in offers.offers if o.code == "O501")
        slip = _issue(demo_db, customer_id, [CartLine("O501")])[0]
        assert slip.points == shown  # the desk shows what the slip charges
        prices[name] = shown
    # No price for DIAMOND: the offer's own; below every floor: no tier, the offer's own; no
    # AUM in the file: the ledger's label names the tier.
    assert prices == {"gold": 1_500, "diamond": 2_000, "below": 2_000, "label": 1_500}
    with demo_db.unit_of_work() as uow:
        assert uow.session.scalars(select(Slip.tier).order_by(Slip.serial)).all() == [
            "GOLD",
            "DIAMOND",
            None,
            "GOLD",
        ]
        assert uow.session.scalar(select(OfferTier.reserved)) == 2


CUSTOMERS = ["6200000030", "6200000031", "6200000032", "6200000033", "6200000034"]


def _desks_race_for_the_quota(url: str) -> None:
    database = open_database(url)
    _gold_tiers(database, quota=3)
    ids = [_checked_in(database, no, [LotInput("", 50_000)], aum=800_000) for no in CUSTOMERS]
    database.dispose()
    barrier = threading.Barrier(len(ids))
    outcomes: list[str] = []

    def desk(customer_id: int) -> None:
        db = open_database(url)
        staff = staff_session(db.unit_of_work(), "A001", clock=FixedClock(MORNING))
        key = keys.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
        barrier.wait()
        try:
            issue_slips(
                db.unit_of_work(),
                customer_id,
                [CartLine("O501")],
                staff,
                key,
                clock=FixedClock(MORNING),
            )
            outcomes.append("issued")
        except SlipError as error:
            outcomes.append(str(error))
        db.dispose()

    threads = [threading.Thread(target=desk, args=(customer_id,)) for customer_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("issued") == 3, outcomes
    refusals = [o for o in outcomes if o != "issued"]
    assert len(refusals) == 2
    assert all(o.endswith("the places for 金卡 customers are all taken.") for o in refusals)
    database = open_database(url)
    with database.unit_of_work() as uow:
        s = uow.session
        assert s.scalar(select(OfferTier.reserved)) == 3
        assert s.scalar(select(Offer.reserved).where(Offer.code == "O501")) == 3
        refused = [i for i in ids if not s.scalar(select(Slip.id).where(Slip.customer_id == i))]
        issued = s.scalar(select(Slip.serial).where(Slip.customer_id.not_in(refused)).limit(1))
    # A refused desk took nothing: no journal entry, no lot touched.
    assert [_available(database, i, EVENT_DAY) for i in refused] == [50_000, 50_000]
    # A void gives the place back to the tier: one refused customer now gets it.
    desk = staff_session(database.unit_of_work(), "A001", clock=FixedClock(MORNING))
    void_slip(
        database.unit_of_work(),
        issued,
        desk,
        reason="swap",
        approval=s001_approves(database, Action.VOID_SLIP, clock=FixedClock(MORNING)),
        clock=FixedClock(MORNING),
    )
    _issue(database, refused[0], [CartLine("O501")])
    with database.unit_of_work() as uow:
        assert uow.session.scalar(select(OfferTier.reserved)) == 3
    database.dispose()


def test_desks_at_once_never_overrun_a_tier_quota(demo_url: str) -> None:
    _desks_race_for_the_quota(demo_url)


def test_a_customer_without_lots_spends_an_implicit_lot(demo_db: Database) -> None:
    """An event from before lots: the balance is one lot without a date, made real when it
    is first spent, and earlier journal entries are tied to it."""
    with audit.unaudited(), demo_db.unit_of_work() as uow:
        customer = uow.session.scalar(select(Customer).where(Customer.customer_no == "6200000034"))
        assert customer is not None
        uow.session.execute(
            update(Customer).where(Customer.id == customer.id).values(points_balance=20_000)
        )
        uow.session.execute(
            PointsLot.__table__.delete().where(PointsLot.customer_id == customer.id)
        )
        customer_id = customer.id
        uow.commit()
    make_ready(demo_db, customer_id)
    staff = staff_session(demo_db.unit_of_work(), "R001", clock=FixedClock(MORNING))
    reception.check_in(demo_db.unit_of_work(), customer_id, staff, clock=FixedClock(MORNING))
    assert _left(demo_db, customer_id, EVENT_DAY) == {"": (20_000, False)}
    _issue(demo_db, customer_id, [CartLine("O101")])
    _issue(demo_db, customer_id, [CartLine("O501")])
    assert _left(demo_db, customer_id, EVENT_DAY) == {"": (6_000, False)}
    with demo_db.unit_of_work() as uow:
        assert (
            uow.session.scalar(select(PointsLot.points).where(PointsLot.customer_id == customer_id))
            == 20_000
        )


def test_reception_says_what_expires_soon(demo_db: Database) -> None:
    """The card at the door: the points to spend, and of them what expires within three
    months and by when (expired lots count for nothing)."""
    customer_id = _checked_in(
        demo_db,
        "6200000030",
        [
            LotInput("gone", 9_000, date(2026, 11, 27)),  # expired the day before
            LotInput("soon", 2_500, date(2027, 2, 28)),  # within 3 months of 28 November
            LotInput("late", 4_000, date(2027, 6, 30)),
            LotInput("never", 1_000, None),
        ],
    )
    card = reception.customer_card(demo_db.unit_of_work(), customer_id, clock=FixedClock(MORNING))
    assert (card.points, card.expiring_soon, card.expiring_by) == (7_500, 2_500, date(2027, 2, 28))
