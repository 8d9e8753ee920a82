"""What the figures need to know that no import carries: the bank's whole points stock and the
day of the next event (issue #19, "figures as the bank counts them"), and the bank's contact
rule the progress report checks (issue #20: every invitee with N points or more called).

The bank's stock is a figure of the whole bank, not of the customers in the event database:
the ledger may supply it, else the coordinator types it from the bank's own report, so the
redemption ratio can be read against it as well. The next event's day bounds "points expiring
before the next event"; left empty it is a year after this event
(``kiosk.services.figures.next_event_day``). Both are a supervisor's decision and audited,
from Administration or ``kiosk event figures``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from kiosk import audit
from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.models import Event
from kiosk.permissions import Action, require
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event
from kiosk.uow import UnitOfWork

# The largest stock a BIGINT column holds.
_MAX_STOCK = 2**63 - 1


class Keep(enum.Enum):
    """Leave the setting as it is (``set_figure_settings`` changes only what it is given)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class FigureSettings:
    event_date: date
    bank_points_stock: int | None  # None: not known
    next_event_on: date | None  # None: a year after the event
    default_next_event_on: date  # what the figures use when next_event_on is None
    # The bank's contact rule (issue #20): every invitee holding at least this many points is
    # called at least once (None: no such rule); the progress report lists who is missing.
    call_points_floor: int | None = None


def _settings(event: Event) -> FigureSettings:
    from kiosk.services.figures import next_event_day

    default = next_event_day(event.event_date)
    return FigureSettings(
        event.event_date,
        event.bank_points_stock,
        event.next_event_on,
        default,
        event.call_points_floor,
    )


def describe(settings: FigureSettings) -> tuple[str, str]:
    """The two settings as the coordinator reads them (Administration, ``kiosk event
    figures``)."""
    stock = (
        _("{n:,} points").format(n=settings.bank_points_stock)
        if settings.bank_points_stock is not None
        else _("not given")
    )
    next_on = (
        settings.next_event_on.isoformat()
        if settings.next_event_on is not None
        else _("not given (a year after this event: {day})").format(
            day=settings.default_next_event_on.isoformat()
        )
    )
    return (
        _("Bank's whole points stock: {stock}").format(stock=stock),
        _("Next event: {day}").format(day=next_on),
    )


def describe_call_rule(settings: FigureSettings) -> str:
    """The contact rule as the coordinator reads it (``kiosk rm call-floor``, Figures tab)."""
    if settings.call_points_floor is None:
        return _("Call rule: none")
    return _("Call rule: every invitee with {n:,} points or more is called at least once").format(
        n=settings.call_points_floor
    )


def figure_settings(uow: UnitOfWork) -> FigureSettings:
    with uow:
        return _settings(current_event(uow.session))


def check_settings(
    event_date: date, bank_points_stock: int | None, next_event_on: date | None
) -> None:
    """Refuse a stock that is not a positive number of points or a next event that is not
    after this one, in one sentence."""
    if bank_points_stock is not None and not 0 < bank_points_stock <= _MAX_STOCK:
        raise KioskError(
            _("The bank's points stock must be a positive number of points (or left empty).")
        )
    if next_event_on is not None and next_event_on <= event_date:
        raise KioskError(
            _("The next event ({next}) must come after this event ({day}).").format(
                next=next_event_on.isoformat(), day=event_date.isoformat()
            )
        )


def set_figure_settings(
    uow: UnitOfWork,
    staff: StaffSession,
    *,
    bank_points_stock: int | Keep | None = KEEP,
    next_event_on: date | Keep | None = KEEP,
    call_points_floor: int | Keep | None = KEEP,
    clock: Clock | None = None,
    station: str = "",
) -> FigureSettings:
    """Set the bank's stock and/or the next event's day (None clears it); a supervisor's,
    audited with the values before. Nothing is written when nothing changes."""
    require(staff, Action.SET_FIGURE_SETTINGS)
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        event = current_event(s)
        stock = (
            event.bank_points_stock if isinstance(bank_points_stock, Keep) else bank_points_stock
        )
        next_on = event.next_event_on if isinstance(next_event_on, Keep) else next_event_on
        floor = (
            event.call_points_floor if isinstance(call_points_floor, Keep) else call_points_floor
        )
        check_settings(event.event_date, stock, next_on)
        if floor is not None and not 0 <= floor <= _MAX_STOCK:
            raise KioskError(_("The call rule's points must be a whole number of points."))
        before = (event.bank_points_stock, event.next_event_on, event.call_points_floor)
        if before == (stock, next_on, floor):
            return _settings(event)
        event.bank_points_stock = stock
        event.next_event_on = next_on
        event.call_points_floor = floor
        was: dict[str, object] = {
            "bank_points_stock": before[0],
            "next_event_on": before[1].isoformat() if before[1] else None,
        }
        details: dict[str, object] = {
            "bank_points_stock": stock,
            "next_event_on": next_on.isoformat() if next_on else None,
        }
        if floor != before[2]:  # the call rule, named only when it changes
            details["call_points_floor"] = floor
            was["call_points_floor"] = before[2]
        details["was"] = was
        audit.append(
            s,
            at=now,
            action="figure_settings_set",
            staff_id=staff.staff_id,
            station=station,
            entity="event",
            entity_id=event.id,
            details=details,
        )
        settings = _settings(event)
        uow.commit()
        return settings
