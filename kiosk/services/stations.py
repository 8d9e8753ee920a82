"""Each laptop's free disk space, for the dashboard: a small heartbeat row per station.

A station writes one row (``station_status``, keyed by host name) when staff sign in and
then once a minute: the least free space among the folders it writes to (the event database
if it is a local file, the print spool, backups) and where that is. One primary-key upsert a
minute per laptop is cheap, and the row is neither audited nor counted as a change
(``kiosk.changes``), so a heartbeat never makes the other stations reload. The dashboard
lists the rows heard from in the last few minutes: a laptop that stopped reporting is off or
cut off, and its last figure would mislead.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from kiosk.changeset import NOTHING, Changes
from kiosk.clock import Clock
from kiosk.models import StationStatus
from kiosk.permissions import Action, require
from kiosk.services.auth import StaffSession
from kiosk.storage import SpaceReport
from kiosk.uow import UnitOfWork

FRESH = timedelta(minutes=3)  # three missed heartbeats: off, or cut off


@dataclass(frozen=True)
class StationSpace:
    host: str
    station: str
    staff_no: str
    free_bytes: int
    place: str
    at: datetime

    @property
    def megabytes(self) -> int:
        return self.free_bytes // (1024 * 1024)


def this_host() -> str:
    return (socket.gethostname() or "laptop")[:64]


def report_station(
    uow: UnitOfWork,
    staff: StaffSession,
    space: SpaceReport,
    *,
    station: str = "",
    host: str | None = None,
    clock: Clock | None = None,
) -> Changes:
    """Upsert this laptop's row (one statement, outside the audit and the change counter);
    nothing a station lists changes, so the answer is always empty."""
    require(staff, Action.REPORT_STATION)
    now = (clock or Clock()).now()
    values = {
        "host": (host or this_host())[:64],
        "station": station[:32],
        "staff_no": staff.staff_no[:32],
        "free_bytes": space.free,
        "place": space.place.name[:255],
        "at": now,
    }
    with uow:
        s = uow.session
        dialect = s.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(StationStatus).values(**values)
        s.execute(
            statement.on_conflict_do_update(
                index_elements=[StationStatus.host],
                set_={k: statement.excluded[k] for k in values if k != "host"},
            )
        )
        uow.commit()
        return NOTHING


def station_space(uow: UnitOfWork, *, clock: Clock | None = None) -> list[StationSpace]:
    """The laptops heard from lately, least free space first."""
    since = (clock or Clock()).now() - FRESH
    with uow:
        return [
            StationSpace(r.host, r.station, r.staff_no, r.free_bytes, r.place, r.at)
            for r in uow.session.scalars(
                select(StationStatus)
                .where(StationStatus.at >= since)
                .order_by(StationStatus.free_bytes, StationStatus.host)
            )
        ]
