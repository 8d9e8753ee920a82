"""Applying an import: check the whole file, then write all of it in one transaction or nothing.

Records are matched on their natural keys (branch code, staff number, tier code, offer code,
customer number; one invitation per customer and event, one points lot per customer and ref),
so importing a corrected file again updates what is there and never duplicates. New customers
get their search keys and an invitation code; pre-selected services and an offer's tier terms
are replaced by the file's; the tiers file replaces the event's tier set. Every import is
audited with counts, never with personal data.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from kiosk import audit, bulk, changes, contacts, invite_codes, privacy
from kiosk.changeset import NOTHING, Changes
from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.imports import ImportCheck, Reference, check_sheet
from kiosk.imports.check import Cancelled, header_finder
from kiosk.imports.kinds import (
    KINDS,
    AnswerRecord,
    BranchRecord,
    FollowupRecord,
    InviteeRecord,
    OfferRecord,
    SendRecord,
    StaffRecord,
    TierRecord,
)
from kiosk.imports.reading import read_sheet
from kiosk.invitations import new_code
from kiosk.lengths import require_fits
from kiosk.models import (
    Branch,
    ContactChannel,
    ContactPurpose,
    Customer,
    Event,
    EventTier,
    FollowupOutcome,
    FollowupStage,
    Invitation,
    InvitationAnswer,
    InvitationContact,
    InvitationStatus,
    Merchant,
    Offer,
    OfferTier,
    PointsLot,
    Preselection,
    SearchKey,
    Slip,
    Staff,
    TimeSlot,
)
from kiosk.permissions import Action, Approval, approved_or_setup
from kiosk.pinyin import initials_key
from kiosk.points import LotInput, set_lots_many, simple_balance
from kiosk.search_keys import customer_keys
from kiosk.security import hash_pin
from kiosk.services import followup, gate, keys
from kiosk.services.auth import StaffSession
from kiosk.services.events import _find_current
from kiosk.services.feedback import apply_calls, apply_deliveries
from kiosk.services.merchant_review import catalog_warnings, register_marks
from kiosk.uow import UnitOfWork

# The customer list too: its personal data is sealed to the event's privacy key.
NEEDS_EVENT = (
    "tiers",
    "catalog",
    "customers",
    "invitees",
    "invitations",
    "reminder_report",
    "deliveries",
    "feedback",
    "followup",
)
KEEPS_RECORDS = ("catalog", "tiers")  # checked across their records (merchants, bands)


class ImportRefused(KioskError):
    """The file has issues; nothing was written. ``check`` lists every one."""

    def __init__(self, check: ImportCheck) -> None:
        super().__init__(
            _("The file has {n} problem(s); nothing was imported.").format(n=len(check.issues))
        )
        self.check = check


@dataclass(frozen=True)
class ImportResult:
    kind: str
    created: int
    updated: int
    check: ImportCheck = field(repr=False)
    # An import changes the event's set-up (``setup``).
    changes: Changes = field(default=NOTHING, compare=False)
    # Rows imported but not recorded, each in a sentence (a send report's failed sends).
    notes: tuple[str, ...] = ()

    def summary(self, file_name: str) -> str:
        """What was imported from ``file_name``, as the admin tab and ``kiosk import`` say."""
        if self.kind == "reminder_report":
            text = _(
                "Imported {file}: {created} reminders recorded, {updated} already recorded, "
                "{failed} failed sends not recorded."
            ).format(
                file=file_name,
                created=self.created,
                updated=self.updated,
                failed=len(self.notes),
            )
            return " ".join([text, *self.notes])
        if self.kind == "deliveries":
            return _(
                "Imported {file}: {created} delivery times recorded, {updated} changed."
            ).format(file=file_name, created=self.created, updated=self.updated)
        if self.kind == "feedback":
            return _(
                "Imported {file}: {created} call outcomes recorded, {updated} already recorded."
            ).format(file=file_name, created=self.created, updated=self.updated)
        if self.kind == "followup":
            return _(
                "Imported {file}: {created} follow-up contacts recorded, {updated} already "
                "recorded, {skipped} rows not filled in yet."
            ).format(
                file=file_name,
                created=self.created,
                updated=self.updated,
                skipped=self.check.rows - len(self.check.records),
            )
        text = _("Imported {file}: {created} new, {updated} updated.").format(
            file=file_name, created=self.created, updated=self.updated
        )
        return " ".join([text, *self.notes])


def reference(session: Session, kind: str = "", *, now: datetime | None = None) -> Reference:
    """What the event already holds, keyed by every spelling a file may use (the invitation
    codes only for the SMS platform's send report, ``kind`` "reminder_report"; the follow-up
    lists and today, in the event's time zone, only for ``kind`` "followup")."""
    event = _find_current(session)
    branches: dict[str, str] = {}
    for branch in session.scalars(select(Branch)):
        branches[branch.code.lower()] = branch.code
        # Names keep their full-width punctuation when stored; a file's branch column is
        # folded (NFKC) like every code column, so the name is looked up folded too.
        branches[unicodedata.normalize("NFKC", branch.name).lower()] = branch.code
    members = list(session.scalars(select(Staff)))
    staff = {s.staff_no: frozenset(s.roles.split()) for s in members}
    invite_codes = {s.invite_code: s.staff_no for s in members if s.invite_code}
    if event is None:
        return Reference(branches=branches, staff=staff)
    slots: dict[str, str] = {}
    for slot in event.slots:
        slots[slot.code.lower()] = slot.code
        slots[unicodedata.normalize("NFKC", slot.label).lower()] = slot.code
    merchants = {
        m.code: m.name
        for m in session.scalars(select(Merchant).where(Merchant.event_id == event.id))
    }
    offers: dict[str, str] = {}
    reserved: dict[str, int] = {}
    for offer, merchant_code in session.execute(
        select(Offer, Merchant.code)
        .join(Merchant, Merchant.id == Offer.merchant_id)
        .where(Offer.event_id == event.id)
    ):
        offers[offer.code] = merchant_code
        reserved[offer.code] = offer.reserved
    bands = list(session.scalars(select(EventTier).where(EventTier.event_id == event.id)))
    tiers = {unicodedata.normalize("NFKC", t.name).lower(): t.code for t in bands}
    tiers.update({t.code.lower(): t.code for t in bands})  # a code wins over another's name
    tier_reserved = {
        (offer_code, tier_code): reserved
        for offer_code, tier_code, reserved in session.execute(
            select(Offer.code, OfferTier.tier_code, OfferTier.reserved)
            .join(Offer, Offer.id == OfferTier.offer_id)
            .where(Offer.event_id == event.id, OfferTier.reserved > 0)
        )
    }
    issued_tiers = {
        code: int(n)
        for code, n in session.execute(
            select(Slip.tier, func.count(Slip.id))
            .where(Slip.event_id == event.id, Slip.tier.is_not(None))
            .group_by(Slip.tier)
        )
    }
    invitees = frozenset(
        session.scalars(
            select(Customer.customer_no)
            .join(Invitation, Invitation.customer_id == Customer.id)
            .where(Invitation.event_id == event.id)
        )
    )
    return Reference(
        event_code=event.code,
        timezone=event.timezone,
        branches=branches,
        slots=slots,
        staff=staff,
        merchants=merchants,
        offers=offers,
        reserved=reserved,
        invitees=invitees,
        event_date=event.event_date,
        tiers=tiers,
        tier_reserved=tier_reserved,
        issued_tiers=issued_tiers,
        invite_codes=invite_codes,
        invitation_codes=dict(
            session.execute(
                select(Invitation.code, Customer.customer_no)
                .join(Customer, Customer.id == Invitation.customer_id)
                .where(Invitation.event_id == event.id)
            ).all()
        )
        if kind == "reminder_report"
        else {},
        slips={
            serial: (status, code)
            for serial, status, code in session.execute(
                select(Slip.serial, Slip.status, Merchant.code)
                .join(Merchant, Merchant.id == Slip.merchant_id)
                .where(Slip.event_id == event.id)
            )
        }
        if kind in ("deliveries", "feedback")
        else {},
        followup=_followup_lists(session, event) if kind == "followup" else {},
        today=(now or Clock().now()).astimezone(ZoneInfo(event.timezone)).date()
        if kind == "followup"
        else None,
        register=register_marks(session) if kind == "catalog" else {},
    )


def _followup_lists(session: Session, event: Event) -> dict[str, tuple[str, frozenset[str]]]:
    """Customer number -> (the RM whose list they are on, "" for none; their groups)."""
    groups: dict[str, set[str]] = {}
    owner: dict[str, str] = {}
    for rm in followup.compute(session, event):
        for entry in rm.entries:
            groups.setdefault(entry.customer_no, set()).add(str(entry.stage))
            owner[entry.customer_no] = rm.rm_no
    return {number: (owner[number], frozenset(stages)) for number, stages in groups.items()}


@dataclass(frozen=True)
class Choices:
    """What the coordinator decided about a file: the sheet, and columns mapped by hand
    (header as written -> field name, or ``IGNORE``)."""

    sheet: str | None = None
    columns: dict[str, str] = field(default_factory=dict)


Progress = Callable[[str, int, int], None]  # (stage "checked"/"written", done, total)


def _check(
    session: Session,
    kind: str,
    path: Path,
    choices: Choices,
    *,
    keep_records: bool = True,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    now: datetime | None = None,
) -> ImportCheck:
    if kind not in KINDS:
        raise KioskError(_("There is no import “{kind}”.").format(kind=kind))
    if kind in NEEDS_EVENT and _find_current(session) is None:
        raise KioskError(_("Create the event first: kiosk event create."))
    sheet = read_sheet(path, choices.sheet, header_finder(kind))
    return check_sheet(
        sheet,
        kind,
        reference(session, kind, now=now),
        choices.columns,
        keep_records=keep_records,
        progress=(lambda n: progress("checked", n, 0)) if progress else None,
        cancelled=cancelled,
    )


def check_file(
    uow: UnitOfWork,
    kind: str,
    path: Path,
    choices: Choices | None = None,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ImportCheck:
    """Everything the file would import and every issue, writing nothing (the preview).

    The records are counted, not kept: checking a 400,000-row file needs little memory."""
    with uow:
        return _check(
            uow.session,
            kind,
            path,
            choices or Choices(),
            keep_records=kind in KEEPS_RECORDS,
            progress=progress,
            cancelled=cancelled,
        )


def import_file(
    uow: UnitOfWork,
    kind: str,
    path: Path,
    staff: StaffSession | None,
    *,
    approval: Approval | None = None,
    station: str = "",
    clock: Clock | None = None,
    choices: Choices | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ImportResult:
    """Check the file and write all of it, or raise ``ImportRefused`` and write nothing.

    An import replaces data wholesale, so it needs a supervisor (the staff, or an approval);
    only the very first files, before any staff exist, are imported without anyone
    (``staff=None``): there is nobody yet who could sign in. ``progress`` hears the rows
    checked, then written; ``cancelled`` returning True rolls everything back."""
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        approver = approved_or_setup(s, staff, Action.IMPORT_FILE, approval)
        check = _check(
            s, kind, path, choices or Choices(), progress=progress, cancelled=cancelled, now=now
        )
        if check.issues:
            raise ImportRefused(check)
        notes: tuple[str, ...] = ()
        if kind in ("customers", "invitees"):
            created, updated = _apply_invitees(
                s, check.records, now, progress, cancelled, invite=kind == "invitees"
            )
        elif kind == "invitations":
            created, updated = _apply_invitations(
                s,
                check.records,
                now,
                source=path.name,
                recorded_by=staff.staff_id if staff else None,
            )
        elif kind == "reminder_report":
            created, updated, notes = _apply_send_report(
                s, check.records, now, path.name, staff.staff_id if staff else None
            )
        elif kind in ("deliveries", "feedback"):
            apply_after = apply_deliveries if kind == "deliveries" else apply_calls
            created, updated = apply_after(
                s, check.records, now, path.name, staff.staff_id if staff else None
            )
        elif kind == "followup":
            created, updated = _apply_followup(
                s, check.records, now, path.name, staff.staff_id if staff else None
            )
        else:
            apply = {
                "branches": _apply_branches,
                "staff": _apply_staff,
                "tiers": _apply_tiers,
                "catalog": _apply_catalog,
            }[kind]
            created, updated = apply(s, check.records, now)
            if kind == "catalog":  # merchants the register warned, said after the import
                notes = catalog_warnings(s, check.records)
        if cancelled is not None and cancelled():
            raise Cancelled  # the unit of work rolls back: nothing is imported
        event = _find_current(s)
        audit.append(
            s,
            at=now,
            action=f"import_{kind}",
            staff_id=staff.staff_id if staff else None,
            station=station,
            entity="event" if event else "",
            entity_id=event.id if event else "",
            details={
                "file": path.name,
                "rows": len(check.records),
                "created": created,
                "updated": updated,
            },
            approved_by=approver,
        )
        uow.commit()
        return ImportResult(kind, created, updated, check, Changes(setup=True), notes)


def _apply_branches(s: Session, records: list[BranchRecord], now: datetime) -> tuple[int, int]:
    existing = {b.code: b for b in s.scalars(select(Branch))}
    created = 0
    for r in records:
        branch = existing.get(r.code)
        if branch is None:
            branch = Branch(code=r.code)
            s.add(branch)
            created += 1
        branch.name = r.name
        branch.target = r.target
    return created, len(records) - created


def _apply_staff(s: Session, records: list[StaffRecord], now: datetime) -> tuple[int, int]:
    existing = {m.staff_no: m for m in s.scalars(select(Staff))}
    branches = {b.code: b.id for b in s.scalars(select(Branch))}
    created = 0
    for r in records:
        member = existing.get(r.staff_no)
        if member is None:
            assert r.pin is not None  # the check demands one for new staff
            member = Staff(staff_no=r.staff_no, pin_hash=hash_pin(r.pin))
            s.add(member)
            created += 1
        # The initial PIN sets up a new member only: a re-import never resets a PIN.
        member.name = r.name
        member.branch_id = branches[r.branch] if r.branch else None
        member.roles = " ".join(r.roles)
        member.active = True
    invite_codes.assign(s)  # a new RM gets a personal invitation code
    return created, len(records) - created


def _apply_catalog(s: Session, records: list[OfferRecord], now: datetime) -> tuple[int, int]:
    event = _find_current(s)
    assert event is not None
    merchants = {
        m.code: m for m in s.scalars(select(Merchant).where(Merchant.event_id == event.id))
    }
    offers = {o.code: o for o in s.scalars(select(Offer).where(Offer.event_id == event.id))}
    # A merchant's rate is the one its rows give (the check refused two); none given on any
    # of its rows, with the column in the file, clears it.
    rates: dict[str, int | None] = {}
    for r in records:
        if r.rate_column and rates.get(r.merchant_code) is None:
            rates[r.merchant_code] = r.rate_micro
    created = 0
    for r in records:
        merchant = merchants.get(r.merchant_code)
        if merchant is None:
            merchant = Merchant(event_id=event.id, code=r.merchant_code, name=r.merchant_name)
            s.add(merchant)
            merchants[r.merchant_code] = merchant
        if r.merchant_name:
            merchant.name = r.merchant_name
        if r.booth is not None:
            merchant.booth = r.booth
        if r.merchant_code in rates:
            merchant.rate_micro = rates[r.merchant_code]
        s.flush()
        offer = offers.get(r.code)
        if offer is None:
            offer = Offer(event_id=event.id, code=r.code, reserved=0)
            s.add(offer)
            offers[r.code] = offer
            created += 1
        offer.merchant_id = merchant.id
        offer.name = r.name
        offer.category = r.category
        offer.points_price = r.points_price
        offer.capacity = r.capacity
        offer.redeem_by = r.redeem_by
        offer.description = r.description
        if r.price_column:
            offer.price_fen = r.price_fen
        if r.tier_terms is not None:
            _set_offer_tiers(offer, r.tier_terms)
    return created, len(records) - created


def _set_offer_tiers(offer: Offer, terms: Iterable[tuple[str, int | None, int | None]]) -> None:
    """The offer's tier terms become the file's; a tier left out that already has places
    claimed keeps its row (and ``reserved``, which a void gives back to) with no terms."""
    current = {row.tier_code: row for row in offer.tiers}
    for code, price, quota in terms:
        row = current.pop(code, None)
        if row is None:
            row = OfferTier(tier_code=code, reserved=0)
            offer.tiers.append(row)
        row.points_price = price
        row.quota = quota
    for row in current.values():
        if row.reserved:
            row.points_price = None
            row.quota = None
        else:
            offer.tiers.remove(row)


def _apply_tiers(s: Session, records: list[TierRecord], now: datetime) -> tuple[int, int]:
    """The event's tier set becomes the file's, matched on the code. A tier left out goes,
    with its offers' terms; the check refused the file if slips were issued for it."""
    event = _find_current(s)
    assert event is not None
    existing = {
        t.code: t for t in s.scalars(select(EventTier).where(EventTier.event_id == event.id))
    }
    created = 0
    for r in records:
        tier = existing.pop(r.code, None)
        if tier is None:
            tier = EventTier(event_id=event.id, code=r.code)
            s.add(tier)
            created += 1
        tier.name = r.name
        tier.aum_floor = r.aum_floor
        tier.meaning = r.meaning
    if existing:
        s.execute(
            delete(OfferTier).where(
                OfferTier.tier_code.in_(list(existing)),
                OfferTier.offer_id.in_(select(Offer.id).where(Offer.event_id == event.id)),
            )
        )
        for tier in existing.values():
            s.delete(tier)
    return created, len(records) - created


BATCH = 2_000  # rows per bulk statement: progress and Cancel between two
NEW_CUSTOMER = {"employer": None, "products": "", "dormant": False}


def _apply_invitees(
    s: Session,
    records: list[InviteeRecord],
    now: datetime,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    *,
    invite: bool = True,
) -> tuple[int, int]:
    """Write the invitees in bulk: a few statements per batch (``kiosk.bulk``: executemany on
    SQLite, COPY on PostgreSQL) instead of a flush per row, every value sealed with the one
    sealer of the file (one key agreement, then AES-GCM).

    Without ``invite`` (the customer list, 客户名单) the customers, their lots and search keys
    are written the same way, and no invitation is made or changed (an invited customer keeps
    the invitation code among their search keys)."""
    event = _find_current(s)
    assert event is not None
    branches = dict(s.execute(select(Branch.code, Branch.id)).all())
    staff = dict(s.execute(select(Staff.staff_no, Staff.id)).all())
    slots = dict(
        s.execute(select(TimeSlot.code, TimeSlot.id).where(TimeSlot.event_id == event.id)).all()
    )
    offers = dict(s.execute(select(Offer.code, Offer.id).where(Offer.event_id == event.id)).all())
    invitations = dict(
        s.execute(
            select(Invitation.customer_id, Invitation.id).where(Invitation.event_id == event.id)
        ).all()
    )
    used = set(s.scalars(select(Invitation.code)))
    rng = random.SystemRandom()
    sealer = privacy.sealer(s)  # one key agreement for the whole file
    created = 0
    changes.wrote(s)  # COPY passes no ORM event: the stations must still hear of the import
    with bulk.page_cache(s.connection()):
        for start in range(0, len(records), BATCH):
            if cancelled is not None and cancelled():
                raise Cancelled
            batch = records[start : start + BATCH]
            numbers = [r.customer_no for r in batch]
            existing = dict(
                s.execute(
                    select(Customer.customer_no, Customer.id).where(
                        Customer.customer_no.in_(numbers)
                    )
                ).all()
            )
            new_rows, old_rows = [], []
            for r in batch:
                values = _customer_values(r, sealer, now, branches, staff)
                if r.customer_no in existing:
                    values["id"] = existing[r.customer_no]
                    old_rows.append(values)
                else:
                    # One shape for every new row (executemany, COPY).
                    new_rows.append({**NEW_CUSTOMER, **values})
            ids = dict(existing)
            fresh_records = [r for r in batch if r.customer_no not in existing]
            if new_rows:
                # Core executemany or COPY (the ORM's bulk insert sends one statement per row
                # here), then the ids in one query: RETURNING in parameter order is row by row on
                # SQLite.
                bulk.insert_rows(s.connection(), Customer.__table__, new_rows)
                fresh = [v["customer_no"] for v in new_rows]
                ids.update(
                    s.execute(
                        select(Customer.customer_no, Customer.id).where(
                            Customer.customer_no.in_(fresh)
                        )
                    ).all()
                )
                created += len(new_rows)
                lot_rows = [
                    {
                        "customer_id": ids[r.customer_no],
                        "ref": lot.ref,
                        "points": lot.points,
                        "expires_on": lot.expires_on,
                    }
                    for r in fresh_records
                    for lot in _lot_inputs(r)
                ]
                bulk.insert_rows(s.connection(), PointsLot.__table__, lot_rows)
            if old_rows:
                s.execute(update(Customer), old_rows)
                _update_lots(s, [r for r in batch if r.customer_no in existing], existing)
            new_invitations, old_invitations = [], []
            for r in batch if invite else ():
                customer_id = ids[r.customer_no]
                rm_id = staff[r.rm] if r.rm else None
                if customer_id in invitations:
                    old_invitations.append(
                        {"id": invitations[customer_id], "slot_id": slots[r.slot], "rm_id": rm_id}
                    )
                else:
                    new_invitations.append(
                        {
                            "event_id": event.id,
                            "customer_id": customer_id,
                            "code": new_code(event.code, rng, used),  # type: ignore[arg-type]
                            "channel": "sms",
                            "status": InvitationStatus.INVITED,
                            "companions": 0,
                            "slot_id": slots[r.slot],
                            "rm_id": rm_id,
                        }
                    )
            if new_invitations:
                bulk.insert_rows(s.connection(), Invitation.__table__, new_invitations)
            if old_invitations:
                s.execute(update(Invitation), old_invitations)
            codes: dict[int, str] = {}
            for invitation_id, customer_id, code in s.execute(
                select(Invitation.id, Invitation.customer_id, Invitation.code).where(
                    Invitation.event_id == event.id,
                    Invitation.customer_id.in_([ids[n] for n in numbers]),
                )
            ):
                invitations[customer_id] = invitation_id
                codes[customer_id] = code
            chosen = [r for r in batch if r.preselections is not None and invite]
            if chosen:
                s.execute(
                    delete(Preselection).where(
                        Preselection.invitation_id.in_(
                            [invitations[ids[r.customer_no]] for r in chosen]
                        )
                    )
                )
                rows = [
                    {
                        "invitation_id": invitations[ids[r.customer_no]],
                        "offer_id": offers[code],
                        "quantity": qty,
                    }
                    for r in chosen
                    for code, qty in r.preselections or ()
                ]
                if rows:
                    bulk.insert_rows(s.connection(), Preselection.__table__, rows)
            # Search keys replaced whole, as ``index_customer`` does one customer at a time.
            if existing:
                s.execute(
                    delete(SearchKey).where(SearchKey.customer_id.in_(list(existing.values())))
                )
            keys_rows = [
                {"key": key, "customer_id": ids[r.customer_no]}
                for r in batch
                for key in customer_keys(
                    r.name, r.phone, r.customer_no, _codes(codes, ids[r.customer_no])
                )
            ]
            if keys_rows:
                bulk.insert_rows(s.connection(), SearchKey.__table__, keys_rows)
            if progress is not None:
                progress("written", start + len(batch), len(records))
    return created, len(records) - created


def _codes(codes: dict[int, str], customer_id: int) -> list[str]:
    """The customer's invitation code as a search key (none on the customer list alone)."""
    return [codes[customer_id]] if customer_id in codes else []


def _lot_inputs(r: InviteeRecord) -> list[LotInput]:
    """The lots of the file's row, or its plain balance as one lot without a date."""
    if r.lots is None:
        return simple_balance(r.points_balance)
    return [LotInput(ref, points, expires_on) for ref, points, expires_on in r.lots]


def _update_lots(s: Session, records: list[InviteeRecord], ids: dict[str, int]) -> None:
    """Known customers' lots by the rule of ``kiosk.points.set_lots`` (upsert by ref, lots
    left out kept at 0, balance = their sum), for the whole batch at once."""
    set_lots_many(s, {ids[r.customer_no]: _lot_inputs(r) for r in records})


def _customer_values(
    r: InviteeRecord,
    sealer: privacy.Sealer | None,
    now: datetime,
    branches: dict[str, int],
    staff: dict[str, int],
) -> dict[str, object]:
    """One customer's columns as the import writes them (personal data masked and sealed)."""
    values: dict[str, object] = {
        "customer_no": r.customer_no,
        "name": r.name,
        "name_initials": initials_key(r.name),
        "id_type": r.id_type,
        "id_valid_from": r.id_valid_from,
        "id_valid_to": r.id_valid_to,
        "id_long_term": r.id_long_term,
        "gender": r.gender,
        "nationality": r.nationality,
        "occupation_code": r.occupation_code,
        "tax_residency": r.tax_residency,
        "tier": r.tier,
        "points_balance": r.points_balance,
        "aum": r.aum,
        "balance_as_of": r.balance_as_of or now,
        "branch_id": branches[r.branch],
        "rm_id": staff[r.rm] if r.rm else None,
        "mobile_banking": r.mobile_banking,
    }
    for name, value in (("phone", r.phone), ("id_number", r.id_number), ("address", r.address)):
        values.update(privacy.columns(sealer, name, value))
    # The themed sessions' columns: a blank or absent one keeps what the customer has (a new
    # customer: none, not dormant); 无 clears it.
    if r.employer is not None:
        values["employer"] = r.employer or None
    if r.products is not None:
        values["products"] = "|".join(r.products)
    if r.dormant is not None:
        values["dormant"] = r.dormant
    return values


@dataclass(frozen=True)
class _Seen:
    """One invitation contact of the history, as ``_settle`` reads it."""

    day: date
    channel: str
    staff_id: int | None
    answer: str | None
    companions: int | None = None  # a row of the file being imported says it


def _apply_invitations(
    s: Session,
    records: list[AnswerRecord],
    now: datetime,
    *,
    source: str,
    recorded_by: int | None,
) -> tuple[int, int]:
    """Every row becomes a contact in the history (``kiosk.contacts``: a row imported twice
    adds nothing), then each invitation the file touched is settled from its whole history,
    oldest first (by day, then in the order the contacts were first recorded), so a report
    arriving after a later one does not overwrite the later answer."""
    event = _find_current(s)
    assert event is not None
    zone = ZoneInfo(event.timezone)
    rows = s.execute(
        select(Customer.customer_no, Invitation)
        .join(Invitation, Invitation.customer_id == Customer.id)
        .where(Invitation.event_id == event.id)
    )
    invitations = {number: invitation for number, invitation in rows}
    staff_ids = {no: id_ for no, id_ in s.execute(select(Staff.staff_no, Staff.id))}
    found = [
        contacts.Contact(
            invitations[r.customer_no].id,
            ContactPurpose.INVITE,
            ContactChannel(r.channel),
            r.invited_on,
            staff_ids[r.rm_no] if r.rm_no else None,
            r.answer,
        )
        for r in records
    ]
    companions = {
        contacts.fingerprint(c): r.companions for r, c in zip(records, found, strict=True)
    }
    contacts.record(s, found, source=source, now=now, recorded_by=recorded_by)
    touched = sorted({c.invitation_id for c in found})
    seen: dict[int, list[_Seen]] = {i: [] for i in touched}
    for start in range(0, len(touched), 5000):
        batch = touched[start : start + 5000]
        for row in s.execute(
            select(
                InvitationContact.invitation_id,
                InvitationContact.contacted_on,
                InvitationContact.channel,
                InvitationContact.staff_id,
                InvitationContact.answer,
                InvitationContact.fingerprint,
            )
            .where(
                InvitationContact.invitation_id.in_(batch),
                InvitationContact.purpose == ContactPurpose.INVITE,
            )
            .order_by(InvitationContact.contacted_on, InvitationContact.id)
        ):
            seen[row.invitation_id].append(
                _Seen(
                    row.contacted_on,
                    row.channel,
                    row.staff_id,
                    row.answer,
                    companions.get(row.fingerprint),
                )
            )
    by_id = {i.id: i for i in invitations.values()}
    for invitation_id in touched:
        _settle(by_id[invitation_id], seen[invitation_id], zone)
    return 0, len(records)


def _settle(invitation: Invitation, seen: list[_Seen], zone: ZoneInfo) -> None:
    """The invitation's "latest" fields from its contacts, oldest first.

    The channel is the latest contact's and ``invited_at`` its day (never moved back); the
    answer and companions are the latest answered contact's; the status follows the latest
    confirmation or decline (unreachable changes nothing), ``confirmed_at`` being the first
    confirmation since the last decline. Credit (``invited_by``): the RM of the contact that
    produced the confirmation when they are not the customer's own RM, else the RM of the
    latest contact made by another RM; a later contact by the own RM never takes it back."""
    latest = seen[-1]
    invitation.channel = latest.channel
    at = _local_noon(latest.day, zone)
    if invitation.invited_at is None or at > invitation.invited_at:
        invitation.invited_at = at
    answered = [x for x in seen if x.answer]
    if answered:
        invitation.answer = answered[-1].answer
        if answered[-1].companions is not None:
            invitation.companions = answered[-1].companions
    decisive = [
        x for x in seen if x.answer in (InvitationAnswer.CONFIRMED, InvitationAnswer.DECLINED)
    ]
    confirming: _Seen | None = None
    if decisive and decisive[-1].answer == InvitationAnswer.DECLINED:
        invitation.status = InvitationStatus.DECLINED
        invitation.confirmed_at = None
    elif decisive:
        run = decisive
        declines = [n for n, x in enumerate(decisive) if x.answer == InvitationAnswer.DECLINED]
        if declines:
            run = decisive[declines[-1] + 1 :]
        confirming = run[0]
        first = _local_noon(confirming.day, zone)
        if (
            not declines
            and invitation.status == InvitationStatus.CONFIRMED
            and invitation.confirmed_at is not None
        ):
            first = min(first, invitation.confirmed_at)  # kept from before the history
        invitation.status = InvitationStatus.CONFIRMED
        invitation.confirmed_at = first
    owner = invitation.rm_id
    if confirming is not None and confirming.staff_id not in (None, owner):
        invitation.invited_by = confirming.staff_id
        return
    others = [x.staff_id for x in seen if x.staff_id is not None and x.staff_id != owner]
    if others:
        invitation.invited_by = others[-1]


def _apply_send_report(
    s: Session, records: list[SendRecord], now: datetime, file_name: str, staff_id: int | None
) -> tuple[int, int, tuple[str, ...]]:
    """The SMS platform's send report: each success becomes a reminder contact (channel SMS,
    the day and time sent; no RM: the platform sent it, the importer is who recorded it);
    each failure is listed back, never recorded. Returns (new, already recorded, failures)."""
    event = _find_current(s)
    assert event is not None
    zone = ZoneInfo(event.timezone)
    ids = dict(
        s.execute(
            select(Customer.customer_no, Invitation.id)
            .join(Invitation, Invitation.customer_id == Customer.id)
            .where(Invitation.event_id == event.id)
        ).all()
    )
    sent = [r for r in records if r.sent]
    found = [
        contacts.Contact(
            invitation_id=ids[r.customer_no],
            purpose=ContactPurpose.REMINDER,
            channel=ContactChannel.SMS,
            contacted_on=r.sent_at.astimezone(zone).date(),
            at=r.sent_at,
        )
        for r in sent
    ]
    new = contacts.record(s, found, source=file_name, now=now, recorded_by=staff_id)
    distinct = len({contacts.fingerprint(c) for c in found})
    failures = tuple(
        _("Row {row}: {customer} {status}, not recorded.").format(
            row=r.row, customer=r.customer_no, status=r.status
        )
        for r in records
        if not r.sent
    )
    return new, distinct - new, failures


def _apply_followup(
    s: Session, records: list[FollowupRecord], now: datetime, file_name: str, staff_id: int | None
) -> tuple[int, int]:
    """The RMs' filled follow-up workbooks: each filled row becomes a ``FollowupContact``
    (``contacts.record_followups``: the same row imported again adds nothing). Returns (new,
    already recorded)."""
    event = _find_current(s)
    assert event is not None
    numbers = sorted({r.customer_no for r in records})
    ids: dict[str, int] = {}
    for start in range(0, len(numbers), 5000):
        ids.update(
            s.execute(
                select(Customer.customer_no, Customer.id).where(
                    Customer.customer_no.in_(numbers[start : start + 5000])
                )
            ).all()
        )
    rms = dict(s.execute(select(Staff.staff_no, Staff.id)).all())
    found = [
        contacts.Followup(
            event_id=event.id,
            customer_id=ids[r.customer_no],
            rm_id=rms.get(r.rm_no) if r.rm_no else None,
            stage=FollowupStage(r.stage),
            contacted_on=r.contacted_on,
            outcome=FollowupOutcome(r.outcome),
            channel=ContactChannel(r.channel) if r.channel else None,
            note=r.note,
        )
        for r in records
    ]
    new = contacts.record_followups(s, found, source=file_name, now=now, recorded_by=staff_id)
    distinct = len({contacts.followup_fingerprint(f) for f in found})
    return new, distinct - new


def _local_noon(day: date, zone: ZoneInfo) -> datetime:
    """A report gives the day only; noon keeps the date the same in every timezone."""
    return datetime.combine(day, time(12), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class SlotSpec:
    code: str
    label: str
    starts: time
    ends: time
    capacity: int


def create_event(
    uow: UnitOfWork,
    *,
    code: str,
    name: str,
    event_date: date,
    venue: str,
    slots: list[SlotSpec],
    catalog_url: str = "",
    timezone: str = "Asia/Shanghai",
    requirements: Iterable[str] | None = None,
    passphrase: str | None = None,
    staff: StaffSession | None = None,
    approval: Approval | None = None,
    clock: Clock | None = None,
    station: str = "",
) -> int:
    """Create the event with its arrival slots; a database runs one event.

    With the event passphrase, the event also gets its slip-signing key and its privacy key,
    so personal data imported afterwards is sealed from the first row. A fresh database has
    no staff yet, so nobody is asked for (``staff=None``); once staff exist, a supervisor.
    ``requirements`` are the steps a customer must do before slips (``services.gate``; the
    bank's default when None)."""
    now = (clock or Clock()).now()
    if not slots:
        raise KioskError(_("An event needs at least one slot."))
    require_fits(code, Event.code, _("The event code"))
    require_fits(name, Event.name, _("The event name"))
    require_fits(venue, Event.venue, _("The venue"))
    require_fits(catalog_url, Event.catalog_url, _("The catalog address"))
    for spec in slots:
        require_fits(spec.code, TimeSlot.code, _("The slot code"))
        require_fits(spec.label, TimeSlot.label, _("The slot label"))
    zone = ZoneInfo(timezone)
    with uow:
        s = uow.session
        approver = approved_or_setup(s, staff, Action.CREATE_EVENT, approval)
        existing = _find_current(s)
        if existing is not None:
            raise KioskError(
                _("This database already holds the event “{name}”; use another database.").format(
                    name=existing.name
                )
            )
        event = Event(
            code=code.upper(),
            name=name,
            venue=venue,
            event_date=event_date,
            timezone=timezone,
            catalog_url=catalog_url,
            redeem_requires=" ".join(
                r.value
                for r in gate.ordered(
                    gate.DEFAULT_REQUIREMENTS if requirements is None else requirements
                )
            ),
            created_at=now,
        )
        s.add(event)
        s.flush()
        for spec in slots:
            if spec.ends <= spec.starts:
                raise KioskError(_("Slot {code} ends before it starts.").format(code=spec.code))
            s.add(
                TimeSlot(
                    event_id=event.id,
                    code=spec.code.upper(),
                    label=spec.label,
                    starts_at=datetime.combine(event_date, spec.starts, tzinfo=zone),
                    ends_at=datetime.combine(event_date, spec.ends, tzinfo=zone),
                    capacity=spec.capacity,
                )
            )
        if passphrase is not None:
            s.add(keys.new_key_row(event.id, passphrase, now))
            s.add(privacy.new_key_row(event.id, passphrase, now))
        audit.append(
            s,
            at=now,
            action="event_created",
            staff_id=staff.staff_id if staff else None,
            station=station,
            entity="event",
            entity_id=event.id,
            details={"keys": passphrase is not None, "requires": event.redeem_requires},
            approved_by=approver,
        )
        uow.commit()
        return event.id


def template_choices(uow: UnitOfWork) -> tuple[list[str], list[str]]:
    """Branch and slot codes for the templates' drop-downs (empty before they exist)."""
    with uow:
        s = uow.session
        branches = list(s.scalars(select(Branch.code).order_by(Branch.code)))
        event = _find_current(s)
        slots = [slot.code for slot in event.slots] if event else []
        return branches, slots
