"""Which stations each role opens.

The rule lives in the domain so the CLI, the services and the UI agree; the UI only shows the
stations this returns.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from kiosk.models import Role


class Station(enum.StrEnum):
    OVERVIEW = "overview"
    RECEPTION = "reception"
    SERVICE_DESK = "service_desk"
    ACTIVATION = "activation"
    MERCHANT = "merchant"
    DASHBOARD = "dashboard"
    ADMIN = "admin"
    # After ADMIN, so the stations' Ctrl+N keys before it do not move.
    MY_CUSTOMERS = "my_customers"


EVERY_ROLE = frozenset(Role)

STATION_ROLES: dict[Station, frozenset[Role]] = {
    Station.OVERVIEW: EVERY_ROLE,
    Station.RECEPTION: frozenset({Role.RECEPTION, Role.SUPERVISOR}),
    Station.SERVICE_DESK: frozenset({Role.RM, Role.SUPERVISOR}),
    Station.ACTIVATION: frozenset({Role.ACTIVATION, Role.SUPERVISOR}),
    Station.MERCHANT: frozenset({Role.MERCHANT, Role.SUPERVISOR}),
    Station.DASHBOARD: frozenset({Role.SUPERVISOR}),
    Station.ADMIN: frozenset({Role.SUPERVISOR}),
    Station.MY_CUSTOMERS: frozenset({Role.RM, Role.SUPERVISOR}),
}

# Stations that are not a desk of the event day: they never make a member of staff's home.
NOT_A_DESK = frozenset({Station.OVERVIEW, Station.MY_CUSTOMERS})


def may_open(roles: Iterable[Role], station: Station) -> bool:
    return bool(STATION_ROLES[station] & set(roles))


def allowed_stations(roles: Iterable[Role]) -> list[Station]:
    """Stations the roles may open, in the order of the event-day chain."""
    roles = set(roles)
    return [station for station in Station if may_open(roles, station)]


def home_station(roles: Iterable[Role], registered: Iterable[Station]) -> Station | None:
    """Where a member of staff starts: their desk when their roles give exactly one (and it
    exists), else the overview, where a supervisor chooses. An RM's list of customers to
    remind (``MY_CUSTOMERS``) is not a desk: an RM still starts at the service desk."""
    registered = list(registered)
    desks = [s for s in allowed_stations(roles) if s not in NOT_A_DESK]
    if len(desks) == 1 and desks[0] in registered:
        return desks[0]
    return Station.OVERVIEW if Station.OVERVIEW in registered else next(iter(registered), None)
