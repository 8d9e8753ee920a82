"""Staff sign-in: staff number and PIN, with a lock-out after repeated failures.

Failures and lock-outs are audited (staff id only, never the PIN typed). The lock-out is
stored on the staff row, so it holds across restarts and across laptops sharing the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kiosk import audit
from kiosk.clock import Clock
from kiosk.errors import SignInError
from kiosk.i18n import _
from kiosk.models import Role, Staff
from kiosk.roles import Station, allowed_stations
from kiosk.security import verify_pin
from kiosk.uow import UnitOfWork


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    lock_for: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class StaffSession:
    """Who is signed in at a station; what the UI keeps instead of an ORM object."""

    staff_id: int
    staff_no: str
    name: str
    roles: frozenset[Role]
    branch_name: str
    signed_in_at: datetime
    stations: tuple[Station, ...] = field(default=())


def _session_for(staff: Staff, now: datetime) -> StaffSession:
    return StaffSession(
        staff_id=staff.id,
        staff_no=staff.staff_no,
        name=staff.name,
        roles=staff.role_set,
        branch_name=staff.branch.name if staff.branch else "",
        signed_in_at=now,
        stations=tuple(allowed_stations(staff.role_set)),
    )


def _local_time(at: datetime, timezone: str) -> str:
    return at.astimezone(ZoneInfo(timezone)).strftime("%H:%M")


def sign_in(
    uow: UnitOfWork,
    staff_no: str,
    pin: str,
    *,
    station: str = "",
    clock: Clock | None = None,
    policy: LockoutPolicy | None = None,
    timezone: str = "Asia/Shanghai",
) -> StaffSession:
    """Check the PIN and return the session; raise ``SignInError`` with the reason."""
    clock = clock or Clock()
    policy = policy or LockoutPolicy()
    now = clock.now()
    staff_no = staff_no.strip().upper()
    with uow:
        # Locked so that wrong PINs typed on two laptops at once both count.
        staff = uow.session.scalar(
            select(Staff).where(Staff.staff_no == staff_no).with_for_update()
        )
        if staff is None or not staff.active:
            audit.append(
                uow.session,
                at=now,
                action="sign_in_unknown",
                station=station,
                details={"staff_no": staff_no[:16]},
            )
            uow.commit()
            raise SignInError(_("No staff member has the number {no}.").format(no=staff_no))
        if staff.locked_until is not None and staff.locked_until > now:
            raise SignInError(
                _(
                    "Sign-in for {no} is locked until {time} after too many wrong PINs. "
                    "Ask a supervisor, or wait."
                ).format(no=staff_no, time=_local_time(staff.locked_until, timezone))
            )
        if not verify_pin(pin, staff.pin_hash):
            staff.failed_attempts += 1
            if staff.failed_attempts >= policy.max_failures:
                staff.failed_attempts = 0
                staff.locked_until = now + policy.lock_for
                audit.append(
                    uow.session,
                    at=now,
                    action="sign_in_locked",
                    staff_id=staff.id,
                    station=station,
                    entity="staff",
                    entity_id=staff.id,
                )
                uow.commit()
                raise SignInError(
                    _("Wrong PIN. Sign-in for {no} is now locked until {time}.").format(
                        no=staff_no, time=_local_time(staff.locked_until, timezone)
                    )
                )
            left = policy.max_failures - staff.failed_attempts
            audit.append(
                uow.session,
                at=now,
                action="sign_in_failed",
                staff_id=staff.id,
                station=station,
                entity="staff",
                entity_id=staff.id,
                details={"attempts_left": left},
            )
            uow.commit()
            raise SignInError(_("Wrong PIN. {left} attempts left.").format(left=left))
        staff.failed_attempts = 0
        staff.locked_until = None
        audit.append(
            uow.session,
            at=now,
            action="sign_in",
            staff_id=staff.id,
            station=station,
            entity="staff",
            entity_id=staff.id,
        )
        session = _session_for(staff, now)
        uow.commit()
        return session


def sign_out(
    uow: UnitOfWork, session: StaffSession, *, station: str = "", clock: Clock | None = None
) -> None:
    now = (clock or Clock()).now()
    with uow:
        audit.append(
            uow.session,
            at=now,
            action="sign_out",
            staff_id=session.staff_id,
            station=station,
            entity="staff",
            entity_id=session.staff_id,
        )
        uow.commit()


def staff_session(uow: UnitOfWork, staff_no: str, *, clock: Clock | None = None) -> StaffSession:
    """A session without a PIN, for the command line: whoever runs it already holds the
    database file. The actions it takes are audited under this staff number with station "cli".
    """
    with uow:
        staff = uow.session.scalar(select(Staff).where(Staff.staff_no == staff_no.strip().upper()))
        if staff is None or not staff.active:
            raise SignInError(_("No staff member has the number {no}.").format(no=staff_no))
        return _session_for(staff, (clock or Clock()).now())
