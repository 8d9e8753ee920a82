"""Which services a themed session (专场, issue #20) offers: the one rule the booklet, the
e-catalog, the customer's short list and catalog, the activation desk and issuing share.

A theme lists categories, merchants and offers (``EventTheme``); an offer is in the theme when
its category, its merchant or its own code is listed (so "洗车 and 观影" is two categories, and
"the insurance talk's two services" two offer codes). A theme that lists nothing offers the
whole catalog. A customer sees the theme of their invitation's slot, else the event's own
theme (``slot_id`` None), else the whole catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.models import EventTheme, Invitation


def codes(text: str | None) -> frozenset[str]:
    """A space-separated list of codes as the theme stores it."""
    return frozenset((text or "").split())


@dataclass(frozen=True)
class Scope:
    """The part of the catalog a theme offers; empty lists: all of it."""

    theme_code: str = ""
    theme_name: str = ""
    categories: frozenset[str] = frozenset()
    merchants: frozenset[str] = frozenset()
    offers: frozenset[str] = frozenset()

    @property
    def whole(self) -> bool:
        return not (self.categories or self.merchants or self.offers)

    def allows(self, category: str, merchant_code: str, offer_code: str) -> bool:
        """Whether the theme offers this service."""
        return (
            self.whole
            or category in self.categories
            or merchant_code in self.merchants
            or offer_code in self.offers
        )

    @classmethod
    def of(cls, theme: EventTheme | None) -> Scope:
        if theme is None:
            return WHOLE
        return cls(
            theme.code,
            theme.name,
            codes(theme.categories),
            codes(theme.merchants),
            codes(theme.offers),
        )


WHOLE = Scope()


def event_theme(session: Session, event_id: int) -> EventTheme | None:
    """The theme of the whole event (no slot), if it has one."""
    return session.scalar(
        select(EventTheme)
        .where(EventTheme.event_id == event_id, EventTheme.slot_id.is_(None))
        .order_by(EventTheme.id)
        .limit(1)
    )


def slot_theme(session: Session, event_id: int, slot_id: int) -> EventTheme | None:
    return session.scalar(
        select(EventTheme)
        .where(EventTheme.event_id == event_id, EventTheme.slot_id == slot_id)
        .order_by(EventTheme.id)
        .limit(1)
    )


def customer_theme(session: Session, event_id: int, customer_id: int) -> EventTheme | None:
    """The theme a customer sees: their invitation's slot's, else the event's.

    One query (the invitation's slot read inside it, the slot's theme before the event's),
    not three: every slip issued asks, and each question is a round trip on the venue LAN
    (issue #23)."""
    slot_id = (
        select(Invitation.slot_id)
        .where(Invitation.event_id == event_id, Invitation.customer_id == customer_id)
        .limit(1)
        .scalar_subquery()
    )
    return session.scalar(
        select(EventTheme)
        .where(
            EventTheme.event_id == event_id,
            or_(EventTheme.slot_id.is_(None), EventTheme.slot_id == slot_id),
        )
        .order_by(EventTheme.slot_id.is_(None), EventTheme.id)
        .limit(1)
    )


def customer_theme_id(event_id: int, customer_id: int) -> Any:
    """``customer_theme``'s id as a scalar subquery, for a query reading the customer to bring
    the theme along (``EventTheme`` outer-joined on it; issue #23)."""
    slot_id = (
        select(Invitation.slot_id)
        .where(Invitation.event_id == event_id, Invitation.customer_id == customer_id)
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(EventTheme.id)
        .where(
            EventTheme.event_id == event_id,
            or_(EventTheme.slot_id.is_(None), EventTheme.slot_id == slot_id),
        )
        .order_by(EventTheme.slot_id.is_(None), EventTheme.id)
        .limit(1)
        .scalar_subquery()
    )


def named_scope(session: Session, event_id: int, code: str) -> Scope:
    """The services of the theme coded ``code``; an unknown code is one sentence."""
    theme = session.scalar(
        select(EventTheme).where(
            EventTheme.event_id == event_id, EventTheme.code == code.strip().upper()
        )
    )
    if theme is None:
        raise KioskError(_("The event has no theme “{code}”.").format(code=code.strip().upper()))
    return Scope.of(theme)


def customer_scope(session: Session, event_id: int, customer_id: int | None) -> Scope:
    """What the customer may be offered (``customer_id`` None: nobody at the desk, the event's
    own theme)."""
    if customer_id is None:
        return Scope.of(event_theme(session, event_id))
    return Scope.of(customer_theme(session, event_id, customer_id))
