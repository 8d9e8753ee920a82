"""Contact coverage and the bank's call rule (issue #20), for the progress report.

From the contact history (``InvitationContact``, invitation contacts only: a reminder is not
an invitation): per branch and per RM (the customer's own RM: coverage is their job, whoever
made the contact), how many invitees were contacted at least once, and how many by phone.
The bank's rule "every invitee holding at least N points is called at least once" is the
event's ``call_points_floor`` (a figure setting); the report lists every invitee it still
misses, names masked, with the count per branch and RM.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Exists, and_, case, func, select
from sqlalchemy.orm import Session, aliased

from kiosk.i18n import _
from kiosk.masking import mask_name
from kiosk.models import (
    Branch,
    ContactChannel,
    ContactPurpose,
    Customer,
    Event,
    Invitation,
    InvitationContact,
    Staff,
)


@dataclass(frozen=True)
class CoverageRow:
    """One branch or one RM (or the total): how many of their invitees were contacted."""

    code: str
    name: str
    branch: str  # the branch code (the RM's own branch for an RM row)
    invitees: int = 0
    contacted: int = 0  # contacted at least once (any channel)
    called: int = 0  # called at least once
    due: int = 0  # invitees the call rule covers (points at or above the floor)
    missing: int = 0  # of them, not called yet

    @property
    def contacted_share(self) -> float | None:
        return self.contacted / self.invitees if self.invitees else None

    @property
    def called_share(self) -> float | None:
        return self.called / self.invitees if self.invitees else None


@dataclass(frozen=True)
class Uncalled:
    """An invitee the call rule covers who was not called yet."""

    customer_no: str
    masked_name: str
    branch: str
    rm_no: str
    rm_name: str
    points: int


@dataclass(frozen=True)
class Coverage:
    floor: int | None  # the call rule's points (None: no rule)
    branches: list[CoverageRow]
    rms: list[CoverageRow]
    total: CoverageRow
    missing: list[Uncalled]  # by branch, RM, most points first


_COUNTS = ("invitees", "contacted", "called", "due", "missing")


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _contact_exists(*, phone: bool) -> Exists:
    """The invitation has an invitation contact (by phone when ``phone``)."""
    contact = aliased(InvitationContact)
    query = select(contact.id).where(
        contact.invitation_id == Invitation.id, contact.purpose == ContactPurpose.INVITE
    )
    if phone:
        query = query.where(contact.channel == ContactChannel.PHONE)
    return query.exists()


def coverage(s: Session, event: Event) -> Coverage:
    """Coverage per branch and RM and the invitees the call rule misses (one GROUP BY and,
    with a rule, one listing)."""
    floor = event.call_points_floor
    contacted = _contact_exists(phone=False)
    called = _contact_exists(phone=True)
    due = Customer.points_balance >= floor if floor is not None else None
    columns: list[Any] = [
        Customer.branch_id,
        Invitation.rm_id,
        func.count(Invitation.id),
        _count(contacted),
        _count(called),
    ]
    if due is not None:
        columns += [_count(due), _count(and_(due, ~called))]
    per_branch: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_COUNTS, 0))
    per_rm: dict[int | None, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_COUNTS, 0))
    for branch_id, rm_id, *counts in s.execute(
        select(*columns)
        .join(Customer, Customer.id == Invitation.customer_id)
        .where(Invitation.event_id == event.id)
        .group_by(Customer.branch_id, Invitation.rm_id)
    ):
        for name, value in zip(_COUNTS, counts, strict=False):
            per_branch[branch_id][name] += int(value)
            per_rm[rm_id][name] += int(value)
    branches = {b.id: b for b in s.scalars(select(Branch).order_by(Branch.code))}
    staff = {m.id: m for m in s.scalars(select(Staff))}
    branch_rows = [
        CoverageRow(b.code, b.name, b.code, **per_branch[b.id])
        for b in branches.values()
        if b.id in per_branch
    ]
    rm_rows = []
    for rm_id, counts in per_rm.items():
        rm = staff.get(rm_id) if rm_id is not None else None
        branch = branches.get(rm.branch_id) if rm and rm.branch_id else None
        rm_rows.append(
            CoverageRow(
                rm.staff_no if rm else "",
                rm.name if rm else _("(no RM)"),
                branch.code if branch else "",
                **counts,
            )
        )
    rm_rows.sort(key=lambda r: (r.code == "", r.branch, r.code))
    total = CoverageRow(
        "", _("Total"), "", **{n: sum(getattr(r, n) for r in branch_rows) for n in _COUNTS}
    )
    missing: list[Uncalled] = []
    if due is not None:
        rm_table = aliased(Staff)
        for number, name, branch_code, rm_no, rm_name, points in s.execute(
            select(
                Customer.customer_no,
                Customer.name,
                Branch.code,
                rm_table.staff_no,
                rm_table.name,
                Customer.points_balance,
            )
            .select_from(Invitation)
            .join(Customer, Customer.id == Invitation.customer_id)
            .join(Branch, Branch.id == Customer.branch_id)
            .outerjoin(rm_table, rm_table.id == Invitation.rm_id)
            .where(Invitation.event_id == event.id, due, ~called)
            .order_by(
                Branch.code,
                rm_table.staff_no,
                Customer.points_balance.desc(),
                Customer.customer_no,
            )
        ):
            missing.append(
                Uncalled(number, mask_name(name), branch_code, rm_no or "", rm_name or "", points)
            )
    return Coverage(floor, branch_rows, rm_rows, total, missing)
