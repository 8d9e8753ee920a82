"""A supervisor's approval on the spot: staff number and PIN typed at the clerk's station.

The PIN is checked by the sign-in code (same count, throttle and lock-out), so the approval
screen is no easier way to guess a supervisor's PIN. Every attempt is audited, granted or
not; the approved action's own record then names the supervisor in ``approved_by``.
"""

from __future__ import annotations

from kiosk import audit
from kiosk.clock import Clock
from kiosk.errors import PermissionDenied
from kiosk.i18n import _
from kiosk.models import Role
from kiosk.permissions import Action, Approval
from kiosk.services.auth import LockoutPolicy, check_pin
from kiosk.uow import UnitOfWork

__all__ = ["Approval", "approve"]


def approve(
    uow: UnitOfWork,
    staff_no: str,
    pin: str,
    *,
    action: Action,
    station: str = "",
    clock: Clock | None = None,
    policy: LockoutPolicy | None = None,
    timezone: str = "Asia/Shanghai",
) -> Approval:
    """The approval of the supervisor ``staff_no`` for ``action``; raise ``SignInError`` for a
    wrong PIN and ``PermissionDenied`` when the PIN is right but the person no supervisor."""
    now = (clock or Clock()).now()
    details = {"for": str(action)}
    with uow:
        staff = check_pin(
            uow,
            staff_no,
            pin,
            now=now,
            station=station,
            policy=policy,
            timezone=timezone,
            purpose="approval",
            details=details,
        )
        supervisor = Role.SUPERVISOR in staff.role_set
        audit.append(
            uow.session,
            at=now,
            action="approval_given" if supervisor else "approval_refused",
            staff_id=staff.id,
            station=station,
            entity="staff",
            entity_id=staff.id,
            details=details,
        )
        approval = Approval(staff.id, staff.staff_no, staff.name, action)
        uow.commit()
    if not supervisor:
        raise PermissionDenied(
            _("{no} is not a supervisor and cannot approve this.").format(no=approval.staff_no)
        )
    return approval
