"""What a station needs from the app: the database, the clock, who is signed in and the
window's preferences."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kiosk.clock import Clock
from kiosk.db import Database
from kiosk.services.auth import StaffSession
from kiosk.uow import SharedRead, UnitOfWork
from ui.requests import PendingRequests
from ui.settings import Settings

if TYPE_CHECKING:
    # Types only: the sign-in screen is up before the stations' services are imported (#23).
    from kiosk.cart import Cart
    from kiosk.services.reception import CheckInResult
    from ui.recovery import Recovery


@dataclass
class AppContext:
    database: Database
    clock: Clock
    # The queue ticket whose printing failed last at this laptop's reception: kept here, not
    # in the station, so F4 still prints it after the window is rebuilt (language, large
    # print). Slips need no such note: the database counts their printed copies.
    unprinted_ticket: CheckInResult | None = None
    # Actions whose outcome is not known yet: kept by the app, so a language switch (which
    # rebuilds the stations) does not forget them.
    requests: PendingRequests = field(default_factory=PendingRequests)
    # The cart being put together at this laptop's activation desk, and whose it is: kept
    # here, so services added at the desk are still in it after the window is rebuilt
    # (large print for the customer to read it, a language switch), not the invitation's again.
    activation_cart: tuple[int, Cart] | None = None
    # The customer whose whole catalog is open at that desk (F3), so a rebuild keeps the view;
    # anyone else opens on their short list.
    activation_all_services: int | None = None

    def uow(self) -> UnitOfWork:
        return self.database.unit_of_work()


@dataclass
class StationContext:
    app: AppContext
    staff: StaffSession
    settings: Settings | None = None  # the window's preferences (QSettings when None)
    recovery: Recovery | None = None  # drafts of typed, unsaved forms (ui.recovery)
    # The station's work is the coordinator's long work, not a desk's quick actions: its
    # reads and writes wait as long as they need (``kiosk.netwait.patient``; ``AdminPage``).
    patient: bool = False

    def preferences(self) -> Settings:
        if self.settings is None:
            self.settings = Settings()
        return self.settings

    def uow(self) -> UnitOfWork:
        return self.app.database.unit_of_work(patient=self.patient)  # type: ignore[no-any-return]

    def shared_read(self) -> SharedRead:
        """One transaction for a refresh's several reads (``kiosk.uow.SharedRead``)."""
        return self.app.database.shared_read(patient=self.patient)  # type: ignore[no-any-return]

    @property
    def requests(self) -> PendingRequests:
        return self.app.requests
