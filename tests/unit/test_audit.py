"""The audit chain detects an edited, deleted or reordered record and says where."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update

from kiosk import audit
from kiosk.db import Database, open_database
from kiosk.models import AuditRecord


def _chain(url: str, n: int = 5) -> Database:
    database = open_database(url)
    start = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    with database.unit_of_work() as uow:
        for i in range(n):
            audit.append(
                uow.session,
                at=start + timedelta(minutes=i),
                action=f"step{i}",
                entity="visit",
                entity_id=i,
                details={"n": i},
            )
        uow.commit()
    return database


def _ids(database: Database) -> list[int]:
    with database.unit_of_work() as uow:
        return list(uow.session.scalars(select(AuditRecord.id).order_by(AuditRecord.id)))


def test_intact_chain(empty_url: str) -> None:
    database = _chain(empty_url)
    with database.unit_of_work() as uow:
        assert audit.verify(uow.session) is None


def test_edited_record(empty_url: str) -> None:
    database = _chain(empty_url)
    ids = _ids(database)
    with database.unit_of_work() as uow:
        uow.session.execute(
            update(AuditRecord).where(AuditRecord.id == ids[2]).values(details='{"n":99}')
        )
        uow.commit()
        problem = audit.verify(uow.session)
    assert problem is not None
    assert problem.record_id == ids[2]
    assert "edited" in problem.reason


def test_deleted_record(empty_url: str) -> None:
    database = _chain(empty_url)
    ids = _ids(database)
    with database.unit_of_work() as uow:
        uow.session.execute(delete(AuditRecord).where(AuditRecord.id == ids[1]))
        uow.commit()
        problem = audit.verify(uow.session)
    assert problem is not None
    assert problem.record_id == ids[2]
    assert "removed or reordered" in problem.reason


def test_reordered_records(empty_url: str) -> None:
    database = _chain(empty_url)
    ids = _ids(database)
    with database.unit_of_work() as uow:
        a, b = (uow.session.get(AuditRecord, ids[1]), uow.session.get(AuditRecord, ids[3]))
        assert a is not None and b is not None
        fields = ("at", "action", "entity_id", "details", "prev_hash", "hash")
        values_a = {f: getattr(a, f) for f in fields}
        values_b = {f: getattr(b, f) for f in fields}
        for f in fields:  # swap contents but keep ids: the order changes
            setattr(a, f, values_b[f] if f != "hash" else "tmp")
        uow.session.flush()
        for f in fields:
            setattr(b, f, values_a[f])
        uow.session.flush()
        a.hash = values_b["hash"]
        uow.commit()
        problem = audit.verify(uow.session)
    assert problem is not None
    assert problem.record_id == ids[1]
