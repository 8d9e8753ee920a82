"""Eight stations at once on one PostgreSQL event database (the venue LAN, here loopback).

A real event runs reception, service desks, activation desks and booths on separate laptops
against one PostgreSQL. What matters is that every station still answers at once while the
others work: the row locks, the audit chain's turn and the change counter must not make one
station wait for another for long. Measured: the demo event (2,000 invitees) copied into a
fresh PostgreSQL database; 300 customers already waiting at the service desk and 300 at
activation; then 8 station PROCESSES work flat out for 30 s (8 s with ``--quick``):

- 2 receptions check customers in (different customers, as at two entrances);
- 2 service desks call the next customer and route them on to activation;
- 2 activation desks call the next customer, issue one slip (O501, Ed25519-signed, in one
  transaction with capacity and balance checks, journal, outbox, audit) and finish;
- 2 booths of merchant M05, online, redeem the issued slips as they appear, racing each
  other for the same slips (the loser is told "already redeemed at another booth").

Rows:

- ``LAN 8 stations: operations`` (ops/s): every completed operation of every station, per
  second of the run (one sample per second).
- ``LAN check-in`` / ``call next`` / ``issue slip`` / ``redeem`` (ms): the latency of each
  operation as the station saw it (one service call: a unit of work and its commit). ``call
  next`` counts service and activation desks; ``redeem`` is a slip served online (the booth's
  own fsync'd commit and the event database's), not a refusal.

Needs the PostgreSQL of the test set-up (``KIOSK_TEST_PG``, default
postgresql://postgres@127.0.0.1:5432/test); the event database and its two roles are made by
``kiosk db setup``'s own function and dropped. The stations and the booth gateway work as the
station role, as on the day (issue #29); the booths ask the gateway.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import random
import tempfile
import time
import traceback
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import BenchmarkError, Row, progress
from benchmarks.demo_db import demo_database, sqlite_url

INVITEES = 2_000
WAITING = 300  # customers already queued at the service desk, and as many at activation
SECONDS, QUICK_SECONDS = 30.0, 8.0
MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)  # 09:10 at the venue on the demo day
LATER = MORNING + timedelta(minutes=11)  # past the desks' fallback: any desk calls anyone
ROLES = ["reception"] * 2 + ["desk"] * 2 + ["activation"] * 2 + ["booth"] * 2


def _station(
    role: str,
    n: int,
    url: str,
    arriving: list[int],
    pack: bytes,
    tmp: str,
    seconds: float,
    start: Any,
    out: Any,
) -> None:
    """One station process: works until the time is up, reports (kind, at, ms) per op."""
    try:
        from kiosk.clock import FixedClock
        from kiosk.db import open_database

        db = open_database(url)
        ops: list[tuple[str, float, float]] = []
        work = globals()[f"_{role}"](db, FixedClock(MORNING if role == "reception" else LATER))
        start.wait(120)
        end = time.time() + seconds
        work_args = {"n": n, "arriving": arriving, "pack": pack, "tmp": tmp}
        work(end, ops, **work_args)
        db.dispose()
        out.put((role, n, "ok", ops))
    except BaseException:
        out.put((role, n, "error", traceback.format_exc()))


def _timed(ops: list[tuple[str, float, float]], kind: str, started: float) -> None:
    ops.append((kind, time.time(), (time.perf_counter() - started) * 1000))


def _reception(db: Any, clock: Any) -> Any:
    from kiosk.models import Queue
    from kiosk.services import reception
    from kiosk.services.auth import staff_session

    def work(end: float, ops: list, n: int, arriving: list[int], **_: Any) -> None:  # type: ignore[type-arg]
        staff = staff_session(db.unit_of_work(), f"R00{n + 1}")
        for customer_id in arriving[n::2]:  # two entrances, different customers
            if time.time() > end:
                return
            started = time.perf_counter()
            reception.check_in(
                db.unit_of_work(), customer_id, staff, route=Queue.SERVICE_DESK, clock=clock
            )
            _timed(ops, "check-in", started)

    return work


def _desk(db: Any, clock: Any) -> Any:
    from kiosk.services import desk
    from kiosk.services.auth import staff_session

    def work(end: float, ops: list, n: int, **_: Any) -> None:  # type: ignore[type-arg]
        staff = staff_session(db.unit_of_work(), f"RM00{n + 1}")
        while time.time() < end:
            started = time.perf_counter()
            called = desk.call_next(db.unit_of_work(), staff, desk=f"D{n}", clock=clock)
            if called is None:
                time.sleep(0.01)
                continue
            _timed(ops, "call next", started)
            started = time.perf_counter()
            desk.route_on(db.unit_of_work(), called.entry_id, staff, clock=clock)
            _timed(ops, "route on", started)

    return work


def _activation(db: Any, clock: Any) -> Any:
    from kiosk.demo import DEMO_PASSPHRASE
    from kiosk.models import Queue
    from kiosk.services import activation, desk, keys
    from kiosk.services.auth import staff_session
    from kiosk.services.slips import CartLine, issue_slips

    def work(end: float, ops: list, n: int, **_: Any) -> None:  # type: ignore[type-arg]
        staff = staff_session(db.unit_of_work(), f"A00{n + 1}")
        key = keys.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
        while time.time() < end:
            started = time.perf_counter()
            called = desk.call_next(
                db.unit_of_work(), staff, desk=f"J{n}", queue=Queue.ACTIVATION, clock=clock
            )
            if called is None:
                time.sleep(0.01)
                continue
            _timed(ops, "call next", started)
            started = time.perf_counter()
            issue_slips(
                db.unit_of_work(), called.customer_id, [CartLine("O501")], staff, key, clock=clock
            )
            _timed(ops, "issue slip", started)
            started = time.perf_counter()
            activation.finish(db.unit_of_work(), called.entry_id, staff, clock=clock)
            _timed(ops, "finish", started)

    return work


def _booth(db: Any, clock: Any) -> Any:
    from sqlalchemy import select

    from kiosk.booth_laptop.booth import Booth
    from kiosk.booth_laptop.online import OnlineBooth
    from kiosk.booth_laptop.store import open_booth_database
    from kiosk.models import Offer, Slip, SlipStatus

    def work(end: float, ops: list, n: int, pack: bytes, tmp: str, **_: Any) -> None:  # type: ignore[type-arg]
        booth = Booth(open_booth_database(Path(tmp) / f"booth{n}.sqlite3"), clock)
        booth.install(pack)
        # Through the booth gateway (issue #29): the booth holds no database URL.
        online = OnlineBooth(booth, (Path(tmp) / "gateway.txt").read_text().strip())
        rng = random.Random(n)
        while time.time() < end:
            with db.unit_of_work() as uow:
                codes = list(
                    uow.session.scalars(
                        select(Slip.code)
                        .join(Offer, Offer.id == Slip.offer_id)
                        .where(Offer.code == "O501", Slip.status == SlipStatus.ISSUED)
                        .limit(50)
                    )
                )
            if not codes:
                time.sleep(0.01)
                continue
            rng.shuffle(codes)
            for code in codes:
                if time.time() > end:
                    break
                started = time.perf_counter()
                result = online.redeem(code, f"booth {n}")
                _timed(ops, "redeem" if result.redeemed else "redeem refused", started)
        online.close()
        booth.database.dispose()

    return work


def run(quick: bool) -> list[Row]:
    import psycopg
    from sqlalchemy import select, update

    from kiosk.clock import FixedClock
    from kiosk.db import open_database
    from kiosk.dbroles import Privilege, role_names, setup_database, url_text
    from kiosk.demo import DEMO_PASSPHRASE
    from kiosk.eventcopy import copy_event
    from kiosk.models import Customer, Event, Offer, Queue
    from kiosk.services import reception
    from kiosk.services.auth import staff_session
    from kiosk.services.booths import export_pack

    seconds = QUICK_SECONDS if quick else SECONDS
    admin_url = os.environ.get("KIOSK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"kiosk_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.Error as error:
        raise BenchmarkError(f"PostgreSQL not reachable at {admin_url}: {error}") from None
    source = demo_database(INVITEES)
    with admin, tempfile.TemporaryDirectory() as tmp:
        # Made as on the day (issue #29): ``kiosk db setup``'s owner prepares the event; the
        # stations and the booth gateway work as the station role, which may not delete or
        # rewrite the money and evidence tables; nothing here needs the owner's account.
        roles = setup_database(admin_url, name, station_host="127.0.0.1")
        owner_url, station_url = url_text(roles.owner_url), url_text(roles.station_url)
        try:
            progress(f"lan: copying the {INVITEES:,}-invitee demo event to PostgreSQL")
            copy_event(sqlite_url(source), owner_url)
            owner = open_database(owner_url)
            with owner.unit_of_work() as uow:
                uow.session.execute(update(Offer).values(capacity=1_000_000))
                uow.session.execute(update(Customer).values(points_balance=10_000_000))
                # What this measures is the stations' throughput, not the gate: the demo's
                # customers have not all done the steps the bank's default requires.
                uow.session.execute(update(Event).values(redeem_requires=""))
                ids = list(uow.session.scalars(select(Customer.id).order_by(Customer.id)))
                uow.commit()
            owner.dispose()
            db = open_database(station_url)
            if db.privilege != Privilege.STATION:
                raise BenchmarkError(f"the stations connect as {db.privilege}, not the station")
            progress(f"lan: {WAITING} customers at the service desk, {WAITING} at activation")
            r003 = staff_session(db.unit_of_work(), "R003")
            for i, customer_id in enumerate(ids[: 2 * WAITING]):
                route = Queue.SERVICE_DESK if i % 2 else Queue.ACTIVATION
                reception.check_in(
                    db.unit_of_work(), customer_id, r003, route=route, clock=FixedClock(MORNING)
                )
            m001 = staff_session(db.unit_of_work(), "M001")
            pack = export_pack(db.unit_of_work(), "M05", DEMO_PASSPHRASE, m001)[0]
            ops = _with_gateway(
                db,
                tmp,
                lambda: _run_stations(station_url, ids[2 * WAITING :], pack, tmp, seconds),
            )
            db.dispose()
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            for role in reversed(role_names(name)):
                admin.execute(f'DROP ROLE IF EXISTS "{role}"')
    return _rows(ops, seconds)


def _with_gateway(db: Any, tmp: str, run: Any) -> Any:
    """``run()`` while the booth gateway serves ``db`` on loopback (plain HTTP: one machine,
    the TLS cost is not what this measures), its address in ``tmp/gateway.txt``."""
    import socket
    import threading

    from gateway.booth_api import server
    from kiosk.clock import FixedClock

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    instance = server(
        db,
        host="127.0.0.1",
        port=port,
        cert=None,
        key=None,
        clock=FixedClock(LATER),
        log_level="critical",
    )
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    while not instance.started:
        if not thread.is_alive():
            raise BenchmarkError("the booth gateway did not start")
        time.sleep(0.02)
    (Path(tmp) / "gateway.txt").write_text(f"http://127.0.0.1:{port}")
    try:
        return run()
    finally:
        instance.should_exit = True
        thread.join(20)


def _run_stations(
    url: str, arriving: list[int], pack: bytes, tmp: str, seconds: float
) -> list[tuple[str, float, float]]:
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(len(ROLES)), ctx.Queue()
    processes = [
        ctx.Process(
            target=_station,
            args=(role, ROLES[:i].count(role), url, arriving, pack, tmp, seconds, start, out),
        )
        for i, role in enumerate(ROLES)
    ]
    progress(f"lan: {len(ROLES)} station processes for {seconds:.0f} s")
    for process in processes:
        process.start()
    ops: list[tuple[str, float, float]] = []
    done = 0
    deadline = time.monotonic() + seconds + 180
    try:
        while done < len(processes) and time.monotonic() < deadline:
            try:
                role, n, status, value = out.get(timeout=1)
            except queue.Empty:
                continue
            if status != "ok":
                raise BenchmarkError(f"station {role} {n} failed:\n{value}")
            ops += value
            done += 1
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    if done < len(processes):
        raise BenchmarkError("some stations never finished")
    return ops


def _rows(ops: list[tuple[str, float, float]], seconds: float) -> list[Row]:
    kinds = Counter(kind for kind, _at, _ms in ops)
    first = min(at for _kind, at, _ms in ops)
    per_second: dict[int, int] = defaultdict(int)
    for _kind, at, _ms in ops:
        per_second[int(at - first)] += 1
    whole = [per_second[s] for s in range(int(seconds))]  # full seconds only
    progress(
        f"lan: {len(ops):,} operations in {seconds:.0f} s = {len(ops) / seconds:,.0f} ops/s; "
        + ", ".join(f"{kind} {n:,}" for kind, n in sorted(kinds.items()))
    )
    latency = defaultdict(list)
    for kind, _at, ms in ops:
        latency[kind].append(ms)
    return [
        Row("LAN 8 stations: operations", "ops/s", [float(n) for n in whole]),
        Row("LAN check-in", "ms", latency["check-in"]),
        Row("LAN call next", "ms", latency["call next"]),
        Row("LAN issue slip", "ms", latency["issue slip"]),
        Row("LAN redeem (online booth)", "ms", latency["redeem"]),
    ]
