"""Many stations at once on one PostgreSQL event database, as separate PROCESSES (laptops).

Two receptions check the same customers in, two service desks call the next customer and
route them on, two activation desks call, finish and issue slips for the same customers from
a short offer, and two booths of one merchant, online on the LAN, redeem the same slips at
once. Then the invariants: one visit per customer, no customer called by two desks,
contiguous tickets, no balance overspent, no offer over capacity, each slip served once at
one booth, an intact audit chain, and not a single deadlock or serialization failure.

Once on loopback, and once across a LAN's latency (``LanCable(url, delay_ms=1.0)``: every
chunk 1 ms late each way, the stations' leg to PostgreSQL and the booths' leg to the gateway):
a round trip twenty times longer holds every lock, transaction and race open that much
longer, which is where a missing lock or a check done outside the transaction shows.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import random
import time
import traceback
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from kiosk import audit
from kiosk.models import (
    Customer,
    Offer,
    Queue,
    QueueEntry,
    QueueStatus,
    Redemption,
    Slip,
    SlipStatus,
    Visit,
    VisitStep,
)
from tests.gate_support import make_ready
from tests.gateway_support import gateway, make_pki
from tests.points_support import drop_lots
from tests.queue_support import assert_queues_hold
from tests.tcp_proxy import LanCable

# These customers hold a balance without lots: no day makes any of it expire.
UNDATED = date(2026, 12, 6)

# Eight station processes at once: in the one group of timing-sensitive tests (tests/conftest.py).
pytestmark = [pytest.mark.pg, pytest.mark.xdist_group("timing")]


@pytest.fixture
def pg_demo_url(pg_station_demo_url: str) -> str:
    """The stations here connect as the stations' role, as on the venue LAN (issue #29): what
    they do must need no more than a station is granted."""
    return pg_station_demo_url


LATER = datetime(2026, 11, 28, 1, 10, tzinfo=UTC) + timedelta(minutes=11)
ARRIVING = [f"62000000{n:02d}" for n in range(10, 50)]  # 40 customers at the door
# Already at activation: four rich customers after the last 3 places of O101, and one whom
# both desks serve at once, who can afford exactly ten O501 (2,000 points) with 1,000 left.
RICH = [f"62000002{n:02d}" for n in range(1, 5)]
THRIFTY = ["6200000205"]
SHOPPING = RICH + THRIFTY
LEFT_OVER = 1_000
TIME_LIMIT = 90.0


def _worker(role: str, n: int, url: str, pack: bytes, tmp: str, start: Any, out: Any) -> None:
    """One station in its own process; reports what it did (or its traceback) on ``out``."""
    try:
        from kiosk.clock import FixedClock
        from kiosk.db import open_database

        db = open_database(url)
        # Desks work later than reception checks in: past the 10-minute fallback, any desk
        # may call any customer, not only the RM's own.
        clock = FixedClock(LATER + (timedelta(minutes=11) if role != "reception" else timedelta()))
        rng = random.Random(n)
        start.wait(60)
        result = globals()[f"_{role}"](db, clock, rng, n, pack, tmp)
        db.dispose()
        out.put((role, n, "ok", result))
    except BaseException:  # report everything: the parent asserts there was nothing
        out.put((role, n, "error", traceback.format_exc()))


def _busy(errors: list[str], error: Exception) -> None:
    errors.append(f"{type(error).__name__}: {error}")


def _ids(db: Any, numbers: list[str]) -> list[int]:
    with db.unit_of_work() as uow:
        return list(
            uow.session.scalars(select(Customer.id).where(Customer.customer_no.in_(numbers)))
        )


def _reception(db: Any, clock: Any, rng: random.Random, n: int, _pack: bytes, _tmp: str) -> Any:
    from kiosk.services import reception
    from kiosk.services.auth import staff_session

    staff = staff_session(db.unit_of_work(), f"R00{n + 1}")
    ids = _ids(db, ARRIVING)
    rng.shuffle(ids)
    created = []
    for customer_id in ids:  # both receptions scan every customer (a double scan, a rush)
        result = reception.check_in(
            db.unit_of_work(), customer_id, staff, route=Queue.SERVICE_DESK, clock=clock
        )
        if result.created:
            created.append(customer_id)
    return created


def _desk(db: Any, clock: Any, rng: random.Random, n: int, _pack: bytes, _tmp: str) -> Any:
    from kiosk.services import desk
    from kiosk.services.auth import staff_session

    staff = staff_session(db.unit_of_work(), f"RM00{n + 1}")
    called, idle_since = [], time.monotonic()
    while time.monotonic() - idle_since < 4.0:
        got = desk.call_next(db.unit_of_work(), staff, desk=f"D{n}", clock=clock)
        if got is None:
            time.sleep(0.02)
            continue
        idle_since = time.monotonic()
        called.append(got.entry_id)
        desk.route_on(db.unit_of_work(), got.entry_id, staff, clock=clock)
    return called


def _activation(db: Any, clock: Any, rng: random.Random, n: int, _pack: bytes, _tmp: str) -> Any:
    from kiosk.demo import DEMO_PASSPHRASE
    from kiosk.errors import KioskError
    from kiosk.services import activation, desk, keys
    from kiosk.services.auth import staff_session
    from kiosk.services.slips import CartLine, issue_slips

    staff = staff_session(db.unit_of_work(), f"A00{n + 1}")
    key = keys.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
    shoppers, rich, (thrifty,) = _ids(db, SHOPPING), set(_ids(db, RICH)), _ids(db, THRIFTY)
    called, issued, refused = [], [], Counter[str]()
    idle_since = time.monotonic()
    while time.monotonic() - idle_since < 4.0:
        got = desk.call_next(
            db.unit_of_work(), staff, desk=f"J{n}", queue=Queue.ACTIVATION, clock=clock
        )
        if got is not None:
            idle_since = time.monotonic()
            called.append(got.entry_id)
            activation.finish(db.unit_of_work(), got.entry_id, staff, clock=clock)
        # The same customers at both desks at once, the thrifty one most of the time.
        customer_id = thrifty if rng.random() < 0.7 else rng.choice(shoppers)
        try:
            cart = [CartLine("O101" if customer_id in rich else "O501")]
            slips = issue_slips(db.unit_of_work(), customer_id, cart, staff, key, clock=clock)
        except KioskError as error:
            if "Another station" in str(error):
                raise  # a deadlock or serialization failure: the locking is wrong
            refused[str(error).split(":")[0][:40]] += 1
            time.sleep(0.005)
            continue
        idle_since = time.monotonic()
        issued.extend(s.serial for s in slips)
    return {"called": called, "issued": issued, "refused": dict(refused)}


def _booth(db: Any, clock: Any, rng: random.Random, n: int, pack: bytes, tmp: str) -> Any:
    """A booth online on the LAN: checks and records each slip in the event database."""
    from kiosk.booth_laptop.booth import Booth
    from kiosk.booth_laptop.online import OnlineBooth
    from kiosk.booth_laptop.store import open_booth_database
    from kiosk.models import Merchant

    booth = Booth(open_booth_database(Path(tmp) / f"booth{n}.sqlite3"), clock)
    booth.install(pack)
    # Through the booth gateway the test runs (the booth holds no database URL, issue #29).
    url, ca = (Path(tmp) / "gateway.txt").read_text().split()
    online = OnlineBooth(booth, url, ca_file=ca)
    redeemed, idle_since = [], time.monotonic()
    while time.monotonic() - idle_since < 5.0:
        with db.unit_of_work() as uow:
            codes = list(
                uow.session.scalars(
                    select(Slip.code)
                    .join(Merchant, Merchant.id == Slip.merchant_id)
                    .where(Merchant.code == "M01", Slip.status == SlipStatus.ISSUED)
                )
            )
        rng.shuffle(codes)  # both booths go for the same slips at the same moment
        for code in codes:
            result = online.redeem(code, f"booth {n}")
            assert online.online, online.error
            if result.redeemed:
                idle_since = time.monotonic()
                redeemed.append(result.serial)
        time.sleep(0.01)
    assert booth.pending() == 0  # every redemption went straight to the event database
    online.close()
    booth.database.dispose()
    return redeemed


@pytest.mark.parametrize("delay_ms", [0.0, 1.0], ids=["loopback", "lan-1ms-each-way"])
def test_many_stations_in_separate_processes_keep_every_invariant(
    pg_demo_url: str, tmp_path: Path, delay_ms: float
) -> None:
    from kiosk.clock import FixedClock
    from kiosk.db import open_database
    from kiosk.demo import DEMO_PASSPHRASE
    from kiosk.points import available_points
    from kiosk.services import reception
    from kiosk.services.auth import staff_session
    from kiosk.services.booths import export_pack

    db = open_database(pg_demo_url)
    with (
        audit.unaudited(),
        db.unit_of_work() as uow,
    ):  # test setup: short supply: O101 has 3 places left
        uow.session.execute(update(Offer).where(Offer.code == "O101").values(capacity=3))
        for numbers, balance in ((RICH, 1_000_000), (THRIFTY, 10 * 2_000 + LEFT_OVER)):
            uow.session.execute(
                update(Customer)
                .where(Customer.customer_no.in_(numbers))
                .values(points_balance=balance)
            )
        drop_lots(uow.session, Customer.customer_no.in_(SHOPPING))
        uow.commit()
    make_ready(db, *_ids(db, SHOPPING))
    r001 = staff_session(db.unit_of_work(), "R001", clock=FixedClock(LATER))
    for customer_id in _ids(db, SHOPPING):
        reception.check_in(
            db.unit_of_work(), customer_id, r001, route=Queue.ACTIVATION, clock=FixedClock(LATER)
        )
    m001 = staff_session(db.unit_of_work(), "M001", clock=FixedClock(LATER))
    pack = export_pack(db.unit_of_work(), "M01", DEMO_PASSPHRASE, m001, clock=FixedClock(LATER))[0]

    roles = ["reception"] * 2 + ["desk"] * 2 + ["activation"] * 2 + ["booth"] * 2
    pki = make_pki(tmp_path / "pki")
    results: dict[tuple[str, int], Any] = {}
    with contextlib.ExitStack() as lan:
        # The stations' connections to PostgreSQL, and the booths' to the gateway, across the
        # LAN's latency; the gateway's own leg to PostgreSQL is local (it runs on the server).
        url = pg_demo_url
        if delay_ms:
            url = lan.enter_context(LanCable(pg_demo_url, delay_ms=delay_ms)).url
        booth_gateway = lan.enter_context(
            gateway(pg_demo_url, pki, FixedClock(LATER + timedelta(minutes=11)))
        )
        if delay_ms:
            booth_gateway = lan.enter_context(LanCable(booth_gateway, delay_ms=delay_ms)).url
        (tmp_path / "gateway.txt").write_text(f"{booth_gateway} {pki.ca}")
        ctx = multiprocessing.get_context("spawn")
        start, out = ctx.Barrier(len(roles)), ctx.Queue()
        processes = [
            ctx.Process(
                target=_worker,
                args=(role, roles[:i].count(role), url, pack, str(tmp_path), start, out),
            )
            for i, role in enumerate(roles)
        ]
        for process in processes:
            process.start()
        deadline = time.monotonic() + TIME_LIMIT
        try:
            while len(results) < len(processes) and time.monotonic() < deadline:
                try:
                    role, n, status, value = out.get(timeout=1)
                except queue.Empty:
                    continue
                assert status == "ok", f"{role} {n} failed:\n{value}"
                results[(role, n)] = value
        finally:
            for process in processes:
                process.join(timeout=10)
                if process.is_alive():
                    process.kill()
    assert len(results) == len(processes), f"stations still running: {set(results)}"

    arriving, shopping = _ids(db, ARRIVING), set(_ids(db, SHOPPING))
    with db.unit_of_work() as uow:
        s = uow.session
        # Check-in: each arriving customer exactly once, whichever reception was first.
        created = results[("reception", 0)] + results[("reception", 1)]
        assert sorted(created) == sorted(arriving)
        visits = Counter(s.scalars(select(Visit.customer_id)))
        assert set(visits.values()) == {1} and len(visits) == len(arriving) + len(shopping)
        # Tickets per queue are 1..n with no gap and no double.
        for name in (Queue.SERVICE_DESK, Queue.ACTIVATION):
            tickets = sorted(
                s.scalars(select(QueueEntry.ticket_no).where(QueueEntry.queue == name))
            )
            assert tickets == list(range(1, len(tickets) + 1)), name
        # Nobody called by two desks: every service-desk ticket called once, by one desk.
        desk_calls = results[("desk", 0)] + results[("desk", 1)]
        assert len(desk_calls) == len(set(desk_calls)) == len(arriving)
        activation_calls = [e for n in (0, 1) for e in results[("activation", n)]["called"]]
        assert len(activation_calls) == len(set(activation_calls))
        assert len(activation_calls) == len(arriving) + len(shopping)
        calls = Counter(
            s.scalars(
                select(Visit.customer_id)
                .join(VisitStep, VisitStep.visit_id == Visit.id)
                .where(VisitStep.step == "called")
            )
        )
        # Once at a desk and once at activation; the shoppers went straight to activation.
        assert calls == {**dict.fromkeys(arriving, 2), **dict.fromkeys(shopping, 1)}
        statuses = Counter(s.scalars(select(QueueEntry.status)))
        assert statuses == {QueueStatus.DONE: 2 * len(arriving) + len(shopping)}
        # Points: nobody below zero, and every point reserved is on a slip.
        for customer in s.scalars(select(Customer).where(Customer.id.in_(shopping))):
            assert available_points(s, customer, UNDATED) >= 0, customer.customer_no
            if customer.customer_no in THRIFTY:  # spent down to exactly what was left over
                assert available_points(s, customer, UNDATED) == LEFT_OVER, customer.customer_no
        issued = [x for n in (0, 1) for x in results[("activation", n)]["issued"]]
        assert len(issued) == len(set(issued)) == s.scalar(select(func.count(Slip.id)))
        for offer in s.scalars(select(Offer)):
            on_slips = s.scalar(
                select(func.coalesce(func.sum(Slip.quantity), 0)).where(
                    Slip.offer_id == offer.id, Slip.status != SlipStatus.VOIDED
                )
            )
            assert offer.reserved == on_slips <= offer.capacity, offer.code
        o101 = s.scalar(select(Offer).where(Offer.code == "O101"))
        assert o101 is not None and o101.reserved == 3  # sold out, not one over
        # Redemptions online: each M01 slip served once, at one booth, and no conflict.
        m01 = set(s.scalars(select(Slip.serial).where(Slip.offer_id == o101.id)))
        booth_redeemed = Counter(results[("booth", 0)] + results[("booth", 1)])
        assert set(booth_redeemed) == m01 and set(booth_redeemed.values()) == {1}
        assert Counter(s.scalars(select(Redemption.slip_serial))) == booth_redeemed
        assert s.scalar(select(func.count()).where(Redemption.conflict.is_not(None))) == 0
        assert all(
            st == SlipStatus.REDEEMED
            for st in s.scalars(select(Slip.status).where(Slip.serial.in_(m01)))
        )
        # The audit chain, appended to by eight processes at once, is intact.
        assert audit.verify(s) is None
    # Every checked-in customer in exactly one state, every desk with one customer at most.
    assert_queues_hold(db, "eight stations")
    db.dispose()
