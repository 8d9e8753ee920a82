"""Each station action's round trips to the event database, held to their number (issue #23).

On the venue LAN every round trip to PostgreSQL costs about 2 ms, so an action's speed on the
day is mostly how many times it waits (``kiosk.roundtrips``). This test runs every station
action once to warm up (a station's first action connects and fills its caches), then once
more counted, and holds each to its number: round trips on PostgreSQL, statements on SQLite
(no network there, but a query added to an action shows up on both). A failure lists the SQL
the action sent, so whoever added a query sees it and either cuts it or raises the number
here with a reason.

The numbers are exact: an action that gets cheaper fails too, and the message tells to lower
the number so it stays held.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from gateway.booth_api import server
from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.models import Customer, Offer, Queue
from kiosk.roundtrips import RoundTrips, count
from kiosk.services import activation, desk, keys, reception
from kiosk.services.auth import staff_session
from kiosk.services.slips import CartLine, issue_slips
from tests.booth_support import MORNING, new_booth, pack_bytes
from tests.gate_support import make_ready
from tests.points_support import drop_lots
from tests.station_reads import activation_refresh, desk_refresh
from tests.tcp_proxy import free_port

ANY_RM = desk.DeskPolicy(rm_fallback=timedelta(0))  # the demo's customers have their own RMs
# action: (PostgreSQL round trips, SQLite statements). Before issue #23's work, on
# PostgreSQL: check-in 27, call next 16 and 16, save governance 15, route on 17, issue slip 33,
# redeem through the gateway 29, finish 10, a refresh 12 and 12. Check-in and issue slip
# with the stations' request ids: 17 and 28 after the first round of cuts, then 13 and 16
# with the customer's band, lots, request and gate read alongside the customer, and issuing's
# rows written table by table. Then the current event read alongside each action's first
# query (``kiosk.current_event.CURRENT``; call next with the desk's lock, check-in and issuing
# on the event last seen current, proven by the row) and check-in's ticket lock taken by its
# visit step's INSERT: check-in 13 → 11, call next 9 → 8, governance 11 → 10, a refresh
# 8 → 7, issue slip 16 → 15, redeem 13 → 12 (on SQLite, which has no lock to fold, each
# one statement less but call next). Route on's ticket lock taken by its visit step's INSERT
# as at check-in: 11 → 10 (SQLite unchanged).
# The audit append and the change counter's bump in one statement on PostgreSQL (migration
# 0022): every writing action one round trip less there (check-in 11 → 10, call next 8 → 7,
# governance 10 → 9, route on 10 → 9, issue slip 15 → 14, redeem 12 → 11, finish 7 → 6);
# SQLite and the refreshes, which write nothing, unchanged. The new ticket numbered inside
# its own INSERT (``reception.insert_ticket_locked``): check-in 10 → 9 and route on 9 → 8 on
# PostgreSQL, 11 → 10 and 10 → 9 statements on SQLite. The gateway reads the slip's offer
# with the event's public keys (``booths._read_code``): redeem 11 → 10, SQLite 12 → 11. Call
# next reads the called customer in its claim's RETURNING: 7 → 6, SQLite 8 → 7.
LIMITS: dict[str, tuple[int, int]] = {
    "check-in": (9, 10),
    "call next (service desk)": (6, 7),
    "save governance": (9, 10),
    "live refresh (service desk)": (7, 6),
    "route on": (8, 9),
    "call next (activation)": (6, 7),
    "live refresh (activation)": (7, 6),
    "issue slip": (14, 15),
    "redeem (gateway)": (10, 11),
    "finish": (6, 7),
}


@dataclass
class Station:
    """The demo event with customers ready for every step, and the staff signed in."""

    db: Database
    customers: list[int]
    clock: FixedClock

    def __post_init__(self) -> None:
        clock = self.clock
        self.front = staff_session(self.db.unit_of_work(), "R001", clock=clock)
        self.rm = staff_session(self.db.unit_of_work(), "RM001", clock=clock)
        self.act = staff_session(self.db.unit_of_work(), "A001", clock=clock)
        self.key = keys.unlock(self.db.unit_of_work(), DEMO_PASSPHRASE)


def _ready(db: Database, n: int) -> list[int]:
    """``n`` demo customers with plenty of points and every step the gate asks for done."""
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup
        ids = list(uow.session.scalars(select(Customer.id).order_by(Customer.id).limit(n)))
        uow.session.execute(
            update(Customer).where(Customer.id.in_(ids)).values(points_balance=1_000_000)
        )
        uow.session.execute(update(Offer).values(capacity=1_000_000))
        drop_lots(uow.session, Customer.id.in_(ids))
        uow.commit()
    make_ready(db, *ids)
    return ids


@pytest.fixture
def gateway_url(station: Station) -> Iterator[str]:
    """The booth gateway over the station's own database (plain HTTP on loopback), so its
    round trips are counted on the same engine."""
    port = free_port()
    instance = server(
        station.db,
        host="127.0.0.1",
        port=port,
        cert=None,
        key=None,
        clock=station.clock,
        log_level="critical",
    )
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(20)


@pytest.fixture
def station(any_demo_url: str) -> Iterator[Station]:
    db = open_database(any_demo_url)
    try:
        yield Station(db, _ready(db, 8), FixedClock(MORNING))
    finally:
        db.dispose()


def _measure(db: Database, run: Callable[[], Any]) -> tuple[RoundTrips, Any]:
    with count(db.engine, keep_sql=True) as trips:
        result = run()
    return trips, result


def _round(s: Station, customers: list[int], url: str, booth: Any) -> dict[str, RoundTrips]:
    """One customer through every station action: check-in to the service desk, called,
    governance saved, routed on, called at activation, a slip issued and redeemed at a booth
    through the gateway, finished; and a station's refresh after another station's write."""
    db, clock = s.db, s.clock
    served, walk_in = customers
    found: dict[str, RoundTrips] = {}

    found["check-in"], _r = _measure(
        db,
        lambda: reception.check_in(
            db.unit_of_work(),
            served,
            s.front,
            route=Queue.SERVICE_DESK,
            clock=clock,
            request_id=f"check-in-{served}",  # as the reception station gives one
        ),
    )
    found["call next (service desk)"], called = _measure(
        db, lambda: desk.call_next(db.unit_of_work(), s.rm, desk="D1", clock=clock, policy=ANY_RM)
    )
    assert called is not None and called.customer_id == served
    form = desk.current_form(db.unit_of_work(), served)
    form = type(form)(**{**form.__dict__, "address": f"广东省广州市天河区体育西路{served}号"})
    found["save governance"], _r = _measure(
        db,
        lambda: desk.save_governance(
            db.unit_of_work(), served, form, s.rm, visit_id=called.visit_id, clock=clock
        ),
    )
    found["live refresh (service desk)"], current = _measure(
        db, lambda: desk_refresh(db, clock, "D1")
    )
    assert current is not None  # the refresh read the called customer's timeline too
    found["route on"], _r = _measure(
        db, lambda: desk.route_on(db.unit_of_work(), called.entry_id, s.rm, clock=clock)
    )
    found["call next (activation)"], at_desk = _measure(
        db,
        lambda: desk.call_next(
            db.unit_of_work(), s.act, desk="J1", queue=Queue.ACTIVATION, clock=clock
        ),
    )
    assert at_desk is not None and at_desk.customer_id == served
    found["live refresh (activation)"], _r = _measure(
        db, lambda: activation_refresh(db, clock, "J1")
    )
    found["issue slip"], slips = _measure(
        db,
        lambda: issue_slips(
            db.unit_of_work(),
            served,
            [CartLine("O101")],
            s.act,
            s.key,
            clock=clock,
            request_id=f"slips-{served}",  # as the activation station gives one
        ),
    )
    found["redeem (gateway)"], answer = _measure(db, lambda: _redeem(url, booth, slips[0].code))
    assert answer["served"], answer
    found["finish"], _r = _measure(
        db, lambda: activation.finish(db.unit_of_work(), at_desk.entry_id, s.act, clock=clock)
    )
    del walk_in
    return found


_SEQ = itertools.count(1)  # the booth numbers its redemptions


def _redeem(url: str, booth: Any, code: str) -> dict[str, Any]:
    """The online booth's redemption, sealed as ``kiosk.booth_laptop.online`` seals it."""
    path = "/v1/slips/redeem"
    body = json.dumps(
        {
            "code": code,
            "uid": str(uuid.uuid4()),
            "seq": next(_SEQ),
            "staff_name": "Ms Wang",
            "redeemed_at": MORNING.isoformat(),
        }
    ).encode()
    with httpx.Client() as client:
        response = client.post(url + path, content=body, headers=booth.seal("POST", path, body))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.usefixtures("gateway_url")
def test_each_station_action_keeps_to_its_round_trips(
    station: Station, gateway_url: str, tmp_path: Path
) -> None:
    booth = new_booth(tmp_path / "booth.sqlite3")
    booth.install(pack_bytes(station.db))
    _round(station, station.customers[0:2], gateway_url, booth)  # warm up
    found = _round(station, station.customers[2:4], gateway_url, booth)
    postgres = station.db.engine.dialect.name == "postgresql"
    unit = "round trips" if postgres else "statements"
    table = "\n".join(
        f"  {action:32} {trips.total if postgres else trips.statements:3} {unit}"
        for action, trips in found.items()
    )
    print(f"\n{station.db.engine.dialect.name}:\n{table}")
    over = []
    for action, trips in found.items():
        limit = LIMITS[action][0 if postgres else 1]
        got = trips.total if postgres else trips.statements
        if got != limit:
            sql = "\n".join(f"    {line}" for line in trips.sql)
            over.append(f"{action}: {trips}, held to {limit}:\n{sql}")
    assert not over, (
        f"an action's {unit} changed (tests/integration/test_roundtrips.py LIMITS; each round "
        "trip costs ~2 ms on the venue LAN): cut the query added, or, when an action got "
        "cheaper, lower its number so it stays held:\n" + "\n".join(over)
    )


@pytest.mark.pg
def test_a_connection_the_server_ended_is_replaced_and_a_fresh_one_is_not_pinged(
    pg_demo_url: str,
) -> None:
    """``kiosk.pool_ping``: no ping for a connection back in the pool a moment ago; one that
    the server ended while it sat there (a restart, ``pg_terminate_backend``) says so on its
    socket, is pinged, and replaced, and the action goes through as with ``pool_pre_ping``."""
    import psycopg

    from kiosk.services.events import event_header

    db = open_database(pg_demo_url)
    try:
        assert event_header(db.unit_of_work()) is not None  # a connection in the pool
        with count(db.engine) as quiet:
            assert event_header(db.unit_of_work()) is not None
        assert (quiet.pings, quiet.connects) == (0, 0), quiet
        with db.engine.connect() as connection:
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        admin_url = pg_demo_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin_url, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
            deadline = time.monotonic() + 10
            while admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)
            ).fetchone() != (0,):
                assert time.monotonic() < deadline, "the server did not end the connection"
                time.sleep(0.05)
        with count(db.engine) as replaced:
            header = event_header(db.unit_of_work())
        assert header is not None
        # The dead one was noticed before any statement went out on it (else the read would
        # have failed): pinged, thrown away and a new connection made. ``count`` sees the
        # new connection; the ping of the dead one ended in the pool's retry, uncounted, as
        # with ``pool_pre_ping``.
        assert replaced.connects == 1 and replaced.pings == 0, replaced
    finally:
        db.dispose()
