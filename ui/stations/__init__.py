"""The one place stations are registered: a new station is one class plus one line here."""

from __future__ import annotations

from collections.abc import Iterable

from kiosk.models import Role
from kiosk.roles import Station, may_open
from ui.stations.base import StationPage

_REGISTRY: dict[Station, type[StationPage]] = {}


def register(cls: type[StationPage]) -> type[StationPage]:
    _REGISTRY[cls.station] = cls
    return cls


def unregister(station: Station) -> None:
    _REGISTRY.pop(station, None)


def stations_for(roles: Iterable[Role]) -> list[type[StationPage]]:
    """Registered stations the roles may open, in the order of the event-day chain."""
    roles = set(roles)
    return [_REGISTRY[s] for s in Station if s in _REGISTRY and may_open(roles, s)]


def _register_builtin() -> None:
    from ui.stations.overview import OverviewStation
    from ui.stations.reception import ReceptionStation

    register(OverviewStation)
    register(ReceptionStation)


_register_builtin()
