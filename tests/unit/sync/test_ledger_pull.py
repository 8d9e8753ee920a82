"""The ledger pull writes through ``kiosk.services.ledger_snapshot``: a supervisor's, audited,
and with the search keys of a renamed customer or a new phone replaced (SQLite and PostgreSQL;
the ledger on a SQLite file, as ``kiosk sync`` runs in a rehearsal)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk import audit, privacy
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.errors import PermissionDenied
from kiosk.models import AuditRecord, Customer, Event, PointsLot
from kiosk.points import LotInput, available_points, set_lots
from kiosk.services import reception
from kiosk.services.auth import staff_session
from kiosk.services.ledger_snapshot import apply_ledger_snapshot
from sync.ledger import Account, Ledger, Lot
from sync.push import accounts_from_event, pull
from tests.points_support import drop_lots
from tests.unit.kiosk.test_permissions import _dump

NOON = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
NEW_NAME = "钟离新雪"
NEW_PHONE = "13912348765"


@pytest.fixture
def ledger(demo_db: Database, tmp_path: Path) -> Iterator[Ledger]:
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}", create=True)
    ledger.upsert_accounts(
        accounts_from_event(demo_db, privacy.unlock(demo_db.unit_of_work(), DEMO_PASSPHRASE))
    )
    yield ledger
    ledger.dispose()


def _first(database: Database) -> tuple[int, str, str, str]:
    """A customer with a phone: (id, customer number, name, phone mask)."""
    with database.unit_of_work() as uow:
        customer = uow.session.scalars(
            select(Customer)
            .where(~Customer.walk_in, Customer.phone_masked.is_not(None))
            .order_by(Customer.id)
            .limit(1)
        ).one()
        assert customer.phone_masked and not customer.phone_masked.endswith(NEW_PHONE[-4:])
        return customer.id, customer.customer_no, customer.name, customer.phone_masked


def _renamed_in_ledger(ledger: Ledger, customer_no: str) -> Account:
    (account,) = ledger.accounts([customer_no])
    renamed = replace(account, kyc={**account.kyc, "name": NEW_NAME, "phone": NEW_PHONE})
    ledger.upsert_accounts([renamed])
    return renamed


def _found(database: Database, text: str) -> set[str]:
    return {hit.customer_no for hit in reception.search(database.unit_of_work(), text, limit=200)}


def test_a_pulled_name_and_phone_are_found_at_reception(demo_db: Database, ledger: Ledger) -> None:
    customer_id, number, old_name, old_mask = _first(demo_db)
    _renamed_in_ledger(ledger, number)
    assert number not in _found(demo_db, NEW_NAME)
    s001 = staff_session(demo_db.unit_of_work(), "S001", clock=FixedClock(NOON))

    report = pull(demo_db, ledger, s001, clock=FixedClock(NOON))

    assert report.updated > 1 and not report.missing and report.as_of == NOON
    assert _found(demo_db, NEW_NAME) == {number}
    assert number in _found(demo_db, NEW_PHONE[-4:])
    assert number not in _found(demo_db, old_name)
    assert number not in _found(demo_db, old_mask[-4:])
    with demo_db.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None and customer.name == NEW_NAME
        assert customer.phone_masked == "139****8765"
        record = uow.session.scalars(
            select(AuditRecord).where(AuditRecord.action == "ledger_pulled")
        ).one()
    # Audited as every service is: who, where, and what it touched.
    assert record.staff_id == s001.staff_id and record.station == "sync"
    assert json.loads(record.details)["reindexed"] == 1


@pytest.mark.parametrize("staff_no", ["R001", "RM001", "A001", "M001"])
def test_only_a_supervisor_pulls(demo_db: Database, ledger: Ledger, staff_no: str) -> None:
    _customer_id, number, old_name, _mask = _first(demo_db)
    account = _renamed_in_ledger(ledger, number)
    staff = staff_session(demo_db.unit_of_work(), staff_no, clock=FixedClock(NOON))
    before = _dump(demo_db)
    words = "Only a supervisor refreshes the customers' balances from the ledger."
    with pytest.raises(PermissionDenied, match=words):
        pull(demo_db, ledger, staff, clock=FixedClock(NOON))
    # The service itself refuses too, whoever calls it, before it writes anything.
    with pytest.raises(PermissionDenied, match=words):
        apply_ledger_snapshot(demo_db.unit_of_work(), staff, [account], clock=FixedClock(NOON))
    with pytest.raises(PermissionDenied, match=words):
        apply_ledger_snapshot(demo_db.unit_of_work(), None, [account], clock=FixedClock(NOON))
    assert _dump(demo_db) == before
    assert number in _found(demo_db, old_name)


def test_the_pull_writes_lots_aum_and_the_banks_stock(demo_db: Database, ledger: Ledger) -> None:
    """The seed sends each customer's lots and AUM; a pull brings the ledger's lots back through
    ``set_lots`` (a lot the ledger no longer reports kept at 0), AUM, and the stock."""
    customer_id, number, _name, _mask = _first(demo_db)
    with audit.unaudited(), demo_db.unit_of_work() as uow:  # test setup: an imported snapshot
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None
        drop_lots(uow.session, Customer.id == customer_id)  # not the demo's own lots
        set_lots(uow.session, customer, [LotInput("old", 900, date(2027, 3, 31))])
        customer.aum = 80_000
        uow.commit()
    (seed,) = [
        a
        for a in accounts_from_event(
            demo_db, privacy.unlock(demo_db.unit_of_work(), DEMO_PASSPHRASE)
        )
        if a.customer_no == number
    ]
    assert (seed.lots, seed.aum) == ((Lot("old", 900, date(2027, 3, 31)),), 80_000)
    lots = (Lot("A", 1_200, date(2026, 12, 31)), Lot("B", 3_000, None))
    ledger.upsert_accounts([replace(seed, lots=lots, aum=650_000)])
    s001 = staff_session(demo_db.unit_of_work(), "S001", clock=FixedClock(NOON))

    pull(demo_db, ledger, s001, clock=FixedClock(NOON))

    with demo_db.unit_of_work() as uow:
        s = uow.session
        customer = s.get(Customer, customer_id)
        assert customer is not None
        held = {
            (lot.ref, lot.points, lot.expires_on)
            for lot in s.scalars(select(PointsLot).where(PointsLot.customer_id == customer_id))
        }
        assert {lot for lot in held if lot[1]} == {
            ("A", 1_200, date(2026, 12, 31)),
            ("B", 3_000, None),
        }
        # Not on the ledger any more: kept at 0 by the pull (the journal may name it); the
        # fixture's seed (the demo's lots before) kept at 0 by the ledger.
        assert ("old", 0, date(2027, 3, 31)) in held
        assert len(held) > 3
        assert (customer.points_balance, customer.aum) == (4_200, 650_000)
        assert available_points(s, customer, NOON.date()) == 4_200
        assert available_points(s, customer, date(2027, 1, 1)) == 3_000
        event = s.scalars(select(Event)).one()
        # The ledger's stock on the event's day, as the pull asked it.
        assert event.bank_points_stock == ledger.points_stock(NOON.date())
        assert event.bank_points_stock == sum(
            a.balance for a in ledger.accounts([number], NOON.date())
        ) + sum(
            c.points_balance for c in s.scalars(select(Customer).where(Customer.id != customer_id))
        )
