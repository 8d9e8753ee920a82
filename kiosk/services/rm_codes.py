"""RMs' personal invitation codes (个人邀请码, issue #20): given, listed, and the link each RM
shares on WeChat.

Every active RM gets a code when the staff import creates them (``kiosk.invite_codes``);
``issue`` gives one to any RM still without, on a supervisor's order. A customer who signs up
online with the code, or a daily report row carrying it, credits the RM
(``Invitation.invited_by``, ``kiosk.services.imports``). The posters (``printing.posters``)
carry the link: the e-catalog's address with ``?rm=CODE``, which the e-catalog reads to show
the code on its sign-up form.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from kiosk import audit, invite_codes
from kiosk.clock import Clock
from kiosk.invitations import rm_link
from kiosk.models import Branch, Role, Staff
from kiosk.permissions import Action, require
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event
from kiosk.uow import UnitOfWork


@dataclass(frozen=True)
class RmCode:
    staff_no: str
    name: str
    branch: str  # the branch code ("" without one)
    branch_name: str
    code: str  # "" while the RM has none
    link: str  # the WeChat link (the code alone without a catalog address)


@dataclass(frozen=True)
class RmCodes:
    event_name: str
    catalog_url: str
    rms: list[RmCode]

    @property
    def missing(self) -> list[RmCode]:
        return [rm for rm in self.rms if not rm.code]


def rm_codes(uow: UnitOfWork) -> RmCodes:
    """Every active RM with their code and link, by branch and staff number."""
    with uow:
        s = uow.session
        event = current_event(s)
        rows = s.execute(
            select(Staff, Branch)
            .outerjoin(Branch, Branch.id == Staff.branch_id)
            .where(Staff.active.is_(True))
            .order_by(Branch.code, Staff.staff_no)
        ).all()
        return RmCodes(
            event.name,
            event.catalog_url,
            [
                RmCode(
                    m.staff_no,
                    m.name,
                    b.code if b else "",
                    b.name if b else "",
                    m.invite_code or "",
                    rm_link(event.catalog_url, m.invite_code) if m.invite_code else "",
                )
                for m, b in rows
                if Role.RM in m.roles.split()
            ],
        )


def issue(
    uow: UnitOfWork, staff: StaffSession, *, station: str = "", clock: Clock | None = None
) -> list[str]:
    """Give a code to every active RM without one (codes already given are kept: printed
    posters stay valid); returns the staff numbers that got one. Audited."""
    require(staff, Action.ISSUE_INVITE_CODES)
    now = (clock or Clock()).now()
    with uow:
        s = uow.session
        given = invite_codes.assign(s)
        numbers = [m.staff_no for m in given]
        if numbers:
            audit.append(
                s,
                at=now,
                action="invite_codes_issued",
                staff_id=staff.staff_id,
                station=station,
                entity="staff",
                entity_id="",
                details={"staff": numbers},
            )
        uow.commit()
        return numbers
