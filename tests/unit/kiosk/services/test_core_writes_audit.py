"""Check-in, call-next, route on, finish and issuing slips write their rows with Core INSERT
statements (issue #23: the ORM flush of those rows was ~40% of a check-in's CPU) and hand the
rows to the audit themselves (``kiosk.audit.note_inserted``). The audit chain must not be able
to tell: every audit record these actions write, and every row they write, is identical to
what the ORM path wrote.

``core_writes_golden.json`` was recorded from the ORM path by running this module with
``KIOSK_RECORD_GOLDEN=1`` (check-in and calls at commit 1083aa3, before their switch; slips at
f78d512, before theirs, the check-in part unchanged; route on and finish at 89aca20, before
theirs, the rest unchanged): a fixed clock, fixed outbox keys, a fixed signing key and the
deterministic demo event make even the ids and digests repeatable. Route on's and finish's
UPDATEs of the ticket and the visit went Core later (``audit.update_noted``) against the same
recording, unchanged, and so did route on's INSERT of the new activation ticket, numbered in
the INSERT itself. Two redemptions at a booth on the LAN (``redeem_online``, the gateway's
recording) were added to the scenario and recorded at dccef41, before theirs.
"""

from __future__ import annotations

import itertools
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update

from kiosk import audit, outbox
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.models import (
    ActionRequest,
    AuditRecord,
    Base,
    Customer,
    Event,
    JournalEntry,
    JournalLot,
    Merchant,
    Offer,
    OutboxEntry,
    PointsLot,
    Queue,
    QueueEntry,
    Redemption,
    Slip,
    Visit,
    VisitStep,
)
from kiosk.redemption_bundle import BundleRedemption
from kiosk.services import activation, desk, reception
from kiosk.services.auth import StaffSession, staff_session
from kiosk.services.booths import redeem_online
from kiosk.services.slips import CartLine, issue_slips
from tests.gate_support import make_ready
from tests.points_support import drop_lots

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)
GOLDEN = Path(__file__).with_name("core_writes_golden.json")
TABLES: list[type[Base]] = [
    Visit,
    VisitStep,
    QueueEntry,
    Slip,
    JournalEntry,
    JournalLot,
    PointsLot,
    OutboxEntry,
    ActionRequest,
    AuditRecord,
    Redemption,
]


def _fixed_uuids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outbox keys are random; numbered ones make the rows (and their digests) repeatable."""
    counter = itertools.count(1)
    numbered = SimpleNamespace(uuid4=lambda: uuid.UUID(int=next(counter)))
    monkeypatch.setattr(outbox, "uuid", numbered)  # not uuid itself: fixtures' threads use it


def _keys(db: Database, model: type[Base]) -> set[Any]:
    key = next(iter(model.__table__.primary_key.columns))
    with db.engine.connect() as connection:
        return set(connection.scalars(select(key)))


def _rows(db: Database, model: type[Base], known: set[Any]) -> list[dict[str, Any]]:
    """The table's rows whose keys are not in ``known``, by key, every column as plain JSON."""
    table = model.__table__
    key = next(iter(table.primary_key.columns))
    with db.engine.connect() as connection:
        found = connection.execute(select(table).order_by(key)).mappings().all()
    # The chain's hashes start from the demo's first record, whose time is when the demo was
    # made: left out. Every field a hash covers is compared, and ``check`` proves each hash.
    unstable = {"prev_hash", "hash"} if model is AuditRecord else set()
    return [
        {name: audit.plain(value) for name, value in row.items() if name not in unstable}
        for row in found
        if row[key.name] not in known
    ]


def _issue(db: Database, clock: FixedClock, ids: list[int], s001: StaffSession) -> None:
    """Slips: a cart of two lines from the demo's lots under a request id (and that request
    again), one from a balance without lots (its implicit lot made real), and one let through
    the gate by a supervisor (the override step and record)."""
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup
        uow.session.execute(
            update(Customer).where(Customer.id == ids[2]).values(points_balance=30_000)
        )
        drop_lots(uow.session, Customer.id == ids[2])
        uow.commit()
    make_ready(db, ids[6], ids[2])
    # A fixed signing key: the demo's is made at random, and the codes are in the digests.
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    a001 = staff_session(db.unit_of_work(), "A001", clock=clock)
    cart = [CartLine("O501"), CartLine("O501", 2)]
    for _again in range(2):
        clock.advance(seconds=7)
        issue_slips(db.unit_of_work(), ids[6], cart, a001, key, clock=clock, request_id="slip-1")
    clock.advance(seconds=7)
    issue_slips(db.unit_of_work(), ids[2], [CartLine("O101")], a001, key, clock=clock)
    clock.advance(seconds=7)
    issue_slips(
        db.unit_of_work(), ids[4], [CartLine("O501")], s001, key, clock=clock, override=True
    )


def _redeem(db: Database, clock: FixedClock) -> None:
    """Two of the slips redeemed at a booth on the LAN (``redeem_online``, the gateway's
    recording): the redemption, the slip redeemed, the outbox entry and the audit record."""
    with db.unit_of_work() as uow:
        found = uow.session.execute(
            select(Slip.serial, Slip.offer_id, Offer.code, Merchant.id, Merchant.code, Event.code)
            .join(Offer, Offer.id == Slip.offer_id)
            .join(Merchant, Merchant.id == Offer.merchant_id)
            .join(Event, Event.id == Slip.event_id)
            .order_by(Slip.serial)
            .limit(2)
        ).all()
    for n, (serial, offer_id, offer_code, merchant_id, merchant_code, event_code) in enumerate(
        found, start=1
    ):
        clock.advance(seconds=11)
        redemption = BundleRedemption(
            f"uid-{n}", n, serial, offer_id, offer_code, 1, 100, clock.now(), "Ms Booth"
        )
        state, served = redeem_online(
            db.unit_of_work(),
            event_code=event_code,
            merchant_code=merchant_code,
            merchant_id=merchant_id,
            booth_id=f"booth-{n}",
            serial=serial,
            serve=lambda r=redemption: r,
            clock=clock,
            uid=redemption.uid,
        )
        assert served == redemption and state.free


def _route_on_and_finish(
    db: Database, clock: FixedClock, s001: StaffSession, at_activation: desk.Called | None
) -> None:
    """A service desk routes its customer on to activation, and the activation desk finishes
    the customer it called (``at_activation``)."""
    assert at_activation is not None
    clock.advance(seconds=9)
    called = desk.call_next(
        db.unit_of_work(), s001, desk="3 号柜台", queue=Queue.SERVICE_DESK, clock=clock
    )
    assert called is not None, "nobody left waiting at the service desk"
    clock.advance(seconds=5)
    desk.route_on(db.unit_of_work(), called.entry_id, s001, clock=clock, desk="3 号柜台")
    clock.advance(seconds=5)
    activation.finish(db.unit_of_work(), at_activation.entry_id, s001, clock=clock, desk="5 号柜台")


def _scenario(db: Database) -> dict[str, Any]:
    """A reception and desk morning: check-ins (suggested route, overridden route, under a
    request id, repeated, replayed), then calls at both desks and a call by customer, then
    slips (``_issue``)."""
    clock = FixedClock(MORNING)
    before = {model.__tablename__: _keys(db, model) for model in TABLES}
    r001 = staff_session(db.unit_of_work(), "R001", clock=clock)
    with db.unit_of_work() as uow:
        ids = uow.session.scalars(select(Customer.id).order_by(Customer.id).limit(7)).all()
    for n, customer_id in enumerate(ids):
        clock.advance(seconds=17)
        route = Queue.SERVICE_DESK if n == 1 else Queue.ACTIVATION if n == 2 else None
        request_id = f"req-{n}" if n in (3, 4) else None
        reception.check_in(
            db.unit_of_work(), customer_id, r001, route=route, clock=clock, request_id=request_id
        )
    # Already checked in, and the same request again: neither writes anything.
    reception.check_in(db.unit_of_work(), ids[0], r001, clock=clock)
    reception.check_in(db.unit_of_work(), ids[3], r001, clock=clock, request_id="req-3")
    clock.advance(minutes=11)
    s001 = staff_session(db.unit_of_work(), "S001", clock=clock)
    for queue in (Queue.SERVICE_DESK, Queue.ACTIVATION, Queue.SERVICE_DESK):
        clock.advance(seconds=9)
        counter = "1 号柜台" if queue == Queue.SERVICE_DESK else "2 号柜台"
        called = desk.call_next(db.unit_of_work(), s001, desk=counter, queue=queue, clock=clock)
        if called is not None:
            clock.advance(seconds=5)
            desk.skip(db.unit_of_work(), called.entry_id, s001, clock=clock, desk=counter)
    clock.advance(seconds=9)
    at_five = desk.call_customer(
        db.unit_of_work(), s001, ids[5], desk="5 号柜台", queue=Queue.ACTIVATION, clock=clock
    )
    _route_on_and_finish(db, clock, s001, at_five)
    _issue(db, clock, ids, s001)
    _redeem(db, clock)
    return {model.__tablename__: _rows(db, model, before[model.__tablename__]) for model in TABLES}


def test_audit_records_and_rows_match_the_orm_path(
    any_demo_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fixed_uuids(monkeypatch)
    got = _scenario(any_demo_db)
    dialect = any_demo_db.engine.dialect.name
    golden = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}
    if os.environ.get("KIOSK_RECORD_GOLDEN") == "1":
        golden[dialect] = got
        GOLDEN.write_text(
            json.dumps(golden, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
            encoding="utf-8",
        )
    assert got["audit_record"], "the scenario wrote no audit records"
    assert got["visit"] and got["visit_step"] and got["outbox_entry"] and got["action_request"]
    for table, rows in golden[dialect].items():
        assert got[table] == rows, f"{table} differs from the ORM path on {dialect}"
    with any_demo_db.unit_of_work() as uow:
        assert audit.check(uow.session).intact


def test_a_core_row_gets_the_defaults_the_orm_would_fill_and_nothing_unknown(
    demo_db: Database,
) -> None:
    """The values noted are the ORM's: scalar defaults of the columns left out filled in,
    NULL columns left out absent; a misspelt column is refused before anything is sent."""
    row = audit.insert_values(QueueEntry, {"queue": Queue.ACTIVATION, "reason": "x"})
    assert row == {"queue": Queue.ACTIVATION, "reason": "x", "status": "waiting"}
    with demo_db.unit_of_work() as uow:
        with pytest.raises(ValueError, match="visit_step has no column nota"):
            audit.note_inserted(uow.session, VisitStep, [{"id": 1, "nota": ""}])
        assert not uow.session.info.get("kiosk_audit_rows")


def test_a_core_update_notes_what_the_flush_would_and_keeps_the_object_clean(
    any_demo_db: Database,
) -> None:
    """``update_noted`` against the ORM doing the same, row by row in one transaction each:
    the same before/after noted (so the same digests), the object holding the new values
    with nothing left to flush; a later ORM change of the same row merges as two flushes do.
    An object with an unflushed change of its own, or an unknown attribute, is refused
    before anything is sent."""
    noted: list[dict[tuple[str, str], Any]] = []
    with any_demo_db.unit_of_work() as uow:
        ids = uow.session.scalars(select(Visit.id).order_by(Visit.id).limit(2)).all()
    if len(ids) < 2:
        reception_clock = FixedClock(MORNING)
        r001 = staff_session(any_demo_db.unit_of_work(), "R001", clock=reception_clock)
        with any_demo_db.unit_of_work() as uow:
            customers = uow.session.scalars(select(Customer.id).order_by(Customer.id).limit(2))
            customer_ids = list(customers)
        for customer_id in customer_ids:
            reception.check_in(any_demo_db.unit_of_work(), customer_id, r001, clock=reception_clock)
        with any_demo_db.unit_of_work() as uow:
            ids = uow.session.scalars(select(Visit.id).order_by(Visit.id).limit(2)).all()
    for core in (False, True):
        with audit.unaudited(), any_demo_db.unit_of_work() as uow:
            s = uow.session
            visit = s.get(Visit, ids[0])
            assert visit is not None
            if core:
                audit.update_noted(s, visit, {"route": Queue.ACTIVATION, "companions": 3})
                assert visit.route == Queue.ACTIVATION and visit.companions == 3
                assert not s.dirty  # nothing left for the flush to send again
            else:
                visit.route, visit.companions = Queue.ACTIVATION, 3
                s.flush()
            visit.companions = 4  # a later ORM change of the same row
            s.flush()
            noted.append(dict(s.info["kiosk_audit_rows"]))
            uow.rollback()
    assert noted[0] == noted[1]
    with any_demo_db.unit_of_work() as uow:
        s = uow.session
        visit = s.get(Visit, ids[1])
        assert visit is not None
        with pytest.raises(ValueError, match="has no attribute rout"):
            audit.update_noted(s, visit, {"rout": Queue.ACTIVATION})
        visit.companions = 2
        with pytest.raises(ValueError, match="flush it first"):
            audit.update_noted(s, visit, {"route": Queue.ACTIVATION})
