"""The activation desk's rules: steps recorded once, catalog and cart, reprints counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from kiosk import audit
from kiosk.cart import Cart, affordable, check_cart
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.errors import ApprovalNeeded
from kiosk.models import (
    AuditRecord,
    Customer,
    Invitation,
    MobileBanking,
    Offer,
    OutboxEntry,
    Preselection,
    Slip,
)
from kiosk.permissions import Action
from kiosk.services import activation, keys, reception
from kiosk.services.activation import ActivationError, Step
from kiosk.services.auth import staff_session
from kiosk.services.slips import (
    CartLine,
    SlipError,
    issue_slips,
    record_print,
    slip_document,
    slips_of,
    void_slip,
)
from tests.approval_support import s001_approves
from tests.gate_support import make_ready
from tests.points_support import drop_lots

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)


def _checked_in(db: Database, *, mobile: str = MobileBanking.OPENED, balance: int = 30_000) -> int:
    """A demo customer with an invitation that has pre-selected services, checked in."""
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup
        s = uow.session
        customer_id = s.scalar(
            select(Invitation.customer_id)
            .join(Preselection, Preselection.invitation_id == Invitation.id)
            .order_by(Invitation.customer_id)
            .limit(1)
        )
        s.execute(
            update(Customer)
            .where(Customer.id == customer_id)
            .values(mobile_banking=mobile, points_balance=balance)
        )
        drop_lots(s, Customer.id == customer_id)
        uow.commit()
    assert customer_id is not None
    clock = FixedClock(MORNING)
    staff = staff_session(db.unit_of_work(), "R001", clock=clock)
    reception.check_in(db.unit_of_work(), customer_id, staff, clock=clock)
    return customer_id


def test_steps_are_recorded_once_with_time_and_staff(demo_db: Database) -> None:
    customer_id = _checked_in(demo_db)
    clock = FixedClock(MORNING + timedelta(minutes=20))
    desk = staff_session(demo_db.unit_of_work(), "A001", clock=clock)
    other = staff_session(demo_db.unit_of_work(), "A002", clock=clock)
    with pytest.raises(ActivationError, match="after the charity scan-pay"):
        activation.record_step(
            demo_db.unit_of_work(), customer_id, Step.PRIZE_GIVEN, desk, clock=clock
        )
    for step in Step:
        activation.record_step(demo_db.unit_of_work(), customer_id, step, desk, clock=clock)
    with pytest.raises(ActivationError, match=r"Already recorded at 09:30 by"):
        activation.record_step(
            demo_db.unit_of_work(), customer_id, Step.PRIZE_GIVEN, other, clock=clock
        )
    seen = activation.desk_customer(demo_db.unit_of_work(), customer_id, clock=clock)
    assert set(seen.steps) == set(Step)
    assert seen.steps[Step.CHARITY_PAID].at == clock.now()
    assert seen.steps[Step.CHARITY_PAID].staff_name == desk.name
    assert seen.mobile_banking == MobileBanking.ACTIVE
    with demo_db.unit_of_work() as uow:
        kinds = uow.session.scalars(select(OutboxEntry.kind)).all()
        assert [k for k in kinds if k in set(Step)] == [s.value for s in Step]
        assert (
            uow.session.scalar(select(func.count()).where(AuditRecord.action == "prize_given")) == 1
        )


def test_login_needs_mobile_banking_and_check_in(demo_db: Database) -> None:
    customer_id = _checked_in(demo_db, mobile=MobileBanking.NONE)
    clock = FixedClock(MORNING + timedelta(minutes=20))
    desk = staff_session(demo_db.unit_of_work(), "A001", clock=clock)
    with pytest.raises(ActivationError, match="service desk opens it"):
        activation.record_step(
            demo_db.unit_of_work(), customer_id, Step.MOBILE_BANKING_LOGIN, desk, clock=clock
        )
    with demo_db.unit_of_work() as uow:
        absent = uow.session.scalar(
            select(Customer.id).where(Customer.id != customer_id).order_by(Customer.id).limit(1)
        )
    with pytest.raises(ActivationError, match="has not checked in"):
        activation.desk_customer(demo_db.unit_of_work(), absent, clock=clock)


def test_catalog_and_preselected_cart(demo_db: Database) -> None:
    customer_id = _checked_in(demo_db)
    offers = activation.catalog(demo_db.unit_of_work())
    assert len(offers) == 15
    keys_in_order = [(o.merchant_code, o.category, o.code) for o in offers]
    assert keys_in_order == sorted(keys_in_order)
    cart = activation.preselected_cart(demo_db.unit_of_work(), customer_id)
    with demo_db.unit_of_work() as uow:
        expected = uow.session.execute(
            select(Offer.code, Preselection.quantity)
            .join(Preselection, Preselection.offer_id == Offer.id)
            .join(Invitation, Invitation.id == Preselection.invitation_id)
            .where(Invitation.customer_id == customer_id)
            .order_by(Preselection.id)
        ).all()
    assert cart and [(line.offer_code, line.quantity) for line in cart] == [
        tuple(row) for row in expected
    ]


@dataclass(frozen=True)
class _Offer:
    code: str
    name: str
    points_price: int
    remaining: int


def test_cart_rules() -> None:
    offers = {
        "A": _Offer("A", "A", 5000, 2),
        "B": _Offer("B", "B", 2000, 0),
    }
    cart = Cart.of([("a", 1)])
    assert check_cart(cart, offers, 12_000).ok
    cart.add("A")
    check = check_cart(cart, offers, 9_000)
    assert (check.total, check.left) == (10_000, -1_000)
    assert any("Not enough points" in p for p in check.problems)
    cart.add("A")
    assert any("only 2 left" in p for p in check_cart(cart, offers, 99_000).problems)
    cart.set("A", 1)
    assert affordable(offers["A"], cart, offers, 10_000)
    assert not affordable(offers["A"], cart, offers, 9_999)
    assert not affordable(offers["B"], cart, offers, 99_000)  # none left
    cart.set("A", 0)
    assert not cart and check_cart(cart, offers, 1).problems == ["The cart is empty."]


def test_reprint_counts_copies_and_void_refuses_printing(demo_db: Database) -> None:
    customer_id = _checked_in(demo_db)
    make_ready(demo_db, customer_id)
    clock = FixedClock(MORNING + timedelta(minutes=20))
    desk = staff_session(demo_db.unit_of_work(), "A001", clock=clock)
    key = keys.unlock(demo_db.unit_of_work(), DEMO_PASSPHRASE)
    (slip,) = issue_slips(
        demo_db.unit_of_work(), customer_id, [CartLine("O501")], desk, key, clock=clock
    )
    first = slip_document(demo_db.unit_of_work(), slip.serial)
    assert first.code == slip.code and first.masked_name.endswith("*")
    uow = demo_db.unit_of_work
    assert record_print(uow(), slip.serial, desk, printed=True, clock=clock) == 1
    assert record_print(uow(), slip.serial, desk, printed=False, detail="jam", clock=clock) == 1
    # The second copy needs a supervisor on the spot.
    with pytest.raises(ApprovalNeeded):
        record_print(uow(), slip.serial, desk, printed=True, clock=clock)
    approval = s001_approves(demo_db, Action.REPRINT_SLIP, clock)
    assert record_print(uow(), slip.serial, desk, printed=True, approval=approval, clock=clock) == 2
    assert slip_document(demo_db.unit_of_work(), slip.serial) == first  # the same slip
    (row,) = slips_of(demo_db.unit_of_work(), customer_id)
    assert (row.serial, row.copies_printed, row.status) == (slip.serial, 2, "issued")
    with demo_db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count(Slip.id))) == 1
        assert uow.session.scalars(
            select(AuditRecord.action)
            .where(AuditRecord.action.like("slip_print%"))
            .order_by(AuditRecord.id)
        ).all() == ["slip_printed", "slip_print_failed", "slip_printed"]
    void_slip(
        demo_db.unit_of_work(),
        slip.serial,
        desk,
        reason="customer changed mind",
        approval=s001_approves(demo_db, Action.VOID_SLIP, clock),
        clock=clock,
    )
    with pytest.raises(SlipError, match="voided"):
        slip_document(demo_db.unit_of_work(), slip.serial)
    with pytest.raises(SlipError, match="voided"):
        record_print(demo_db.unit_of_work(), slip.serial, desk, printed=True, clock=clock)
    (row,) = slips_of(demo_db.unit_of_work(), customer_id)
    assert (row.status, row.void_reason) == ("voided", "customer changed mind")
