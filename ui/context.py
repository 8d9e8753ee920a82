"""What a station needs from the app: the database, the clock and who is signed in."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.clock import Clock
from kiosk.db import Database
from kiosk.services.auth import StaffSession
from kiosk.uow import UnitOfWork


@dataclass
class AppContext:
    database: Database
    clock: Clock

    def uow(self) -> UnitOfWork:
        return self.database.unit_of_work()


@dataclass
class StationContext:
    app: AppContext
    staff: StaffSession

    def uow(self) -> UnitOfWork:
        return self.app.uow()
