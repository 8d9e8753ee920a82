"""The event's tiers: bands of assets under management that set a customer's prices and quotas.

The bank's points strategy is about tiers by assets (5万 / 50万 / 300万 / 600万): the event
defines its bands (``EventTier``: code, name, AUM floor), and a customer belongs to the highest
band whose floor their AUM reaches. A customer without an AUM figure (an older file) belongs
to the band whose code is the ledger's label, if one has it; below every floor they belong to
none and pay the offer's own price. An offer may set a price and a quota per tier
(``OfferTier``); issuing claims the quota in the same transaction as the capacity.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.models import Customer, EventTier, Offer, OfferTier


@dataclass(frozen=True)
class Tier:
    code: str
    name: str
    aum_floor: int  # yuan
    meaning: str = ""


@dataclass(frozen=True)
class Terms:
    """What an offer costs one tier, and how many of its quota are left (None: no quota)."""

    price: int
    quota_left: int | None


def event_tiers(session: Session, event_id: int) -> list[Tier]:
    """The event's bands, lowest floor first."""
    return [
        Tier(t.code, t.name, t.aum_floor, t.meaning)
        for t in session.scalars(
            select(EventTier).where(EventTier.event_id == event_id).order_by(EventTier.aum_floor)
        )
    ]


def tier_for(tiers: Sequence[Tier], aum: int | None, label: str = "") -> Tier | None:
    """The band a customer is in: by AUM, else by the ledger's label, else none."""
    if aum is None:
        return next((t for t in tiers if t.code.lower() == label.lower()), None)
    found = None
    for tier in sorted(tiers, key=lambda t: t.aum_floor):
        if aum >= tier.aum_floor:
            found = tier
    return found


def tier_id_column(event_id: int) -> ColumnElement[int | None]:
    """The id of the ``EventTier`` the customer of the enclosing query is in (``tier_for`` in
    SQL, correlated to ``Customer``), so a query reading the customer brings their band
    along (``EventTier`` outer-joined on it) instead of a second round trip (issue #23).

    By AUM the highest floor reached; without an AUM figure the band whose code is the
    ledger's label, compared without case (codes are unique so: ``check_tiers``)."""
    return (
        select(EventTier.id)
        .where(
            EventTier.event_id == event_id,
            case(
                (Customer.aum.is_(None), func.upper(EventTier.code) == func.upper(Customer.tier)),
                else_=EventTier.aum_floor <= Customer.aum,
            ),
        )
        .order_by(EventTier.aum_floor.desc())
        .limit(1)
        .correlate(Customer)
        .scalar_subquery()
    )


def has_tiers_column(event_id: int) -> ColumnElement[bool]:
    """Whether the event has bands at all (``shown_tier`` names the ledger's label if not)."""
    return select(EventTier.id).where(EventTier.event_id == event_id).exists()


def as_tier(row: EventTier | None) -> Tier | None:
    return None if row is None else Tier(row.code, row.name, row.aum_floor, row.meaning)


def shown(customer: Customer, tier: Tier | None, has_tiers: bool) -> str:
    """``shown_tier`` from what a query already read."""
    if not has_tiers:
        return customer.tier
    return tier.name if tier else _("No tier")


def customer_tier(session: Session, event_id: int, customer: Customer) -> Tier | None:
    return tier_for(event_tiers(session, event_id), customer.aum, customer.tier)


def shown_tier(session: Session, event_id: int, customer: Customer) -> str:
    """What the desks show as the customer's tier: the event's band by name when the event
    has bands (the one that sets their prices), else the ledger's own label."""
    tiers = event_tiers(session, event_id)
    if not tiers:
        return customer.tier
    tier = tier_for(tiers, customer.aum, customer.tier)
    return tier.name if tier else _("No tier")


def check_tiers(tiers: Sequence[Tier]) -> None:
    """Bands as they may be stored: codes unique, floors rising in the order written."""
    codes = [t.code.upper() for t in tiers]
    if len(set(codes)) != len(codes):
        raise KioskError(_("Two tiers have the same code."))
    for lower, higher in pairwise(tiers):
        if higher.aum_floor <= lower.aum_floor:
            raise KioskError(
                _(
                    "Tier {tier}: its AUM floor {floor:,} must be above the floor of {lower}"
                    " ({lower_floor:,}); list tiers from the lowest band up."
                ).format(
                    tier=higher.name,
                    floor=higher.aum_floor,
                    lower=lower.name,
                    lower_floor=lower.aum_floor,
                )
            )


def terms_for(offer: Offer, rows: Iterable[OfferTier], tier: Tier | None) -> Terms:
    """The offer's price and quota left for ``tier``, from the offer's ``OfferTier`` rows."""
    if tier is not None:
        for row in rows:
            if row.tier_code == tier.code:
                return Terms(
                    row.points_price or offer.points_price,
                    None if row.quota is None else row.quota - row.reserved,
                )
    return Terms(offer.points_price, None)


def offer_terms(session: Session, offers: Sequence[Offer], tier: Tier | None) -> dict[int, Terms]:
    """Terms of several offers for one tier, in one query: offer id -> terms."""
    rows: dict[int, list[OfferTier]] = {}
    if tier is not None and offers:
        for row in session.scalars(
            select(OfferTier).where(
                OfferTier.offer_id.in_([o.id for o in offers]), OfferTier.tier_code == tier.code
            )
        ):
            rows.setdefault(row.offer_id, []).append(row)
    return {o.id: terms_for(o, rows.get(o.id, ()), tier) for o in offers}
