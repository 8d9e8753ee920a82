"""Themed sessions (专场, issue #20): a theme of the event or of one slot, its audience, and
inviting it.

A theme is a part of the catalog (``kiosk.theme_scope``: categories, merchants, offers) and an
audience rule that picks candidates from the customer list: every customer in the database
who is not a walk-in (the customer list, 客户名单, and the invitees alike), those already
invited to the event counted apart. The rule's parts all hold together (AND):

- points: what the customer can spend on the event day (``kiosk.points``: lots that expire
  before it count for nothing, less what the event's journal reserved) within the range;
- affordable: those points buy at least one of the theme's services at the customer's price
  (their tier's, ``kiosk.tiers``; else the offer's own);
- tiers: the event tier the customer's AUM puts them in (``kiosk.tiers.tier_for``);
- dormant, employers (代发薪单位; compared without width or case), products held (any one).

Everything is computed in SQL: the audience of a million-customer list is a few grouped
queries. The coordinator sees the counts per branch and RM (``audience``), then confirms
(``invite``): the candidates not yet invited get an invitation in one transaction.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.orm import Session

from kiosk import audit, bulk, changes
from kiosk.changeset import Changes
from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.imports.kinds import PRODUCT_NAMES, product_list
from kiosk.invitations import new_code
from kiosk.locks import transaction_lock
from kiosk.models import (
    Branch,
    Customer,
    Event,
    EventTheme,
    Invitation,
    InvitationStatus,
    JournalEntry,
    JournalKind,
    JournalLot,
    Merchant,
    Offer,
    PointsLot,
    SearchKey,
    ServiceCategory,
    Staff,
    TimeSlot,
)
from kiosk.permissions import Action, require
from kiosk.search_keys import CODE
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event
from kiosk.theme_scope import Scope, event_theme, slot_theme
from kiosk.tiers import Tier, event_tiers, offer_terms
from kiosk.uow import UnitOfWork

_CODE = re.compile(r"[A-Z0-9_\-]{1,16}")


class EmptyAudience(KioskError):
    """The audience rule selects nobody; nothing was created."""


@dataclass(frozen=True)
class ThemeSpec:
    """A theme as the coordinator defines it (codes as the catalog and the tiers write them)."""

    code: str
    name: str
    slot: str | None = None  # slot code; None: the whole event
    categories: tuple[str, ...] = ()
    merchants: tuple[str, ...] = ()
    offers: tuple[str, ...] = ()
    points_min: int | None = None
    points_max: int | None = None
    affordable: bool = False
    tiers: tuple[str, ...] = ()
    dormant: bool | None = None  # None: either
    employers: tuple[str, ...] = ()
    products: tuple[str, ...] = ()


@dataclass(frozen=True)
class ThemeView:
    spec: ThemeSpec
    slot_label: str  # "" for the whole event
    offer_codes: tuple[str, ...]  # the services it offers, by code
    # Invitees it binds now: every invitation of its slot, or for the event's theme those of
    # slots without a theme of their own; they can take only its services.
    bound: int = 0


@dataclass(frozen=True)
class Count:
    """Candidates of one branch or RM."""

    code: str  # branch code or staff number ("" for customers without an RM)
    name: str
    branch: str  # the RM's branch code ("" for a branch row)
    candidates: int
    invited: int  # already invited to the event

    @property
    def new(self) -> int:
        return self.candidates - self.invited


@dataclass(frozen=True)
class Audience:
    theme: str
    candidates: int
    invited: int
    branches: list[Count] = field(default_factory=list)
    rms: list[Count] = field(default_factory=list)

    @property
    def new(self) -> int:
        """Who ``invite`` would invite."""
        return self.candidates - self.invited

    def nobody(self) -> str:
        """The sentence for an audience that selects nobody ("" when it selects someone)."""
        if self.candidates:
            return ""
        return _(
            "The audience rule of theme {theme} selects nobody; loosen it (points, tiers,"
            " employers, products) or import the customer list first."
        ).format(theme=self.theme)


@dataclass(frozen=True)
class Invited:
    theme: str
    slot: str
    created: int
    already: int  # candidates already invited, left as they were
    changes: Changes = field(default_factory=lambda: Changes(setup=True), compare=False)


@dataclass(frozen=True)
class ThemeChoices:
    """What a theme may name, for the admin tab's lists."""

    slots: list[tuple[str, str]]  # (code, label)
    categories: list[str]  # the catalog's categories
    merchants: list[tuple[str, str]]  # (code, name)
    offers: list[tuple[str, str, str]]  # (code, name, merchant code)
    tiers: list[tuple[str, str]]  # (code, name)
    employers: list[str]  # as the customer list spells them, most customers first
    products: list[str]  # the usual products, then those the customer list holds


# --- defining a theme ---------------------------------------------------------------------


def choices(uow: UnitOfWork) -> ThemeChoices:
    """The slots, catalog, tiers, employers and products a theme can be made of (a read)."""
    with uow:
        s = uow.session
        event = current_event(s)
        offers = s.execute(
            select(Offer.code, Offer.name, Merchant.code, Offer.category)
            .join(Merchant, Merchant.id == Offer.merchant_id)
            .where(Offer.event_id == event.id)
            .order_by(Merchant.code, Offer.code)
        ).all()
        held: dict[str, None] = dict.fromkeys(PRODUCT_NAMES)
        for products in s.scalars(
            select(Customer.products).where(Customer.products != "").distinct()
        ):
            held.update(dict.fromkeys(p for p in products.split("|") if p))
        employers = s.execute(
            select(Customer.employer, func.count())
            .where(Customer.employer.is_not(None))
            .group_by(Customer.employer)
            .order_by(func.count().desc(), Customer.employer)
            .limit(500)
        ).all()
        return ThemeChoices(
            slots=[(slot.code, slot.label) for slot in event.slots],
            categories=sorted({category for *_rest, category in offers}),
            merchants=list(
                s.execute(
                    select(Merchant.code, Merchant.name)
                    .where(Merchant.event_id == event.id)
                    .order_by(Merchant.code)
                ).all()
            ),
            offers=[(code, name, merchant) for code, name, merchant, _c in offers],
            tiers=[(t.code, t.name) for t in event_tiers(s, event.id)],
            employers=[name for name, _n in employers],
            products=list(held),
        )


def _fold(text: str) -> str:
    """A name compared without width, case or spaces (employers)."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def _names(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(" ".join(v.split()) for v in values if v.strip()))


def _spec_of(session: Session, theme: EventTheme) -> ThemeSpec:
    slot = session.get(TimeSlot, theme.slot_id) if theme.slot_id else None
    return ThemeSpec(
        code=theme.code,
        name=theme.name,
        slot=slot.code if slot else None,
        categories=tuple(theme.categories.split()),
        merchants=tuple(theme.merchants.split()),
        offers=tuple(theme.offers.split()),
        points_min=theme.points_min,
        points_max=theme.points_max,
        affordable=theme.affordable,
        tiers=tuple(theme.tiers.split()),
        dormant=theme.dormant,
        employers=tuple(e for e in theme.employers.split("|") if e),
        products=tuple(p for p in theme.products.split("|") if p),
    )


def _offers_in(session: Session, event_id: int, scope: Scope) -> list[Offer]:
    return [
        offer
        for offer, merchant_code in session.execute(
            select(Offer, Merchant.code)
            .join(Merchant, Merchant.id == Offer.merchant_id)
            .where(Offer.event_id == event_id)
            .order_by(Offer.code)
        )
        if scope.allows(offer.category, merchant_code, offer.code)
    ]


def _view(session: Session, theme: EventTheme) -> ThemeView:
    slot = session.get(TimeSlot, theme.slot_id) if theme.slot_id else None
    offers = _offers_in(session, theme.event_id, Scope.of(theme))
    return ThemeView(
        _spec_of(session, theme),
        slot.label if slot else "",
        tuple(o.code for o in offers),
        _bound(session, theme),
    )


def _bound(session: Session, theme: EventTheme) -> int:
    """Invitations whose customers this theme limits (``theme_scope.customer_scope``)."""
    query = select(func.count(Invitation.id)).where(Invitation.event_id == theme.event_id)
    if theme.slot_id is not None:
        query = query.where(Invitation.slot_id == theme.slot_id)
    else:
        themed_slots = select(EventTheme.slot_id).where(
            EventTheme.event_id == theme.event_id, EventTheme.slot_id.is_not(None)
        )
        query = query.where(Invitation.slot_id.not_in(themed_slots))
    return int(session.scalar(query) or 0)


def themes(uow: UnitOfWork) -> list[ThemeView]:
    """The event's themes, the event's own first, then by slot."""
    with uow:
        s = uow.session
        event = current_event(s)
        found = s.scalars(
            select(EventTheme)
            .outerjoin(TimeSlot, TimeSlot.id == EventTheme.slot_id)
            .where(EventTheme.event_id == event.id)
            .order_by(EventTheme.slot_id.is_not(None), TimeSlot.starts_at, EventTheme.code)
        )
        return [_view(s, theme) for theme in found]


def _find(session: Session, event: Event, code: str) -> EventTheme:
    theme = session.scalar(
        select(EventTheme).where(
            EventTheme.event_id == event.id, EventTheme.code == code.strip().upper()
        )
    )
    if theme is None:
        raise KioskError(_("The event has no theme “{code}”.").format(code=code.strip().upper()))
    return theme


def theme(uow: UnitOfWork, code: str) -> ThemeView:
    with uow:
        s = uow.session
        return _view(s, _find(s, current_event(s), code))


def _checked(session: Session, event: Event, spec: ThemeSpec) -> tuple[ThemeSpec, int | None]:
    """The spec as stored (codes upper case, lists once each), and the slot's id; every
    mistake is one sentence."""
    code = spec.code.strip().upper()
    if not _CODE.fullmatch(code):
        raise KioskError(
            _("“{value}” is not a code: letters, digits, - and _, at most 16.").format(value=code)
        )
    name = " ".join(spec.name.split())
    if not name or len(name) > 64:
        raise KioskError(_("A theme needs a name of at most 64 characters."))
    slot_id = None
    slot_code = None
    if spec.slot:
        slot_code = spec.slot.strip().upper()
        slot_id = session.scalar(
            select(TimeSlot.id).where(TimeSlot.event_id == event.id, TimeSlot.code == slot_code)
        )
        if slot_id is None:
            raise KioskError(_("There is no slot “{value}” in this event.").format(value=spec.slot))
    categories = list(dict.fromkeys(c.strip().lower() for c in spec.categories if c.strip()))
    known = {c.value for c in ServiceCategory}
    for category in categories:
        if category not in known:
            raise KioskError(
                _("“{value}” is not a category: use one of {allowed}.").format(
                    value=category, allowed=" / ".join(sorted(known))
                )
            )
    merchants = list(dict.fromkeys(m.strip().upper() for m in spec.merchants if m.strip()))
    have = set(session.scalars(select(Merchant.code).where(Merchant.event_id == event.id)))
    for merchant in merchants:
        if merchant not in have:
            raise KioskError(_("There is no merchant “{value}”.").format(value=merchant))
    offers = list(dict.fromkeys(o.strip().upper() for o in spec.offers if o.strip()))
    have = set(session.scalars(select(Offer.code).where(Offer.event_id == event.id)))
    for offer in offers:
        if offer not in have:
            raise KioskError(_("No offer has the code {code}.").format(code=offer))
    for points in (spec.points_min, spec.points_max):
        if points is not None and points < 0:
            raise KioskError(_("{what} cannot be negative.").format(what=_("Points")))
    if (
        spec.points_min is not None
        and spec.points_max is not None
        and spec.points_min > spec.points_max
    ):
        raise KioskError(
            _("The points range is empty: from {low:,} to {high:,}.").format(
                low=spec.points_min, high=spec.points_max
            )
        )
    bands = {t.code.upper(): t.code for t in event_tiers(session, event.id)}
    bands.update({t.name: t.code for t in event_tiers(session, event.id)})
    tiers = []
    for tier in spec.tiers:
        found = bands.get(tier.strip()) or bands.get(tier.strip().upper())
        if found is None:
            raise KioskError(_("The event has no tier “{value}”.").format(value=tier))
        tiers.append(found)
    employers = _names(spec.employers)
    if any("|" in e or len(e) > 100 for e in employers):
        raise KioskError(_("An employer's name has at most 100 characters and no “|”."))
    products = list(product_list("|".join(spec.products)))
    stored = ThemeSpec(
        code=code,
        name=name,
        slot=slot_code,
        categories=tuple(categories),
        merchants=tuple(merchants),
        offers=tuple(offers),
        points_min=spec.points_min,
        points_max=spec.points_max,
        affordable=spec.affordable,
        tiers=tuple(dict.fromkeys(tiers)),
        dormant=spec.dormant,
        employers=tuple(employers),
        products=tuple(products),
    )
    scope = Scope(code, name, frozenset(categories), frozenset(merchants), frozenset(offers))
    if not _offers_in(session, event.id, scope):
        raise KioskError(
            _("Theme {theme} offers no service: the catalog has none of what it lists.").format(
                theme=code
            )
        )
    return stored, slot_id


def set_theme(
    uow: UnitOfWork,
    spec: ThemeSpec,
    staff: StaffSession,
    *,
    station: str = "",
    clock: Clock | None = None,
) -> ThemeView:
    """Define the theme ``spec.code``, or replace it; one theme per slot and one for the
    whole event (a supervisor's; audited)."""
    require(staff, Action.SET_THEME)
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        event = current_event(s)
        stored, slot_id = _checked(s, event, spec)
        transaction_lock(s, f"event_theme:{event.id}")  # two coordinators, one slot
        other = (
            slot_theme(s, event.id, slot_id) if slot_id is not None else event_theme(s, event.id)
        )
        if other is not None and other.code != stored.code:
            raise KioskError(
                _(
                    "Theme {other} is already the theme of {scope}; change or remove it first."
                ).format(
                    other=other.code,
                    scope=_("slot {slot}").format(slot=stored.slot)
                    if stored.slot
                    else _("the event"),
                )
            )
        row = s.scalar(
            select(EventTheme).where(
                EventTheme.event_id == event.id, EventTheme.code == stored.code
            )
        )
        replaced = row is not None
        if row is None:
            row = EventTheme(event_id=event.id, code=stored.code, created_at=now)
            s.add(row)
        row.slot_id = slot_id
        row.name = stored.name
        row.categories = " ".join(stored.categories)
        row.merchants = " ".join(stored.merchants)
        row.offers = " ".join(stored.offers)
        row.points_min = stored.points_min
        row.points_max = stored.points_max
        row.affordable = stored.affordable
        row.tiers = " ".join(stored.tiers)
        row.dormant = stored.dormant
        row.employers = "|".join(stored.employers)
        row.products = "|".join(stored.products)
        s.flush()
        view = _view(s, row)
        audit.append(
            s,
            at=now,
            action="theme_replaced" if replaced else "theme_set",
            staff_id=staff.staff_id,
            station=station,
            entity="event_theme",
            entity_id=row.id,
            details={
                "code": stored.code,
                "slot": stored.slot or "",
                "offers": len(view.offer_codes),
                "rule": _rule_details(stored),
            },
        )
        uow.commit()
        return view


def _rule_details(spec: ThemeSpec) -> dict[str, object]:
    """The rule in the audit: no personal data (employers are companies)."""
    return {
        "points_min": spec.points_min,
        "points_max": spec.points_max,
        "affordable": spec.affordable,
        "tiers": list(spec.tiers),
        "dormant": spec.dormant,
        "employers": len(spec.employers),
        "products": list(spec.products),
    }


def remove_theme(
    uow: UnitOfWork,
    code: str,
    staff: StaffSession,
    *,
    station: str = "",
    clock: Clock | None = None,
) -> None:
    """Remove a theme: its slot (or the event) offers the whole catalog again. Invitations
    already made stay."""
    require(staff, Action.SET_THEME)
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        event = current_event(s)
        row = _find(s, event, code)
        audit.append(
            s,
            at=now,
            action="theme_removed",
            staff_id=staff.staff_id,
            station=station,
            entity="event_theme",
            entity_id=row.id,
            details={"code": row.code},
        )
        s.delete(row)
        uow.commit()


# --- the audience -------------------------------------------------------------------------


def available_points_sql(on: date) -> ColumnElement[int]:
    """A customer's points they can spend on ``on``, as ``kiosk.points.available_points``
    derives them: the unexpired lots less the journal's reserves plus its releases; a
    customer without lots, their balance less the same."""
    unexpired = or_(PointsLot.expires_on.is_(None), PointsLot.expires_on >= on)
    signed = case(
        (JournalEntry.kind == JournalKind.RELEASE, JournalLot.points), else_=-JournalLot.points
    )
    lot_points = (
        select(func.coalesce(func.sum(PointsLot.points), 0))
        .where(PointsLot.customer_id == Customer.id, unexpired)
        .scalar_subquery()
    )
    lot_moves = (
        select(func.coalesce(func.sum(signed), 0))
        .select_from(JournalLot)
        .join(JournalEntry, JournalEntry.id == JournalLot.journal_entry_id)
        .join(PointsLot, PointsLot.id == JournalLot.lot_id)
        .where(
            JournalEntry.customer_id == Customer.id,
            JournalEntry.settled_at.is_(None),
            unexpired,
        )
        .scalar_subquery()
    )
    implicit_moves = (
        select(
            func.coalesce(
                func.sum(
                    case(
                        (JournalEntry.kind == JournalKind.RELEASE, JournalEntry.points),
                        else_=-JournalEntry.points,
                    )
                ),
                0,
            )
        )
        .where(JournalEntry.customer_id == Customer.id, JournalEntry.settled_at.is_(None))
        .scalar_subquery()
    )
    has_lots = exists().where(PointsLot.customer_id == Customer.id)
    return case((has_lots, lot_points + lot_moves), else_=Customer.points_balance + implicit_moves)


def tier_sql(tiers: list[Tier]) -> ColumnElement[str | None]:
    """The event tier code of a customer, as ``kiosk.tiers.tier_for`` places them."""
    if not tiers:
        return null()
    by_aum = case(
        *[
            (Customer.aum >= t.aum_floor, literal(t.code))
            for t in sorted(tiers, key=lambda t: -t.aum_floor)
        ],
        else_=null(),
    )
    by_label = case(
        *[(func.lower(Customer.tier) == t.code.lower(), literal(t.code)) for t in tiers],
        else_=null(),
    )
    return case((Customer.aum.is_(None), by_label), else_=by_aum)


def _cheapest(
    session: Session, offers: list[Offer], tiers: list[Tier]
) -> tuple[int | None, dict[str, int]]:
    """The theme's cheapest price for a customer without a tier, and for each tier."""

    def lowest(tier: Tier | None) -> int | None:
        terms = offer_terms(session, offers, tier)
        return min((t.price for t in terms.values()), default=None)

    return lowest(None), {t.code: price for t in tiers if (price := lowest(t)) is not None}


def _rule(session: Session, event: Event, theme: EventTheme) -> list[ColumnElement[bool]]:
    """The audience rule's conditions on ``Customer``."""
    conditions: list[ColumnElement[bool]] = [Customer.walk_in.is_(False)]
    tiers = event_tiers(session, event.id)
    tier = tier_sql(tiers)
    points = available_points_sql(event.event_date)
    if theme.points_min is not None:
        conditions.append(points >= theme.points_min)
    if theme.points_max is not None:
        conditions.append(points <= theme.points_max)
    wanted = theme.tiers.split()
    if wanted:
        conditions.append(tier.in_(wanted) if tiers else false())
    if theme.dormant is not None:
        conditions.append(Customer.dormant.is_(theme.dormant))
    employers = {_fold(e) for e in theme.employers.split("|") if e}
    if employers:
        spelled = [
            name
            for name in session.scalars(
                select(Customer.employer).where(Customer.employer.is_not(None)).distinct()
            )
            if _fold(name) in employers
        ]
        conditions.append(Customer.employer.in_(spelled) if spelled else false())
    products = [p for p in theme.products.split("|") if p]
    if products:
        held = literal("|").concat(Customer.products).concat("|")
        conditions.append(or_(*[held.like("%|" + _like(p) + "|%", escape="\\") for p in products]))
    if theme.affordable:
        offers = _offers_in(session, event.id, Scope.of(theme))
        own, by_tier = _cheapest(session, offers, tiers)
        if own is None:
            conditions.append(false())
        else:
            price = (
                case(*[(tier == code, p) for code, p in by_tier.items()], else_=own)
                if by_tier
                else literal(own)
            )
            conditions.append(points >= price)
    return conditions


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def selection(session: Session, event: Event, theme: EventTheme) -> Select:  # type: ignore[type-arg]
    """The candidates: (customer id, branch id, RM id, invitation id or None)."""
    return (
        select(
            Customer.id, Customer.branch_id, Customer.rm_id, Invitation.id.label("invitation_id")
        )
        .outerjoin(
            Invitation,
            and_(Invitation.customer_id == Customer.id, Invitation.event_id == event.id),
        )
        .where(*_rule(session, event, theme))
    )


def audience(uow: UnitOfWork, code: str) -> Audience:
    """Who the theme's rule selects, counted per branch and per RM (a read)."""
    with uow:
        s = uow.session
        event = current_event(s)
        theme = _find(s, event, code)
        chosen = selection(s, event, theme).subquery()
        invited = func.coalesce(
            func.sum(case((chosen.c.invitation_id.is_not(None), 1), else_=0)), 0
        )
        branches = [
            Count(b_code, name, "", int(n), int(inv))
            for b_code, name, n, inv in s.execute(
                select(Branch.code, Branch.name, func.count(), invited)
                .select_from(chosen)
                .join(Branch, Branch.id == chosen.c.branch_id)
                .group_by(Branch.code, Branch.name)
                .order_by(Branch.code)
            )
        ]
        rms = [
            Count(staff_no or "", name or _("No RM"), branch or "", int(n), int(inv))
            for staff_no, name, branch, n, inv in s.execute(
                select(Staff.staff_no, Staff.name, Branch.code, func.count(), invited)
                .select_from(chosen)
                .outerjoin(Staff, Staff.id == chosen.c.rm_id)
                .outerjoin(Branch, Branch.id == Staff.branch_id)
                .group_by(Staff.staff_no, Staff.name, Branch.code)
                .order_by(Branch.code, Staff.staff_no)
            )
        ]
        return Audience(
            theme.code,
            sum(c.candidates for c in branches),
            sum(c.invited for c in branches),
            branches,
            rms,
        )


def invite(
    uow: UnitOfWork,
    code: str,
    staff: StaffSession,
    *,
    slot: str | None = None,
    expect: int | None = None,
    station: str = "",
    clock: Clock | None = None,
) -> Invited:
    """Invite the theme's candidates not invited yet, all in one transaction: the invitation
    code, the theme's slot (or ``slot`` for a theme of the whole event), the customer's own
    RM, the code's search key. Those already invited keep their invitation, so a second run
    invites nobody. ``expect``: how many the coordinator saw would be invited; another
    number now (the customer list changed) refuses, to preview again."""
    require(staff, Action.INVITE_AUDIENCE)
    now = (clock or Clock()).now()
    rng = random.SystemRandom()
    with uow:
        s = uow.session
        event = current_event(s)
        theme = _find(s, event, code)
        slot_id = theme.slot_id
        if slot:
            named = s.scalar(
                select(TimeSlot.id).where(
                    TimeSlot.event_id == event.id, TimeSlot.code == slot.strip().upper()
                )
            )
            if named is None:
                raise KioskError(_("There is no slot “{value}” in this event.").format(value=slot))
            if slot_id is not None and named != slot_id:
                raise KioskError(
                    _(
                        "Theme {theme} is the theme of another slot; its invitations are for"
                        " that slot."
                    ).format(theme=theme.code)
                )
            slot_id = named
        if slot_id is None:
            raise KioskError(
                _(
                    "Theme {theme} is the whole event's: name the slot the invitations are for."
                ).format(theme=theme.code)
            )
        # Two invites at once (two laptops, two themes): the second waits, then sees the
        # first's invitations and leaves those customers alone.
        transaction_lock(s, f"invite_audience:{event.id}")
        rows = s.execute(selection(s, event, theme)).all()
        if not rows:
            raise EmptyAudience(Audience(theme.code, 0, 0).nobody())
        fresh = [
            (customer_id, rm_id)
            for customer_id, _b, rm_id, invitation in rows
            if invitation is None
        ]
        if expect is not None and expect != len(fresh):
            raise KioskError(
                _(
                    "The audience changed since the preview: {now:,} would be invited, not"
                    " {shown:,}; look at the counts again."
                ).format(now=len(fresh), shown=expect)
            )
        used = set(s.scalars(select(Invitation.code)))
        made = [
            {
                "event_id": event.id,
                "customer_id": customer_id,
                "code": new_code(event.code, rng, used),
                "channel": "sms",
                "status": InvitationStatus.INVITED,
                "companions": 0,
                "slot_id": slot_id,
                "rm_id": rm_id,
            }
            for customer_id, rm_id in fresh
        ]
        changes.wrote(s)  # COPY passes no ORM event
        bulk.insert_rows(s.connection(), Invitation.__table__, made)
        bulk.insert_rows(
            s.connection(),
            SearchKey.__table__,
            [{"key": (CODE + row["code"])[:80], "customer_id": row["customer_id"]} for row in made],
        )
        slot_code = s.scalar(select(TimeSlot.code).where(TimeSlot.id == slot_id)) or ""
        audit.append(
            s,
            at=now,
            action="theme_invited",
            staff_id=staff.staff_id,
            station=station,
            entity="event_theme",
            entity_id=theme.id,
            details={
                "code": theme.code,
                "slot": slot_code,
                "candidates": len(rows),
                "created": len(made),
                "already_invited": len(rows) - len(made),
            },
        )
        uow.commit()
        return Invited(theme.code, slot_code, len(made), len(rows) - len(made))
