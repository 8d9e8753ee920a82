"""Reading and checking the audit chain, and the idle-lock records of a station.

The Administration station and ``kiosk audit`` read through here: plain rows with staff
numbers (never names), the chain check, and the two records a station writes when it locks
itself while idle and when the same member of staff unlocks it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from kiosk import audit
from kiosk.clock import Clock
from kiosk.errors import NoEventError
from kiosk.models import AuditRecord, Event, Staff
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event
from kiosk.uow import UnitOfWork

DEFAULT_LIMIT = 200


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    staff_no: str  # "" when nobody was signed in (a failed sign-in, the demo)
    station: str
    action: str
    entity: str
    entity_id: str
    details: dict[str, Any]
    approved_by: str  # the approving supervisor's staff number, or ""


def recent(
    uow: UnitOfWork,
    *,
    staff_no: str | None = None,
    action: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[AuditRow]:
    """The newest records first, optionally for one staff number and/or one action code."""
    who = aliased(Staff)
    approver = aliased(Staff)
    query = (
        select(AuditRecord, who.staff_no, approver.staff_no)
        .outerjoin(who, who.id == AuditRecord.staff_id)
        .outerjoin(approver, approver.id == AuditRecord.approved_by)
        .order_by(AuditRecord.id.desc())
        .limit(limit)
    )
    if staff_no:
        query = query.where(who.staff_no == staff_no.strip().upper())
    if action:
        query = query.where(AuditRecord.action == action.strip())
    with uow:
        return [
            AuditRow(
                id=record.id,
                at=record.at,
                staff_no=number or "",
                station=record.station,
                action=record.action,
                entity=record.entity,
                entity_id=record.entity_id,
                details=json.loads(record.details or "{}"),
                approved_by=approved or "",
            )
            for record, number, approved in uow.session.execute(query)
        ]


def event_timezone(uow: UnitOfWork) -> str:
    """The event's time zone, to show record times as the venue's clock reads them."""
    with uow:
        try:
            return current_event(uow.session).timezone
        except NoEventError:
            return Event.timezone.default.arg  # type: ignore[union-attr]


def verify_chain(uow: UnitOfWork) -> audit.ChainReport:
    """Every break in the chain with its place, plus the count and head hash to note down."""
    with uow:
        return audit.check(uow.session)


def _record(
    uow: UnitOfWork, staff: StaffSession, action: str, station: str, clock: Clock | None
) -> None:
    with uow:
        audit.append(
            uow.session,
            at=(clock or Clock()).now(),
            action=action,
            staff_id=staff.staff_id,
            station=station,
            entity="staff",
            entity_id=staff.staff_id,
        )
        uow.commit()


def screen_locked(
    uow: UnitOfWork, staff: StaffSession, *, station: str = "", clock: Clock | None = None
) -> None:
    """The station covered itself after no one touched it for the idle time."""
    _record(uow, staff, "screen_locked", station, clock)


def screen_unlocked(
    uow: UnitOfWork, staff: StaffSession, *, station: str = "", clock: Clock | None = None
) -> None:
    """The same member of staff typed their PIN again (checked by ``auth.sign_in``)."""
    _record(uow, staff, "screen_unlocked", station, clock)
