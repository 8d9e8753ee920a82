"""Issuing and voiding slips: one transaction, never overspent, never over capacity."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import DEMO_PASSPHRASE, create_demo
from kiosk.locks import lock_key
from kiosk.models import Customer, Event, JournalEntry, Offer, OutboxEntry, Slip
from kiosk.permissions import Action
from kiosk.points import available_points
from kiosk.roundtrips import count
from kiosk.services import keys, reception
from kiosk.services.auth import staff_session
from kiosk.services.slips import CartLine, GateClosed, SlipError, issue_slips, void_slip
from kiosk.slipcode import Verdict
from tests.approval_support import s001_approves
from tests.conftest import DEMO_DATE
from tests.gate_support import make_ready
from tests.points_support import drop_lots, drop_tiers

# These customers hold a balance without lots: no day makes any of it expire.
UNDATED = date(2026, 12, 6)

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)


def _customer_checked_in(db: Database, balance: int, customer_no: str = "6200000030") -> int:
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup
        uow.session.execute(
            update(Customer)
            .where(Customer.customer_no == customer_no)
            .values(points_balance=balance)
        )
        drop_lots(uow.session, Customer.customer_no == customer_no)
        customer_id = uow.session.scalar(
            select(Customer.id).where(Customer.customer_no == customer_no)
        )
        uow.commit()
    assert customer_id is not None
    make_ready(db, customer_id)
    staff = staff_session(db.unit_of_work(), "R001", clock=FixedClock(MORNING))
    reception.check_in(db.unit_of_work(), customer_id, staff, clock=FixedClock(MORNING))
    return customer_id


def _balance(db: Database, customer_id: int) -> int:
    with db.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None
        return available_points(uow.session, customer, UNDATED)


def test_issue_verify_void(demo_db: Database) -> None:
    customer_id = _customer_checked_in(demo_db, 20_000)
    desk = staff_session(demo_db.unit_of_work(), "A001", clock=FixedClock(MORNING))
    key = keys.unlock(demo_db.unit_of_work(), DEMO_PASSPHRASE)
    slips = issue_slips(
        demo_db.unit_of_work(),
        customer_id,
        [CartLine("O101"), CartLine("o501", 2)],
        desk,
        key,
        clock=FixedClock(MORNING),
    )
    assert [(s.offer, s.quantity, s.points) for s in slips] == [
        ("基础体检套餐", 1, 12000),
        ("电影票两张", 2, 4000),
    ]
    assert _balance(demo_db, customer_id) == 20_000 - 16_000
    for slip in slips:
        check = keys.verify_code(demo_db.unit_of_work(), slip.code, today=DEMO_DATE)
        assert check.verdict == Verdict.VALID and check.payload is not None
        assert check.payload.serial == slip.serial and check.payload.masked_name.endswith("*")
    with demo_db.unit_of_work() as uow:
        s = uow.session
        assert s.scalar(select(func.sum(JournalEntry.points))) == 16_000
        assert s.scalars(
            select(OutboxEntry.kind).where(OutboxEntry.kind == "slip_issued")
        ).all() == ["slip_issued", "slip_issued"]
        assert s.scalar(select(Offer.reserved).where(Offer.code == "O501")) == 2
    void_slip(
        demo_db.unit_of_work(),
        slips[0].serial,
        desk,
        reason="customer changed mind",
        approval=s001_approves(demo_db, Action.VOID_SLIP, clock=FixedClock(MORNING)),
        clock=FixedClock(MORNING),
    )
    assert _balance(demo_db, customer_id) == 20_000 - 4_000
    assert (
        keys.verify_code(demo_db.unit_of_work(), slips[0].code, today=DEMO_DATE).verdict
        == Verdict.REVOKED
    )
    with pytest.raises(SlipError, match="only an issued slip"):
        void_slip(
            demo_db.unit_of_work(),
            slips[0].serial,
            desk,
            reason="again",
            approval=s001_approves(demo_db, Action.VOID_SLIP, clock=FixedClock(MORNING)),
            clock=FixedClock(MORNING),
        )


@pytest.mark.parametrize(
    ("balance", "cart", "message"),
    [
        (5_000, [CartLine("O101")], "Not enough points: the cart needs 12,000"),
        (50_000, [CartLine("NOPE")], "No offer has the code NOPE"),
        (50_000, [], "The cart is empty"),
        (50_000, [CartLine("O101", 0)], "at least 1"),
    ],
)
def test_refusals_write_nothing(
    demo_db: Database, balance: int, cart: list[CartLine], message: str
) -> None:
    customer_id = _customer_checked_in(demo_db, balance)
    desk = staff_session(demo_db.unit_of_work(), "A001", clock=FixedClock(MORNING))
    key = keys.unlock(demo_db.unit_of_work(), DEMO_PASSPHRASE)
    with pytest.raises(SlipError, match=message):
        issue_slips(demo_db.unit_of_work(), customer_id, cart, desk, key, clock=FixedClock(MORNING))
    with demo_db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count(Slip.id))) == 0


def test_capacity_and_not_checked_in(demo_db: Database) -> None:
    customer_id = _customer_checked_in(demo_db, 200_000)
    desk = staff_session(demo_db.unit_of_work(), "A001", clock=FixedClock(MORNING))
    key = keys.unlock(demo_db.unit_of_work(), DEMO_PASSPHRASE)
    with audit.unaudited(), demo_db.unit_of_work() as uow:  # test setup
        uow.session.execute(update(Offer).where(Offer.code == "O202").values(capacity=1))
        uow.commit()
    with pytest.raises(SlipError, match="fully booked"):
        # The first line fits, the second exceeds capacity: neither is issued.
        issue_slips(
            demo_db.unit_of_work(),
            customer_id,
            [CartLine("O101"), CartLine("O202", 2)],
            desk,
            key,
            clock=FixedClock(MORNING),
        )
    with demo_db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count(Slip.id))) == 0
        assert uow.session.scalar(select(Offer.reserved).where(Offer.code == "O101")) == 0
    with demo_db.unit_of_work() as uow:
        other = uow.session.scalar(select(Customer.id).where(Customer.customer_no == "6200000031"))
    with pytest.raises(SlipError, match="has not checked in"):
        issue_slips(
            demo_db.unit_of_work(), other, [CartLine("O101")], desk, key, clock=FixedClock(MORNING)
        )


def _two_desks_at_once(url: str) -> None:
    database = open_database(url)
    customer_id = _customer_checked_in(database, 15_000)  # enough for one 12,000 cart only
    database.dispose()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def desk(staff_no: str) -> None:
        db = open_database(url)
        staff = staff_session(db.unit_of_work(), staff_no, clock=FixedClock(MORNING))
        key = keys.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
        barrier.wait()
        try:
            issue_slips(
                db.unit_of_work(),
                customer_id,
                [CartLine("O101")],
                staff,
                key,
                clock=FixedClock(MORNING),
            )
            outcomes.append("issued")
        except SlipError as error:
            outcomes.append(str(error))
        db.dispose()

    threads = [threading.Thread(target=desk, args=(no,)) for no in ("A001", "A002")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes)[1] == "issued" and "Not enough points" in sorted(outcomes)[0]
    database = open_database(url)
    assert _balance(database, customer_id) == 3_000  # never below zero
    database.dispose()


def test_two_desks_cannot_overspend_sqlite(demo_url: str) -> None:
    _two_desks_at_once(demo_url)


@pytest.mark.pg
def test_two_desks_cannot_overspend_postgresql(pg_url: str) -> None:
    database = open_database(pg_url)
    create_demo(database.unit_of_work(), event_date=date(2026, 11, 28), invitees=40)
    database.dispose()
    _two_desks_at_once(pg_url)


def test_printed_slip_round_trip_at_203_dpi(demo_db: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue, render the PDF, rasterise at the printer's 203 dpi, decode the QR, verify."""
    import subprocess

    import zxingcpp
    from PIL import Image

    from kiosk.i18n import set_language
    from kiosk.services.slips import SlipDocument
    from printing.slips import DOTS_PER_MODULE, qr_matrix, render_slip

    customer_id = _customer_checked_in(demo_db, 20_000)
    desk = staff_session(demo_db.unit_of_work(), "A001", clock=FixedClock(MORNING))
    key = keys.unlock(demo_db.unit_of_work(), DEMO_PASSPHRASE)
    slip = issue_slips(
        demo_db.unit_of_work(),
        customer_id,
        [CartLine("O1001", 2)],
        desk,
        key,
        clock=FixedClock(MORNING),
    )[0]
    with demo_db.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None
        full_name = customer.name
    set_language("zh_CN")
    pdf = render_slip(
        SlipDocument(
            "尊享积分集中兑换日（演示）",
            slip.serial,
            slip.code,
            slip.merchant,
            slip.offer,
            slip.quantity,
            slip.points,
            date(2027, 2, 26),
            full_name[0] + "**",
        ),
        tmp_path / "slip.pdf",
    )
    subprocess.run(["pdftoppm", "-r", "203", "-png", str(pdf), str(tmp_path / "page")], check=True)
    page = Image.open(tmp_path / "page-1.png")
    results = zxingcpp.read_barcodes(page)
    assert [r.text for r in results] == [slip.code]
    check = keys.verify_code(
        demo_db.unit_of_work(), results[0].text, merchant_code="M10", today=DEMO_DATE
    )
    assert check.verdict == Verdict.VALID
    # Each module is exactly 4 printer dots: the finder pattern's corners are 6 modules apart.
    corners = results[0].position
    width = corners.top_right.x - corners.top_left.x
    modules = len(qr_matrix(slip.code)) - 8  # without the quiet zone
    assert abs(width - (modules - 1) * DOTS_PER_MODULE) <= DOTS_PER_MODULE
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert f"No. {slip.serial:06d}" in text and "康养理疗馆" in text and "10,000" in text
    assert full_name not in text  # the masked name only


def _wait_until_blocked(database: Database, what: str) -> None:
    """Wait until some backend of the test's database waits for a lock (issuing, blocked)."""
    deadline = time.monotonic() + 20
    with database.engine.connect() as probe:
        while not probe.scalar(
            text(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE NOT l.granted AND a.datname = current_database()"
            )
        ):
            assert time.monotonic() < deadline, f"issuing did not wait for {what}"
            time.sleep(0.02)


def _issue_in_thread(url: str, customer_id: int, cart: list[CartLine]) -> tuple[Any, list[Any]]:
    """Issue from a desk of its own on a thread: (thread, [the slips or the error])."""
    db = open_database(url)
    staff = staff_session(db.unit_of_work(), "A002", clock=FixedClock(MORNING))
    key = keys.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(
                issue_slips(
                    db.unit_of_work(), customer_id, cart, staff, key, clock=FixedClock(MORNING)
                )
            )
        except Exception as error:  # handed to the test
            outcome.append(error)
        finally:
            db.dispose()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.pg
def test_the_balance_is_read_after_the_customers_lock_postgresql(pg_url: str) -> None:
    """Issuing reads the customer, their visit, theme and band in the statement that locks
    the customer (issue #23), but the balance only in a later one: a statement sees what was
    committed when it began, so a balance read while waiting for another desk's lock would
    miss what that desk reserved. Here the other desk holds the lock and reserves 10,000 of
    15,000 points; issuing 12,000 waits for it and is then refused."""
    database = open_database(pg_url)
    create_demo(database.unit_of_work(), event_date=date(2026, 11, 28), invitees=40)
    customer_id = _customer_checked_in(database, 15_000)
    try:
        with database.engine.connect() as other:
            other.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update())
            thread, outcome = _issue_in_thread(pg_url, customer_id, [CartLine("O101")])
            _wait_until_blocked(database, "the customer's lock")
            other.execute(
                text(
                    "INSERT INTO journal_entry (event_id, customer_id, kind, points, at, staff_id)"
                    " SELECT id, :customer, 'reserve', 10000, now(), (SELECT min(id) FROM staff)"
                    " FROM event"
                ),
                {"customer": customer_id},
            )
            other.commit()
        thread.join(30)
        assert len(outcome) == 1 and isinstance(outcome[0], SlipError), outcome
        assert "Not enough points" in str(outcome[0])
        assert _balance(database, customer_id) == 5_000
    finally:
        database.dispose()


@pytest.mark.pg
def test_the_serials_are_read_after_the_serials_lock_postgresql(pg_url: str) -> None:
    """The slip numbers' lock is taken by the offers' query and the highest serial read in
    the next statement (issue #23): a slip another desk numbered while this one waited for
    the lock is seen, and the new slip takes the number after it (read in the same statement
    as the lock, it would take the same number and fail on the unique serial)."""
    database = open_database(pg_url)
    create_demo(database.unit_of_work(), event_date=date(2026, 11, 28), invitees=40)
    customer_id = _customer_checked_in(database, 100_000)
    other_customer = _customer_checked_in(database, 100_000, "6200000031")
    desk = staff_session(database.unit_of_work(), "A001", clock=FixedClock(MORNING))
    key = keys.unlock(database.unit_of_work(), DEMO_PASSPHRASE)
    first = issue_slips(
        database.unit_of_work(),
        customer_id,
        [CartLine("O501")],
        desk,
        key,
        clock=FixedClock(MORNING),
    )[0]
    try:
        with database.engine.connect() as other:
            event_id = other.scalar(select(Slip.event_id).where(Slip.serial == first.serial))
            other.execute(select(func.pg_advisory_xact_lock(lock_key(f"slip_serial:{event_id}"))))
            # Another customer: the slip copied below names the first one, whose row a
            # desk issuing for them would hold locked.
            thread, outcome = _issue_in_thread(pg_url, other_customer, [CartLine("O501")])
            _wait_until_blocked(database, "the slip numbers' lock")
            columns = [
                c.name for c in Slip.__table__.columns if c.name not in ("id", "serial", "code")
            ]
            listed = ", ".join(columns)
            other.execute(
                text(
                    f"INSERT INTO slip (serial, code, {listed}) "
                    f"SELECT serial + 1, code || 'X', {listed} FROM slip WHERE serial = :serial"
                ),
                {"serial": first.serial},
            )
            other.commit()
        thread.join(30)
        assert len(outcome) == 1 and not isinstance(outcome[0], Exception), repr(
            getattr(outcome[0], "__cause__", None)
        )
        assert [slip.serial for slip in outcome[0]] == [first.serial + 2]
    finally:
        database.dispose()


def test_a_longer_cart_costs_only_its_capacity_claims(demo_db: Database) -> None:
    """Each table's rows of a cart are written in one statement on PostgreSQL (issue #23): a
    three-line cart sends what a one-line cart sends plus each extra line's capacity claim.
    (SQLite, with no network to cross, takes each new row's id from its own insert.) On both,
    every line has its slip, its reserve and its points."""
    with audit.unaudited(), demo_db.unit_of_work() as uow:  # test setup: no tier quotas
        drop_tiers(uow.session)
        uow.commit()
    clock = FixedClock(MORNING)
    desk = staff_session(demo_db.unit_of_work(), "A001", clock=clock)
    key = keys.unlock(demo_db.unit_of_work(), DEMO_PASSPHRASE)
    warm, one, three = (
        _customer_checked_in(demo_db, 100_000, no)
        for no in ("6200000030", "6200000031", "6200000032")
    )
    issue_slips(demo_db.unit_of_work(), warm, [CartLine("O501")], desk, key, clock=clock)
    counted = []
    for customer_id, cart in (
        (one, [CartLine("O501")]),
        (three, [CartLine("O501"), CartLine("O101"), CartLine("O501", 2)]),
    ):
        with count(demo_db.engine, keep_sql=True) as trips:
            issued = issue_slips(demo_db.unit_of_work(), customer_id, cart, desk, key, clock=clock)
        assert len(issued) == len(cart)
        counted.append(trips)
    if demo_db.engine.dialect.name == "postgresql":
        assert counted[1].statements == counted[0].statements + 2, "\n".join(
            [*counted[0].sql, "--", *counted[1].sql]
        )
    with demo_db.unit_of_work() as uow:
        slips = uow.session.scalars(select(Slip).where(Slip.customer_id == three)).all()
        assert sorted(slip.points for slip in slips) == [2_000, 4_000, 12_000]
        entries = uow.session.scalars(
            select(JournalEntry).where(JournalEntry.customer_id == three)
        ).all()
        assert sorted((e.slip_id, e.points) for e in entries) == sorted(
            (slip.id, slip.points) for slip in slips
        )
    assert _balance(demo_db, three) == 100_000 - 18_000


def _done_request_replays_after_the_gate_closed(db: Database) -> None:
    customer_id = _customer_checked_in(db, 5_000)
    desk = staff_session(db.unit_of_work(), "A001", clock=FixedClock(MORNING))
    key = keys.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
    cart = [CartLine("O501")]
    first = issue_slips(
        db.unit_of_work(), customer_id, cart, desk, key, request_id="r-1", clock=FixedClock(MORNING)
    )
    # The coordinator now requires a mobile-banking login the customer has not done: a new
    # request is refused at the gate ...
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup
        uow.session.execute(update(Event).values(redeem_requires="data mobile_banking login"))
        uow.commit()
    with pytest.raises(GateClosed):
        issue_slips(
            db.unit_of_work(),
            customer_id,
            cart,
            desk,
            key,
            request_id="r-2",
            clock=FixedClock(MORNING),
        )
    # ... but the desk's retry of the request that was done (its answer lost) is told it was
    # done, with the same slips, and nothing is issued twice.
    again = issue_slips(
        db.unit_of_work(), customer_id, cart, desk, key, request_id="r-1", clock=FixedClock(MORNING)
    )
    assert [slip.serial for slip in again] == [slip.serial for slip in first]
    with db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count(Slip.id))) == 1


def test_a_done_request_replays_after_the_gate_closed(demo_db: Database) -> None:
    """On both backends (``demo_db``)."""
    _done_request_replays_after_the_gate_closed(demo_db)
