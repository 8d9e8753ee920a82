"""Sync with the reference central ledger on the real PostgreSQL: exactly once, whatever breaks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from kiosk import audit, privacy
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.models import (
    Customer,
    Event,
    JournalEntry,
    Offer,
    OutboxEntry,
    OutboxStatus,
    PointsLot,
    Slip,
)
from kiosk.permissions import Action
from kiosk.points import LotInput, available_points, lot_balances, set_lots
from kiosk.services import keys, reception
from kiosk.services.auth import staff_session
from kiosk.services.settlement import close_event
from kiosk.services.slips import CartLine, IssuedSlip, issue_slips, void_slip
from sync import ledger as L
from sync.ledger import Ledger
from sync.push import (
    SyncBusy,
    SyncError,
    accounts_from_event,
    pending,
    pull,
    push,
    sync_lock,
)
from tests.approval_support import s001_approves
from tests.gate_support import make_ready
from tests.points_support import drop_lots

# These customers hold a balance without lots: no day makes any of it expire.
UNDATED = date(2026, 12, 6)

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)
EVENING = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)  # 19:00 at the venue: the day is pushed
ROOT = Path(__file__).resolve().parents[2]


def _event_day(db: Database, customers: int, *, offer: str = "O501") -> list[int]:
    """Check in ``customers`` customers and issue each one slip: 2 outbox entries each."""
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup
        ids = uow.session.scalars(select(Customer.id).order_by(Customer.id).limit(customers)).all()
        uow.session.execute(update(Customer).values(points_balance=50_000))
        drop_lots(uow.session)
        uow.commit()
    make_ready(db, *ids)
    clock = FixedClock(MORNING)
    desk = staff_session(db.unit_of_work(), "A001", clock=clock)
    front = staff_session(db.unit_of_work(), "R001", clock=clock)
    key = keys.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
    for customer_id in ids:
        reception.check_in(db.unit_of_work(), customer_id, front, clock=clock)
        issue_slips(db.unit_of_work(), customer_id, [CartLine(offer)], desk, key, clock=clock)
    return list(ids)


_OPEN: list[Ledger] = []


@pytest.fixture(autouse=True)
def _dispose_ledgers() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().dispose()


def _seeded(db: Database, url: str) -> Ledger:
    ledger = Ledger.open(url, create=True)
    _OPEN.append(ledger)
    ledger.upsert_accounts(
        accounts_from_event(db, privacy.unlock(db.unit_of_work(), DEMO_PASSPHRASE))
    )
    return ledger


def _kiosk_totals(db: Database) -> dict[str, int]:
    with db.unit_of_work() as uow:
        s = uow.session
        statuses = dict(
            s.execute(select(OutboxEntry.status, func.count()).group_by(OutboxEntry.status)).all()
        )
        issued = s.scalar(select(func.sum(Slip.points))) or 0
        voided = s.scalar(select(func.sum(Slip.points)).where(Slip.status == "voided")) or 0
        return {
            "accepted": statuses.get(OutboxStatus.ACCEPTED, 0),
            "rejected": statuses.get(OutboxStatus.REJECTED, 0),
            "pending": statuses.get(OutboxStatus.PENDING, 0),
            "debited": int(issued),
            "credited": int(voided),
        }


def test_push_applies_everything_once_and_pull_settles(demo_db: Database, pg_url: str) -> None:
    ids = _event_day(demo_db, 30)
    ledger = _seeded(demo_db, pg_url)
    start = ledger.totals()["balance"]
    evening = FixedClock(EVENING)
    s001 = staff_session(demo_db.unit_of_work(), "S001", clock=evening)
    with pytest.raises(SyncError, match="not pushed yet"):
        pull(demo_db, ledger, s001, clock=evening)
    clock = FixedClock(MORNING)
    desk = staff_session(demo_db.unit_of_work(), "A001", clock=clock)
    void_slip(
        demo_db.unit_of_work(),
        1,
        desk,
        reason="changed mind",
        approval=s001_approves(demo_db, Action.VOID_SLIP, clock),
        clock=clock,
    )
    seen: list[tuple[int, int]] = []
    report = push(
        demo_db,
        ledger,
        batch_size=7,
        progress=lambda d, t: seen.append((d, t)),
        clock=evening,
    )
    assert (report.sent, report.accepted, report.rejected) == (61, 61, 0)
    assert seen[-1] == (61, 61) and report.batches == 9
    assert pending(demo_db) == 0
    again = push(demo_db, ledger, clock=evening)
    assert again.sent == 0
    totals = ledger.totals()
    kiosk = _kiosk_totals(demo_db)
    assert (totals["accepted"], totals["rejected"]) == (kiosk["accepted"], kiosk["rejected"])
    assert (totals["debited"], totals["credited"]) == (kiosk["debited"], kiosk["credited"])
    assert totals["balance"] == start - 30 * 2000 + 2000
    assert ledger.slip_status(_event_code(demo_db), 1) == "voided"

    # Pull: the snapshot now includes the slips; the event balance must not count them twice.
    with demo_db.unit_of_work() as uow:
        customer = uow.session.get(Customer, ids[1])
        assert customer is not None
        before = available_points(uow.session, customer, UNDATED)
    report_pull = pull(demo_db, ledger, s001, clock=evening)
    opener = privacy.unlock(demo_db.unit_of_work(), DEMO_PASSPHRASE)
    assert (
        report_pull.updated
        == len(
            accounts_from_event(demo_db, privacy.unlock(demo_db.unit_of_work(), DEMO_PASSPHRASE))
        )
        and not report_pull.missing
    )
    with demo_db.unit_of_work() as uow:
        customer = uow.session.get(Customer, ids[1])
        assert customer is not None
        assert customer.points_balance == 48_000  # the ledger applied the slip
        # The snapshot's phones and IDs arrive in full and are sealed as they are stored.
        assert customer.legacy_phone is None and customer.phone_sealed
        account = ledger.accounts([customer.customer_no])[0]
        assert account.kyc["phone"] not in customer.phone_sealed
        assert opener.read(customer, "phone") == account.kyc["phone"]
        assert opener.read(customer, "id_number") == account.kyc["id_number"]
        assert available_points(uow.session, customer, UNDATED) == before == 48_000
        assert (
            uow.session.scalar(select(func.count()).where(JournalEntry.settled_at.is_(None))) == 0
        )


def _event_code(db: Database) -> str:
    from kiosk.services.events import current_event

    with db.unit_of_work() as uow:
        return current_event(uow.session).code


def test_committed_but_not_marked_is_not_applied_twice(demo_db: Database, pg_url: str) -> None:
    _event_day(demo_db, 10)
    ledger = _seeded(demo_db, pg_url)
    start = ledger.totals()["balance"]
    with demo_db.unit_of_work() as uow:  # the connection drops after the ledger committed
        rows = uow.session.execute(
            select(OutboxEntry.idempotency_key, OutboxEntry.kind, OutboxEntry.payload)
            .order_by(OutboxEntry.id)
            .limit(12)
        ).all()
    ledger.apply([(k, kind, json.loads(p)) for k, kind, p in rows])
    assert pending(demo_db) == 20
    report = push(demo_db, ledger, batch_size=5, clock=FixedClock(EVENING))
    assert (report.sent, report.accepted) == (20, 20)
    totals = ledger.totals()
    assert totals["accepted"] == 20 and totals["balance"] == start - 10 * 2000


def test_a_debit_the_balance_cannot_cover_is_rejected(demo_db: Database, pg_url: str) -> None:
    ids = _event_day(demo_db, 3, offer="O101")  # 12,000 points each
    ledger = _seeded(demo_db, pg_url)
    with demo_db.unit_of_work() as uow:
        spender = uow.session.get(Customer, ids[0])
        assert spender is not None
        number = spender.customer_no
    with ledger.engine.begin() as connection:  # spent online meanwhile
        connection.execute(update(L.lot).where(L.lot.c.customer_no == number).values(points=5_000))
    report = push(demo_db, ledger, clock=FixedClock(EVENING))
    assert (report.accepted, report.rejected) == (5, 1)
    with demo_db.unit_of_work() as uow:
        rejected = uow.session.scalars(
            select(OutboxEntry).where(OutboxEntry.status == OutboxStatus.REJECTED)
        ).all()
        assert [e.kind for e in rejected] == ["slip_issued"]
        # The kiosk named the lot it took (the simple balance, lot ""); the ledger says which
        # lot falls short.
        assert rejected[0].error == 'lot "" insufficient: 5000 < 12000'
    (account,) = ledger.accounts([number])
    assert account.balance == 5_000  # never applied
    totals = ledger.totals()
    assert totals["rejected"] == 1 and totals["debited"] == 2 * 12_000


PUSH_SCRIPT = """
import sys
from kiosk.db import open_database
from sync.ledger import Ledger
from sync.push import push
db = open_database(sys.argv[1]); ledger = Ledger.open(sys.argv[2])
print("ready", flush=True)
push(db, ledger, batch_size=3, progress=lambda d, t: print(d, flush=True))
"""


def _wait_for_the_lock(database: Database) -> None:
    """Until a killed push's sync lock is gone. On PostgreSQL the lock is its session's, and
    the server ends that session only when it notices the dead connection: at once on an idle
    machine, after a moment under load. The push refuses (``SyncBusy``) until then, as it
    should; the test is about what the push does after, so it waits for the server."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with sync_lock(database):
                return
        except SyncBusy:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_push_killed_at_random_points_then_pushed_again(demo_db: Database, pg_url: str) -> None:
    _event_day(demo_db, 40)
    ledger = _seeded(demo_db, pg_url)
    start = ledger.totals()["balance"]
    total = pending(demo_db)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    kills = 0
    first_cut = 0
    for batches in (2, 3, 4):  # kill after this many more batches: mid-way through the next
        if pending(demo_db) == 0:
            break
        process = subprocess.Popen(
            [sys.executable, "-c", PUSH_SCRIPT, demo_db.url, pg_url],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        for _ in range(batches):
            process.stdout.readline()
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
        kills += 1
        first_cut = first_cut or pending(demo_db)
    assert kills == 3 and 0 < first_cut < total  # really cut off halfway
    _wait_for_the_lock(demo_db)
    report = push(demo_db, ledger, clock=FixedClock(EVENING))
    assert pending(demo_db) == 0 and report.rejected == 0
    totals = ledger.totals()
    kiosk = _kiosk_totals(demo_db)
    assert totals["accepted"] == kiosk["accepted"] == total
    assert totals["debited"] == kiosk["debited"] == 40 * 2000
    assert totals["balance"] == start - 40 * 2000


def test_a_second_push_at_the_same_time_says_another_is_running(
    any_demo_db: Database, pg_url: str
) -> None:
    """Two real ``kiosk sync push`` at once (two laptops, or the app's background push and a
    terminal): the second sends nothing and says so in one sentence, the app's form of it
    reads "busy", and the first sends every entry exactly once. The first is held inside its
    ledger transaction (the test locks the ledger's accounts) so both really overlap."""
    import psycopg

    _event_day(any_demo_db, 20)
    ledger = _seeded(any_demo_db, pg_url)
    total = pending(any_demo_db)
    kiosk = str(Path(sys.executable).with_name("kiosk"))
    env = {**os.environ, "KIOSK_LANG": "en", "KIOSK_LEDGER": pg_url, "KIOSK_DB": any_demo_db.url}
    hold = psycopg.connect(pg_url)
    hold.execute("SELECT customer_no FROM ledger_account FOR UPDATE")
    first = subprocess.Popen(
        [kiosk, "sync", "push", "--progress-lines"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with psycopg.connect(pg_url, autocommit=True) as watch:  # the first waits on our lock
        for _ in range(600):
            waiting = watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            ).fetchone()
            if waiting and waiting[0]:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the first push never reached the ledger")
    try:
        second = subprocess.run(
            [kiosk, "sync", "push"],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        background = subprocess.run(
            [kiosk, "sync", "push", "--progress-lines"],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    finally:
        hold.rollback()
        hold.close()
    assert second.returncode == 1
    # A ledger by its database URL is for rehearsals, and the command says so first.
    notice, warning, said = second.stderr.split("\n", 2)
    assert notice.startswith("The ledger is opened by its database URL: for rehearsals")
    # No passphrase here: the push signs no checkpoint of the audit chain, and says so (#26).
    assert warning.startswith("kiosk: warning: no checkpoint of the audit chain was signed")
    assert said.startswith(
        "kiosk: Another push to the ledger (or a pull from it) is running from this event database"
    )
    assert len(said.splitlines()) == 1 and second.stdout == ""
    assert (background.returncode, background.stdout, background.stderr) == (0, "busy\n", "")
    rest, errors = first.communicate(timeout=300)
    assert first.returncode == 0, errors
    assert f"pushed {total} {total} 0" in rest
    assert pending(any_demo_db) == 0
    assert ledger.totals()["accepted"] == _kiosk_totals(any_demo_db)["accepted"] == total
    # Once the first is done, the lock is free again.
    again = subprocess.run(
        [kiosk, "sync", "push"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert (again.returncode, again.stderr) == (0, f"{notice}\n{warning}\n")
    assert "0 entries pushed" in again.stdout


# -- points in lots ------------------------------------------------------------------------------

# Lots as the ledger holds them before the event (28 November): one expired the day before,
# two dated ones and one without expiry. Spending takes A before B before C; X is never taken.
LOTS = [
    LotInput("X", 700, date(2026, 11, 27)),
    LotInput("A", 3_000, date(2027, 1, 31)),
    LotInput("B", 5_000, date(2027, 6, 30)),
    LotInput("C", 10_000, None),
]
EVENT_DAY = MORNING.date()
NEXT_DAY = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # close: the slips' redeem-by is past


def _with_lots(db: Database, customers: int) -> list[int]:
    """``customers`` ready customers holding ``LOTS``; the movie and health offers end on the
    event day so that close releases what is still issued the day after."""
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup
        s = uow.session
        found = s.scalars(select(Customer).order_by(Customer.id).limit(customers)).all()
        drop_lots(s, Customer.id.in_([customer.id for customer in found]))  # exactly LOTS
        for customer in found:
            set_lots(s, customer, LOTS)
        s.execute(update(Offer).where(Offer.code.in_(["O501", "O101"])).values(redeem_by=EVENT_DAY))
        uow.commit()
        ids = [customer.id for customer in found]
    make_ready(db, *ids)
    return ids


def _kiosk_lots(db: Database, customer_id: int, on: date) -> dict[str, int]:
    with db.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None
        return {lot.ref: lot.left for lot in lot_balances(uow.session, customer, on)}


def _ledger_lots(ledger: Ledger, db: Database, customer_id: int) -> dict[str, int]:
    with db.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None
        number = customer.customer_no
    (account,) = ledger.accounts([number], EVENT_DAY)
    return {lot.ref: lot.points for lot in account.lots}


def _issue(db: Database, customer_id: int, offer: str, clock: FixedClock) -> IssuedSlip:
    desk = staff_session(db.unit_of_work(), "A001", clock=clock)
    key = keys.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
    (issued,) = issue_slips(
        db.unit_of_work(), customer_id, [CartLine(offer)], desk, key, clock=clock
    )
    return issued


def _payload(db: Database, kind: str, serial: int) -> dict[str, Any]:
    with db.unit_of_work() as uow:
        for text in uow.session.scalars(
            select(OutboxEntry.payload).where(OutboxEntry.kind == kind).order_by(OutboxEntry.id)
        ):
            payload: dict[str, Any] = json.loads(text)
            if payload["serial"] == serial:
                return payload
    raise AssertionError(f"no {kind} entry for slip {serial}")


def test_lots_round_trip_with_the_reference_ledger(demo_db: Database, pg_url: str) -> None:
    """Slips take the lots that expire first at the kiosk; the ledger debits the same lots,
    a void and a release credit the same lots back, and a pull brings them home with the
    event's points unchanged."""
    first, second = _with_lots(demo_db, 2)
    ledger = _seeded(demo_db, pg_url)
    assert _ledger_lots(ledger, demo_db, first) == {"X": 700, "A": 3_000, "B": 5_000, "C": 10_000}
    clock = FixedClock(MORNING)
    front = staff_session(demo_db.unit_of_work(), "R001", clock=clock)
    for customer_id in (first, second):
        reception.check_in(demo_db.unit_of_work(), customer_id, front, clock=clock)
    one = _issue(demo_db, first, "O501", clock)
    two = _issue(demo_db, first, "O501", clock)
    big = _issue(demo_db, second, "O101", clock)
    # FIFO: the expired lot X is skipped, A goes first, then B, then C.
    assert _payload(demo_db, "slip_issued", one.serial)["lots"] == [
        {"lot": "A", "points": one.points}
    ]
    assert _payload(demo_db, "slip_issued", two.serial)["lots"] == [
        {"lot": "A", "points": 3_000 - one.points},
        {"lot": "B", "points": one.points + two.points - 3_000},
    ]
    assert big.points > 8_000  # all of A and B, the rest from C
    assert _payload(demo_db, "slip_issued", big.serial)["lots"] == [
        {"lot": "A", "points": 3_000},
        {"lot": "B", "points": 5_000},
        {"lot": "C", "points": big.points - 8_000},
    ]
    boss = staff_session(demo_db.unit_of_work(), "S001", clock=clock)
    desk = staff_session(demo_db.unit_of_work(), "A001", clock=clock)
    void_slip(
        demo_db.unit_of_work(),
        one.serial,
        desk,
        reason="changed mind",
        approval=s001_approves(demo_db, Action.VOID_SLIP, clock),
        clock=clock,
    )
    report = push(demo_db, ledger, clock=FixedClock(EVENING))
    assert report.rejected == 0 and pending(demo_db) == 0
    for customer_id in (first, second):
        assert _ledger_lots(ledger, demo_db, customer_id) == _kiosk_lots(
            demo_db, customer_id, EVENT_DAY
        )
    # The void gave slip one's points back to A, where they came from.
    assert _ledger_lots(ledger, demo_db, first)["A"] == 3_000 - (3_000 - one.points)
    code = _event_code(demo_db)
    assert ledger.slip_status(code, one.serial) == "voided"
    assert ledger.slip_lots(code, two.serial) == [
        (x["lot"], x["points"]) for x in _payload(demo_db, "slip_issued", two.serial)["lots"]
    ]

    # Close the day after: the slips still issued are released to the lots they came from.
    later = FixedClock(NEXT_DAY)
    closed = close_event(
        demo_db.unit_of_work(),
        staff_session(demo_db.unit_of_work(), "S001", clock=later),
        clock=later,
    )
    assert (closed.released, closed.points) == (2, two.points + big.points)
    assert push(demo_db, ledger, clock=later).rejected == 0
    assert ledger.slip_status(code, two.serial) == "released"
    assert ledger.slip_status(code, big.serial) == "released"
    for customer_id in (first, second):
        assert _ledger_lots(ledger, demo_db, customer_id) == {
            "X": 700,
            "A": 3_000,
            "B": 5_000,
            "C": 10_000,
        }
        assert _kiosk_lots(demo_db, customer_id, NEXT_DAY.date()) == _ledger_lots(
            ledger, demo_db, customer_id
        )

    # Pull: the lots come back from the ledger; the event's points do not change.
    with demo_db.unit_of_work() as uow:
        customers = [uow.session.get(Customer, i) for i in (first, second)]
        before = [available_points(uow.session, c, NEXT_DAY.date()) for c in customers if c]
    assert before == [18_000, 18_000]  # X expired: 700 of the 18,700 count for nothing
    pulled = pull(demo_db, ledger, boss, clock=later)
    assert not pulled.missing
    with demo_db.unit_of_work() as uow:
        s = uow.session
        customers = [s.get(Customer, i) for i in (first, second)]
        assert [available_points(s, c, NEXT_DAY.date()) for c in customers if c] == before
        for customer in customers:
            assert customer is not None and customer.points_balance == 18_700
            assert {
                (lot.ref, lot.points, lot.expires_on)
                for lot in s.scalars(select(PointsLot).where(PointsLot.customer_id == customer.id))
            } == {(lot.ref, lot.points, lot.expires_on) for lot in LOTS}
        event = s.scalars(select(Event)).one()
        assert event.bank_points_stock == ledger.points_stock(NEXT_DAY.date()) > 0


def test_a_lot_that_lacks_the_points_is_rejected_and_not_applied(
    demo_db: Database, pg_url: str
) -> None:
    (customer_id,) = _with_lots(demo_db, 1)
    ledger = _seeded(demo_db, pg_url)
    with demo_db.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None
        number = customer.customer_no
    with ledger.engine.begin() as connection:  # lot A spent online meanwhile, down to 500
        connection.execute(
            update(L.lot)
            .where(L.lot.c.customer_no == number, L.lot.c.ref == "A")
            .values(points=500)
        )
    clock = FixedClock(MORNING)
    front = staff_session(demo_db.unit_of_work(), "R001", clock=clock)
    reception.check_in(demo_db.unit_of_work(), customer_id, front, clock=clock)
    slip = _issue(demo_db, customer_id, "O501", clock)  # the kiosk takes A: 2,000 of 3,000
    before = _ledger_lots(ledger, demo_db, customer_id)
    report = push(demo_db, ledger, clock=FixedClock(EVENING))
    assert (report.accepted, report.rejected) == (1, 1)  # the check-in, the slip
    with demo_db.unit_of_work() as uow:
        (rejected,) = uow.session.scalars(
            select(OutboxEntry).where(OutboxEntry.status == OutboxStatus.REJECTED)
        ).all()
    assert rejected.kind == "slip_issued"
    assert rejected.error == f"lot A insufficient: 500 < {slip.points}"
    assert _ledger_lots(ledger, demo_db, customer_id) == before  # never applied
    assert ledger.slip_status(_event_code(demo_db), slip.serial) is None
    assert ledger.totals()["debited"] == 0
