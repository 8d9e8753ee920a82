"""The catalog as one customer sees it: their own price, what stops them, and a short list.

The bank's review of its last event: customers stood lost before a long catalog and redeemed
in a hurry for the sake of it. So the activation desk and the personal statement open on a
short list ("少即是多"): what the customer chose with the invitation first, then the services
their points, and above all their soon-expiring points, cover, within capacity and their
tier's quota, each with what would be left. Everything else is one key away, greyed with the
reason when it cannot be taken (not enough points, fully booked, the tier's places taken).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.models import Customer, Invitation, Merchant, Offer, Preselection
from kiosk.points import LotBalance, lot_balances
from kiosk.services.events import current_event
from kiosk.services.gate import event_today
from kiosk.theme_scope import customer_scope
from kiosk.tiers import Tier, customer_tier, offer_terms
from kiosk.uow import UnitOfWork

SHORT_LIST = 5  # at most; three at least when the catalog has them
SOON = 3  # months: "expiring soon" on the statement and for the short list's first pick
YEAR = 12


@dataclass(frozen=True)
class OfferFor:
    """An offer for this customer."""

    code: str
    name: str
    category: str
    merchant_code: str
    merchant_name: str
    booth: str
    redeem_by: date
    description: str
    price: int  # the customer's price: their tier's, else the offer's own
    list_price: int  # the offer's own price
    remaining: int  # places left for the event
    quota_left: int | None  # places left for the customer's tier (None: no quota)
    blocked: str  # why it cannot be taken now ("" when it can)
    preselected: int  # quantity chosen with the invitation (0: none)
    left_after: int  # the customer's points after taking it (the preselected quantity, or one)

    @property
    def available(self) -> bool:
        return not self.blocked


@dataclass(frozen=True)
class CustomerOffers:
    customer_id: int
    tier: Tier | None
    balance: int  # spendable today
    lots: list[LotBalance]  # spending order, expired ones flagged
    today: date
    expiring_3m: int  # points that expire within three months of today
    expiring_12m: int  # within twelve months
    offers: list[OfferFor]  # the whole catalog, by merchant, category and code
    short: list[OfferFor]  # the short list, best first
    # The themed session (专场) whose services these are, named so the desk can say why the
    # catalog is smaller ("" when the customer sees the whole catalog).
    theme: str = ""

    def expiring_lots(self, months: int) -> list[LotBalance]:
        """Unexpired lots with points left that expire within ``months`` of today."""
        until = months_after(self.today, months)
        return [
            lot
            for lot in self.lots
            if lot.spendable > 0 and lot.expires_on is not None and lot.expires_on <= until
        ]


def months_after(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has no such day)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def expiring_within(lots: list[LotBalance], today: date, months: int) -> int:
    until = months_after(today, months)
    return sum(
        lot.spendable
        for lot in lots
        if lot.expires_on is not None and not lot.expired and lot.expires_on <= until
    )


def offers_for(uow: UnitOfWork, customer_id: int, *, clock: Clock | None = None) -> CustomerOffers:
    """The catalog with this customer's prices and reasons, and their short list (a read):
    the services of the customer's themed session when there is one (``kiosk.theme_scope``)."""
    with uow:
        s = uow.session
        event = current_event(s)
        customer = s.get(Customer, customer_id)
        if customer is None:
            raise KioskError(_("This customer no longer exists."))
        today = event_today(event, clock)
        lots = lot_balances(s, customer, today)
        balance = sum(lot.spendable for lot in lots)
        tier = customer_tier(s, event.id, customer)
        scope = customer_scope(s, event.id, customer.id)  # a themed session's services only
        rows = [
            (offer, merchant)
            for offer, merchant in s.execute(
                select(Offer, Merchant)
                .join(Merchant, Merchant.id == Offer.merchant_id)
                .where(Offer.event_id == event.id)
                .order_by(Merchant.code, Offer.category, Offer.code)
            )
            if scope.allows(offer.category, merchant.code, offer.code)
        ]
        terms = offer_terms(s, [offer for offer, _m in rows], tier)
        chosen = dict(
            s.execute(
                select(Preselection.offer_id, Preselection.quantity)
                .join(Invitation, Invitation.id == Preselection.invitation_id)
                .where(Invitation.customer_id == customer.id, Invitation.event_id == event.id)
            ).all()
        )
        offers = []
        for offer, merchant in rows:
            term = terms[offer.id]
            quantity = chosen.get(offer.id, 0)
            cost = term.price * max(quantity, 1)
            offers.append(
                OfferFor(
                    code=offer.code,
                    name=offer.name,
                    category=offer.category,
                    merchant_code=merchant.code,
                    merchant_name=merchant.name,
                    booth=merchant.booth,
                    redeem_by=offer.redeem_by,
                    description=offer.description,
                    price=term.price,
                    list_price=offer.points_price,
                    remaining=offer.remaining,
                    quota_left=term.quota_left,
                    blocked=blocked_reason(
                        cost, max(quantity, 1), balance, offer.remaining, term.quota_left, tier
                    ),
                    preselected=quantity,
                    left_after=balance - cost,
                )
            )
        soon = expiring_within(lots, today, YEAR)
        return CustomerOffers(
            customer_id=customer.id,
            tier=tier,
            balance=balance,
            lots=lots,
            today=today,
            expiring_3m=expiring_within(lots, today, SOON),
            expiring_12m=soon,
            offers=offers,
            short=short_list(offers, soon),
            theme="" if scope.whole else scope.theme_name,
        )


def blocked_reason(
    cost: int, quantity: int, balance: int, remaining: int, quota: int | None, tier: Tier | None
) -> str:
    if remaining < quantity:
        return _("Fully booked")
    if quota is not None and quota < quantity:
        return _("No places left for {tier} customers").format(tier=tier.name if tier else "")
    if cost > balance:
        return _("{missing:,} points short").format(missing=cost - balance)
    return ""


def short_list(offers: list[OfferFor], expiring: int, size: int = SHORT_LIST) -> list[OfferFor]:
    """Pre-selected services first (even one that cannot be taken now: the customer came for
    it, and the reason is shown), then what the points cover, one per category before a
    second of any: first the services that use all the soon-expiring points at the lowest
    price (the most left after), then the ones that use most of them, then the rest from the
    price nearest the balance down."""
    picked = [o for o in offers if o.preselected]
    picked.sort(key=lambda o: (bool(o.blocked), -o.price))

    def rank(offer: OfferFor) -> tuple[int, int]:
        if expiring and offer.price >= expiring:
            return (0, offer.price)
        if expiring:
            return (1, -offer.price)
        return (2, -offer.price)

    rest = sorted((o for o in offers if o.available and not o.preselected), key=rank)
    categories = {o.category for o in picked}
    first: list[OfferFor] = []
    second: list[OfferFor] = []
    for offer in rest:
        (second if offer.category in categories else first).append(offer)
        categories.add(offer.category)
    return (picked + first + second)[:size]
