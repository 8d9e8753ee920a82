"""What a station needs from the app: the database, the clock, who is signed in and the
window's preferences."""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.clock import Clock
from kiosk.db import Database
from kiosk.services.auth import StaffSession
from kiosk.uow import UnitOfWork
from ui.requests import PendingRequests
from ui.settings import Settings


@dataclass
class AppContext:
    database: Database
    clock: Clock
    # Actions whose outcome is not known yet: kept by the app, so a language switch (which
    # rebuilds the stations) does not forget them.
    requests: PendingRequests = field(default_factory=PendingRequests)

    def uow(self) -> UnitOfWork:
        return self.database.unit_of_work()


@dataclass
class StationContext:
    app: AppContext
    staff: StaffSession
    settings: Settings | None = None  # the window's preferences (QSettings when None)

    def preferences(self) -> Settings:
        if self.settings is None:
            self.settings = Settings()
        return self.settings

    def uow(self) -> UnitOfWork:
        return self.app.uow()

    @property
    def requests(self) -> PendingRequests:
        return self.app.requests
