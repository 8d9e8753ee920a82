"""User-facing names of domain values, translated; one place so CLI, UI and print agree."""

from __future__ import annotations

from kiosk.i18n import _
from kiosk.models import Role, ServiceCategory
from kiosk.roles import Station


def role_label(role: Role | str) -> str:
    return {
        Role.RECEPTION: _("Reception"),
        Role.RM: _("Relationship manager"),
        Role.ACTIVATION: _("Activation"),
        Role.MERCHANT: _("Merchant"),
        Role.SUPERVISOR: _("Supervisor"),
    }[Role(role)]


def station_label(station: Station | str) -> str:
    return {
        Station.OVERVIEW: _("Event overview"),
        Station.RECEPTION: _("Reception"),
        Station.SERVICE_DESK: _("Service desk"),
        Station.ACTIVATION: _("Activation desk"),
        Station.MERCHANT: _("Merchant booth"),
        Station.DASHBOARD: _("Dashboard"),
        Station.ADMIN: _("Administration"),
    }[Station(station)]


def category_label(category: ServiceCategory | str) -> str:
    return {
        ServiceCategory.HEALTH: _("Health"),
        ServiceCategory.TRAVEL: _("Travel"),
        ServiceCategory.INSURANCE: _("Insurance"),
        ServiceCategory.CAR: _("Car care"),
        ServiceCategory.MOVIE: _("Movies"),
        ServiceCategory.DINING: _("Dining"),
        ServiceCategory.FAMILY: _("Parent and child"),
        ServiceCategory.LEISURE: _("Leisure"),
    }[ServiceCategory(category)]
