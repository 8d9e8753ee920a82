"""Before the event: invitation progress, slot reminders and the catalog booklet's content.

Plain figures and texts only; ``printing/`` lays them out as .xlsx, .txt, PDF and HTML.

What counts: an invitation is *invited* once a report gave it a date or an answer
(``invited_at`` or ``answer`` set; ``channel`` cannot tell, it defaults to SMS at import), the
customer was *reached* when they answered (confirmed or declined; unreachable is not reached),
and progress is the confirmed count against the branch's target.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from kiosk import audit
from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.idcard import gender
from kiosk.masking import mask_name
from kiosk.models import (
    Branch,
    Customer,
    Invitation,
    InvitationAnswer,
    InvitationStatus,
    Offer,
    OfferTier,
    Preselection,
    Staff,
)
from kiosk.permissions import Action, require
from kiosk.pinyin import surname
from kiosk.privacy import Opener
from kiosk.services.activation import CatalogOffer, catalog
from kiosk.services.arrival import window_end, window_text
from kiosk.services.auth import StaffSession
from kiosk.services.coverage import Coverage, coverage
from kiosk.services.events import current_event
from kiosk.services.followup import FollowupCoverage, coverage_of, event_held
from kiosk.theme_scope import Scope, event_theme, named_scope
from kiosk.tiers import Tier, event_tiers
from kiosk.uow import UnitOfWork

# The reminder goes to the customer by SMS, in Chinese whatever the operator's language.
REMINDER_TEXT = (
    "尊敬的{name}：您已确认参加{event}。您的场次：{day} {slot} {starts}-{ends}，"
    "地点：{venue}。{services}请按场次时间到场，凭邀请码 {code} 签到。"
)
REMINDER_SERVICES = "您预选的服务：{services}。"
# With an arrival window planned (``kiosk.services.arrival``): the window instead of the slot,
# so a branch's customers do not all come at the opening.
REMINDER_WINDOW_TEXT = (
    "尊敬的{name}：您已确认参加{event}。您的场次：{day} {slot}，请于 {window} 到场，"
    "地点：{venue}。{services}凭邀请码 {code} 签到。"
)


@dataclass(frozen=True)
class ProgressRow:
    """One branch or one RM: how far the invitations got."""

    code: str
    name: str
    branch: str  # the branch code (the RM's own branch for an RM row)
    invitees: int
    invited: int
    reached: int
    unreachable: int
    confirmed: int
    declined: int
    companions: int  # companions of confirmed customers
    target: int | None

    @property
    def percent(self) -> int | None:
        """Confirmed as a whole percentage of the target; None without a target."""
        if not self.target:
            return None
        return round(100 * self.confirmed / self.target)


@dataclass(frozen=True)
class Progress:
    branches: list[ProgressRow]
    rms: list[ProgressRow]
    total: ProgressRow
    # Contact coverage and the call rule's missing invitees (``kiosk.services.coverage``).
    coverage: Coverage | None = None
    # After the event (issue #21): the RMs' follow-up per RM (``kiosk.services.followup``);
    # None until someone has checked in.
    followup: FollowupCoverage | None = None


@dataclass(frozen=True)
class Reminder:
    """One confirmed invitee's reminder, for their RM to send."""

    rm_no: str
    rm_name: str
    branch: str
    customer_no: str
    masked_name: str
    phone: str  # as exported: full only when a supervisor opened the sealed phones
    masked_phone: str  # for screens
    slot_code: str
    slot: str  # "上午场 09:00-11:30"
    services: tuple[str, ...]
    text: str
    code: str = ""  # the invitation code, so the SMS platform's send report can echo it
    window: str = ""  # "9:30-10:00" when an arrival window is planned, else ""
    # The RM the confirmation is credited to (``Invitation.invited_by``) when not their own.
    credited_no: str = ""


@dataclass(frozen=True)
class SlotCount:
    """Confirmed customers (and people with companions) per branch and slot."""

    branch: str
    branch_name: str
    per_slot: dict[str, int]  # slot code -> confirmed customers
    people: dict[str, int]  # slot code -> customers + companions


@dataclass(frozen=True)
class SlotLoad:
    slots: list[tuple[str, str, int]]  # code, label, capacity
    branches: list[SlotCount]

    def total(self, slot: str) -> int:
        return sum(b.per_slot.get(slot, 0) for b in self.branches)

    def total_people(self, slot: str) -> int:
        return sum(b.people.get(slot, 0) for b in self.branches)


def _counts(invitations: list[Invitation]) -> dict[str, int]:
    confirmed = [i for i in invitations if i.status == InvitationStatus.CONFIRMED]
    return {
        "invitees": len(invitations),
        "invited": sum(1 for i in invitations if i.invited_at is not None or i.answer),
        "reached": sum(1 for i in invitations if i.status != InvitationStatus.INVITED),
        "unreachable": sum(
            1
            for i in invitations
            if i.status == InvitationStatus.INVITED and i.answer == InvitationAnswer.UNREACHABLE
        ),
        "confirmed": len(confirmed),
        "declined": sum(1 for i in invitations if i.status == InvitationStatus.DECLINED),
        "companions": sum(i.companions for i in confirmed),
    }


def progress(uow: UnitOfWork) -> Progress:
    """Progress per branch (against its target), per RM and in total."""
    with uow:
        s = uow.session
        event = current_event(s)
        rows = s.execute(
            select(Invitation, Customer.branch_id)
            .join(Customer, Customer.id == Invitation.customer_id)
            .where(Invitation.event_id == event.id)
        ).all()
        branches = {b.id: b for b in s.scalars(select(Branch).order_by(Branch.code))}
        staff = {m.id: m for m in s.scalars(select(Staff))}
        per_branch: dict[int, list[Invitation]] = defaultdict(list)
        per_rm: dict[int | None, list[Invitation]] = defaultdict(list)
        for invitation, branch_id in rows:
            per_branch[branch_id].append(invitation)
            per_rm[invitation.rm_id].append(invitation)
        branch_rows = [
            ProgressRow(
                b.code, b.name, b.code, **_counts(per_branch.get(b.id, [])), target=b.target
            )
            for b in branches.values()
            if b.id in per_branch or b.target
        ]
        rm_rows = []
        for rm_id, invitations in per_rm.items():
            rm = staff.get(rm_id) if rm_id is not None else None
            branch = branches.get(rm.branch_id) if rm and rm.branch_id else None
            rm_rows.append(
                ProgressRow(
                    rm.staff_no if rm else "",
                    rm.name if rm else "",
                    branch.code if branch else "",
                    **_counts(invitations),
                    target=None,
                )
            )
        rm_rows.sort(key=lambda r: (r.branch, r.code == "", r.code))
        targets = [b.target for b in branches.values() if b.target]
        total = ProgressRow(
            "",
            "",
            "",
            **_counts([i for i, _b in rows]),
            target=sum(targets) if targets else None,
        )
        return Progress(
            branch_rows,
            rm_rows,
            total,
            coverage(s, event),
            coverage_of(s, event) if event_held(s, event) else None,
        )


def _salutation(customer: Customer) -> str:
    """王先生 / 欧阳女士 as a bank's SMS greets (a compound surname whole); the surname alone
    keeps the text discreet."""
    sex = customer.gender
    if sex is None and customer.id_number_valid and len(customer.id_masked or "") == 18:
        sex = gender(customer.id_masked or "")  # the mask keeps the gender digit
    title = {"M": "先生", "F": "女士"}.get(sex or "", "客户")
    return f"{surname(customer.name)}{title}"


def _slot_text(invitation: Invitation, zone: ZoneInfo) -> tuple[str, str, str]:
    slot = invitation.slot
    return (
        slot.label,
        slot.starts_at.astimezone(zone).strftime("%H:%M"),
        slot.ends_at.astimezone(zone).strftime("%H:%M"),
    )


def reminders(
    uow: UnitOfWork, opener: Opener | None = None, *, rm_id: int | None = None
) -> list[Reminder]:
    """One reminder per confirmed invitation, sorted by RM, slot and customer number.

    Phones are masked unless ``opener`` is given (a supervisor typed the event passphrase to
    export the list the RMs call from). With ``rm_id``, only that RM's customers (their own,
    ``rm_id``, and those credited to them, ``invited_by``), sorted by slot and number."""
    with uow:
        s = uow.session
        event = current_event(s)
        zone = ZoneInfo(event.timezone)
        day = f"{event.event_date.month}月{event.event_date.day}日"
        invitations = s.scalars(
            select(Invitation)
            .where(
                Invitation.event_id == event.id,
                Invitation.status == InvitationStatus.CONFIRMED,
                *(
                    [or_(Invitation.rm_id == rm_id, Invitation.invited_by == rm_id)]
                    if rm_id is not None
                    else []
                ),
            )
            .options(
                selectinload(Invitation.customer).selectinload(Customer.branch),
                selectinload(Invitation.rm),
                selectinload(Invitation.slot),
                selectinload(Invitation.preselections).selectinload(Preselection.offer),
            )
        ).all()
        by = {i.invited_by for i in invitations if i.invited_by is not None}
        credited = {
            staff_id: number
            for staff_id, number in s.execute(
                select(Staff.id, Staff.staff_no).where(Staff.id.in_(list(by)))
            )
        }
        result = []
        for invitation in invitations:
            customer = invitation.customer
            label, starts, ends = _slot_text(invitation, zone)
            services = tuple(
                p.offer.name if p.quantity == 1 else f"{p.offer.name}×{p.quantity}"
                for p in sorted(invitation.preselections, key=lambda p: p.offer.code)
            )
            window = ""
            if invitation.window_starts_at is not None:
                window = window_text(
                    invitation.window_starts_at,
                    window_end(
                        invitation.slot.ends_at, invitation.window_starts_at, event.window_minutes
                    ),
                    zone,
                )
            text = (REMINDER_WINDOW_TEXT if window else REMINDER_TEXT).format(
                name=_salutation(customer),
                event=event.name,
                day=day,
                slot=label,
                starts=starts,
                ends=ends,
                window=window,
                venue=event.venue or event.name,
                services=REMINDER_SERVICES.format(services="、".join(services)) if services else "",
                code=invitation.code,
            )
            rm = invitation.rm
            result.append(
                Reminder(
                    rm_no=rm.staff_no if rm else "",
                    rm_name=rm.name if rm else "",
                    branch=customer.branch.code,
                    customer_no=customer.customer_no,
                    masked_name=mask_name(customer.name),
                    phone=(opener.read(customer, "phone") if opener else customer.phone_masked)
                    or "",
                    masked_phone=customer.phone_masked or "",
                    slot_code=invitation.slot.code,
                    slot=f"{label} {starts}-{ends}",
                    services=services,
                    text=text,
                    code=invitation.code,
                    window=window,
                    credited_no=credited.get(invitation.invited_by, "")
                    if invitation.invited_by not in (None, invitation.rm_id)
                    else "",
                )
            )
        starts_at = {slot.code: slot.starts_at for slot in event.slots}
        if rm_id is not None:
            result.sort(key=lambda r: (starts_at[r.slot_code], r.customer_no))
        else:
            result.sort(
                key=lambda r: (r.rm_no == "", r.rm_no, starts_at[r.slot_code], r.customer_no)
            )
        return result


def slot_load(uow: UnitOfWork) -> SlotLoad:
    """Confirmed customers per branch and slot, so the coordinator can rebalance in time."""
    with uow:
        s = uow.session
        event = current_event(s)
        slots = [(t.code, t.label, t.capacity) for t in event.slots]
        codes = {t.id: t.code for t in event.slots}
        per_slot: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        people: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for slot_id, branch_id, companions in s.execute(
            select(Invitation.slot_id, Customer.branch_id, Invitation.companions)
            .join(Customer, Customer.id == Invitation.customer_id)
            .where(
                Invitation.event_id == event.id,
                Invitation.status == InvitationStatus.CONFIRMED,
            )
        ):
            per_slot[branch_id][codes[slot_id]] += 1
            people[branch_id][codes[slot_id]] += 1 + companions
        branches = [
            SlotCount(b.code, b.name, dict(per_slot[b.id]), dict(people[b.id]))
            for b in s.scalars(select(Branch).order_by(Branch.code))
            if b.id in per_slot
        ]
        return SlotLoad(slots, branches)


@dataclass(frozen=True)
class TierTerms:
    """What one tier pays for an offer, and how many of it the tier may take."""

    tier: str  # the tier's name (金卡)
    points: int | None  # its price; None: the offer's own
    quota: int | None  # its places; None: only the offer's capacity


@dataclass(frozen=True)
class Booklet:
    """What the catalog booklet and the e-catalog show: the offers at their own price, and
    the event's tiers with what each tier pays (by offer code, lowest tier first), so a
    customer reads their own price before they come (issue #19)."""

    event_name: str
    event_date: date
    venue: str
    catalog_url: str
    offers: list[CatalogOffer]
    tiers: list[Tier] = field(default_factory=list)
    tier_terms: dict[str, list[TierTerms]] = field(default_factory=dict)
    theme_name: str = ""  # a themed session's booklet (专场): its name on the cover


def booklet(uow: UnitOfWork, theme: str | None = None) -> Booklet:
    """The event's catalog (its theme's services when the whole event has a theme), or the
    booklet of the themed session coded ``theme``."""
    offers = catalog(uow, theme=theme)
    with uow:
        s = uow.session
        event = current_event(s)
        themed = named_scope(s, event.id, theme) if theme else Scope.of(event_theme(s, event.id))
        tiers = event_tiers(s, event.id)
        rank = {tier.code: n for n, tier in enumerate(tiers)}
        names = {tier.code: tier.name for tier in tiers}
        terms: dict[str, list[tuple[int, TierTerms]]] = {}
        for code, own, row in s.execute(
            select(Offer.code, Offer.points_price, OfferTier)
            .join(OfferTier, OfferTier.offer_id == Offer.id)
            .where(Offer.event_id == event.id)
        ):
            if row.tier_code not in names:
                continue  # a tier since removed: nobody pays it
            price = row.points_price if row.points_price not in (None, own) else None
            if price is None and row.quota is None:
                continue  # the tier pays the offer's price without a limit: nothing to say
            terms.setdefault(code, []).append(
                (rank[row.tier_code], TierTerms(names[row.tier_code], price, row.quota))
            )
        return Booklet(
            event.name,
            event.event_date,
            event.venue,
            event.catalog_url,
            offers,
            tiers,
            {
                code: [t for _n, t in sorted(rows, key=lambda r: r[0])]
                for code, rows in terms.items()
            },
            themed.theme_name,
        )


def set_catalog_url(
    uow: UnitOfWork,
    url: str,
    staff: StaffSession,
    *,
    station: str = "",
    clock: Clock | None = None,
) -> str:
    """Store where the e-catalog is published; the booklet's QR codes point there."""
    require(staff, Action.SET_CATALOG_URL)
    url = url.strip()
    if url and not url.lower().startswith(("http://", "https://")):
        raise KioskError(
            _("The catalog address must start with https:// or http://, not “{url}”.").format(
                url=url
            )
        )
    if len(url) > 300:
        raise KioskError(_("The catalog address is longer than 300 characters."))
    with uow:
        s = uow.session
        event = current_event(s)
        event.catalog_url = url
        audit.append(
            s,
            at=(clock or Clock()).now(),
            action="catalog_url_set",
            staff_id=staff.staff_id,
            station=station,
            entity="event",
            entity_id=event.id,
            details={"url": url},
        )
        uow.commit()
    return url
