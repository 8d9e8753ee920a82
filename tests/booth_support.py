"""Helpers for the booth tests: slips issued on a demo event, a pack installed on a booth."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update

from kiosk import audit
from kiosk.booth_laptop.booth import Booth
from kiosk.booth_laptop.store import open_booth_database
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.models import Customer
from kiosk.services import keys, reception
from kiosk.services.auth import StaffSession, staff_session
from kiosk.services.booths import export_pack
from kiosk.services.slips import CartLine, issue_slips
from tests.gate_support import make_ready
from tests.points_support import drop_lots

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)  # 09:10 in Shanghai on the demo day


def issue(db: Database, offers: list[str], customer_no: str = "6200000030") -> list[str]:
    """Check a demo customer in (with plenty of points) and issue one slip per offer code."""
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup
        uow.session.execute(
            update(Customer)
            .where(Customer.customer_no == customer_no)
            .values(points_balance=1_000_000)
        )
        drop_lots(uow.session, Customer.customer_no == customer_no)
        customer_id = uow.session.scalar(
            select(Customer.id).where(Customer.customer_no == customer_no)
        )
        uow.commit()
    assert customer_id is not None
    make_ready(db, customer_id)
    clock = FixedClock(MORNING)
    reception.check_in(
        db.unit_of_work(),
        customer_id,
        staff_session(db.unit_of_work(), "R001", clock=clock),
        clock=clock,
    )
    key = keys.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
    desk = staff_session(db.unit_of_work(), "A001", clock=clock)
    slips = issue_slips(
        db.unit_of_work(), customer_id, [CartLine(o) for o in offers], desk, key, clock=clock
    )
    return [slip.code for slip in slips]


def pack_bytes(db: Database, merchant: str = "M01", at: datetime = MORNING) -> bytes:
    """The pack as merchant staff M001 exports it."""
    clock = FixedClock(at)
    m001 = staff_session(db.unit_of_work(), "M001", clock=clock)
    return export_pack(db.unit_of_work(), merchant, DEMO_PASSPHRASE, m001, clock=clock)[0]


def supervisor(db: Database) -> StaffSession:
    """S001, who imports bundles at the event's administration without asking anyone; signed
    in on the demo day's morning."""
    return staff_session(db.unit_of_work(), "S001", clock=FixedClock(MORNING))


def new_booth(path: Path, clock: FixedClock | None = None) -> Booth:
    return Booth(open_booth_database(path), clock or FixedClock(MORNING))
