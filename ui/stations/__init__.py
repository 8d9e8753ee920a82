"""The one place stations are registered: a new station is one class plus one line here.

Stations are registered by import path and imported when first opened, so start-up does not
pay for what a station imports (reportlab, zxing-cpp, ...) before anyone needs it.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module
from typing import TYPE_CHECKING

from kiosk.models import Role
from kiosk.roles import Station, may_open

if TYPE_CHECKING:
    from ui.stations.base import StationPage

_REGISTRY: dict[Station, type[StationPage] | str] = {
    Station.OVERVIEW: "ui.stations.overview:OverviewStation",
    Station.RECEPTION: "ui.stations.reception:ReceptionStation",
    Station.SERVICE_DESK: "ui.stations.service_desk:ServiceDeskStation",
    Station.ACTIVATION: "ui.stations.activation:ActivationStation",
    Station.ADMIN: "ui.stations.admin:AdminStation",
    Station.MERCHANT: "ui.stations.merchant:MerchantStation",
    Station.DASHBOARD: "ui.stations.dashboard:DashboardStation",
    Station.MY_CUSTOMERS: "ui.stations.my_customers:MyCustomersStation",
}


def register(cls: type[StationPage]) -> type[StationPage]:
    _REGISTRY[cls.station] = cls
    return cls


def load(station: Station) -> type[StationPage]:
    """The station's class, imported on first use."""
    entry = _REGISTRY[station]
    if isinstance(entry, str):
        module, name = entry.split(":")
        entry = getattr(import_module(module), name)
        _REGISTRY[station] = entry
    return entry


def stations_for(roles: Iterable[Role]) -> list[Station]:
    """Registered stations the roles may open, in the order of the event-day chain."""
    roles = set(roles)
    return [s for s in Station if s in _REGISTRY and may_open(roles, s)]
