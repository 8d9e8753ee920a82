"""``kiosk.bulk``: rows written at once are stored as the ORM stores them, on both backends.

PostgreSQL takes them through COPY, which bypasses SQLAlchemy's statement building: the test
compares every column of a customer written that way with one the ORM wrote from the same
values (UTC times, enum strings, column defaults), checks a naive time is still refused, that a
rollback leaves nothing, and that the change counter still moves (no ORM event sees a COPY).
The writes are fixtures' (``audit.unaudited``): the import that uses this appends its own
audit record.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kiosk import audit, bulk, changes
from kiosk.changes import COUNTER_SQL
from kiosk.db import Database
from kiosk.models import Branch, Customer, MobileBanking

SHANGHAI = timezone(timedelta(hours=8))
VALUES = {
    "name": "𠮷田 欧阳",
    "name_initials": "jt oy",
    "phone_masked": "138****0001",
    "phone_last4": "0001",
    "id_long_term": True,
    "points_balance": 12_345,
    "balance_as_of": datetime(2026, 11, 20, 9, 30, tzinfo=SHANGHAI),
    "mobile_banking": MobileBanking.ACTIVE,
}


def _stored(s: Session, pattern: str) -> list[dict[str, object]]:
    """Every column of the matching customers as the database holds them (Core: some
    columns, such as the old plain-text ones, are not mapped on the ORM class)."""
    table = Customer.__table__
    rows = s.execute(
        select(table).where(table.c.customer_no.like(pattern)).order_by(table.c.id)
    ).mappings()
    return [dict(row) for row in rows]


def test_bulk_rows_are_stored_as_the_orm_stores_them(demo_db: Database) -> None:
    with audit.unaudited(), demo_db.unit_of_work() as uow:
        s = uow.session
        branch_id = s.scalars(select(Branch.id)).first()
        s.add(Customer(customer_no="BULK-ORM", branch_id=branch_id, **VALUES))
        s.flush()
        bulk.insert_rows(
            s.connection(),
            Customer.__table__,
            [{"customer_no": f"BULK-{n}", "branch_id": branch_id, **VALUES} for n in range(3)],
        )
        changes.wrote(s)
        uow.commit()
    with demo_db.unit_of_work() as uow:
        (orm,) = _stored(uow.session, "BULK-ORM")
        written = _stored(uow.session, "BULK-_")
    assert [c.pop("customer_no") for c in written] == ["BULK-0", "BULK-1", "BULK-2"]
    del orm["customer_no"], orm["id"]
    for customer in written:
        del customer["id"]
        assert customer == orm
    assert orm["balance_as_of"] == datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
    assert orm["mobile_banking"] == MobileBanking.ACTIVE
    assert orm["tier"] == "standard" and orm["dormant"] is False  # the defaults


def test_a_naive_time_is_refused_and_a_rollback_leaves_nothing(demo_db: Database) -> None:
    with demo_db.unit_of_work() as uow:
        branch_id = uow.session.scalars(select(Branch.id)).first()
    row = {"customer_no": "BULK-NAIVE", "branch_id": branch_id, **VALUES}
    row["balance_as_of"] = datetime(2026, 11, 20, 9, 30)
    with pytest.raises(Exception, match="naive datetime"), demo_db.unit_of_work() as uow:
        bulk.insert_rows(uow.session.connection(), Customer.__table__, [row])
    good = {**row, "customer_no": "BULK-ROLLED", "balance_as_of": VALUES["balance_as_of"]}
    with demo_db.unit_of_work() as uow:
        bulk.insert_rows(uow.session.connection(), Customer.__table__, [good])
        uow.rollback()
    with demo_db.unit_of_work() as uow:
        found = uow.session.scalars(
            select(Customer.id).where(Customer.customer_no.like("BULK-%"))
        ).all()
    assert found == []


def test_the_change_counter_moves_for_a_bulk_write(demo_db: Database) -> None:
    with demo_db.unit_of_work() as uow:
        before = uow.session.execute(text(COUNTER_SQL)).scalar()
        branch_id = uow.session.scalars(select(Branch.id)).first()
    with audit.unaudited(), demo_db.unit_of_work() as uow:
        row = {"customer_no": "BULK-SEEN", "branch_id": branch_id, **VALUES}
        bulk.insert_rows(uow.session.connection(), Customer.__table__, [row])
        changes.wrote(uow.session)
        uow.commit()
    with demo_db.unit_of_work() as uow:
        after = uow.session.execute(text(COUNTER_SQL)).scalar()
    assert after == before + 1


def test_the_page_cache_grows_for_a_bulk_write_and_is_given_back(demo_db: Database) -> None:
    with demo_db.unit_of_work() as uow:
        connection = uow.session.connection()
        sqlite = connection.dialect.name == "sqlite"
        before = connection.exec_driver_sql("PRAGMA cache_size").scalar() if sqlite else None
        with bulk.page_cache(connection, mebibytes=32):
            if sqlite:
                assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -32 * 1024
        if sqlite:
            assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == before
