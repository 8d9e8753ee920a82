"""Staff sign-in: staff number and PIN, throttled after a wrong PIN, locked after repeated ones.

Failures and lock-outs are audited (staff id only, never the PIN typed). The count and the
lock-out are stored on the staff row, so they hold across restarts and across laptops sharing
the database; the throttle's clock is the audit record of the last failure, so it needs no
column of its own. A supervisor's on-the-spot approval (``kiosk.services.approval``) checks
the PIN with the same code, so guessing a supervisor's PIN there is no cheaper than here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from kiosk import audit
from kiosk.changeset import NOTHING, Changes
from kiosk.clock import Clock
from kiosk.errors import SignInError, SignInThrottled
from kiosk.i18n import _
from kiosk.models import AuditRecord, Role, Staff
from kiosk.roles import Station, allowed_stations
from kiosk.security import verify_pin
from kiosk.uow import UnitOfWork

FAILED_ACTIONS = ("sign_in_failed", "approval_failed")
LOCKED_ACTIONS = ("sign_in_locked", "approval_locked")


@dataclass(frozen=True)
class LockoutPolicy:
    """After a wrong PIN the next try waits ``first_wait`` doubling up to ``max_wait``; after
    ``max_failures`` in a row the number is locked for ``lock_for``, doubled for every earlier
    lock-out the same (local) day up to ``max_lock``: slow enough that guessing a 4-digit PIN
    takes days, short enough that a clerk who mistypes twice is not held up."""

    max_failures: int = 5
    lock_for: timedelta = timedelta(minutes=5)
    max_lock: timedelta = timedelta(hours=1)
    first_wait: timedelta = timedelta(seconds=1)
    max_wait: timedelta = timedelta(seconds=8)

    def wait_after(self, failures: int) -> timedelta:
        """How long the next try waits after ``failures`` wrong PINs in a row."""
        if failures <= 0:
            return timedelta(0)
        return min(self.first_wait * 2 ** (failures - 1), self.max_wait)

    def lock_after(self, earlier_lockouts: int) -> timedelta:
        return min(self.lock_for * 2**earlier_lockouts, self.max_lock)


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


def _aware(at: datetime) -> datetime:
    """SQLite may hand datetimes back naive; they were stored as UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _local_midnight(now: datetime, timezone: str) -> datetime:
    zone = ZoneInfo(timezone)
    return datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)


def check_pin(
    uow: UnitOfWork,
    staff_no: str,
    pin: str,
    *,
    now: datetime,
    station: str = "",
    policy: LockoutPolicy | None = None,
    timezone: str = "Asia/Shanghai",
    purpose: str = "sign_in",
    details: dict[str, str] | None = None,
) -> Staff:
    """The staff row whose PIN this is, locked for update in ``uow``'s open transaction; or
    raise ``SignInError`` after counting, throttling, locking and auditing the failure.

    ``purpose`` prefixes the audit actions ("sign_in" or "approval") so the record says which
    screen the PIN was typed on; failures of both count towards the same lock-out.
    """
    policy = policy or LockoutPolicy()
    staff_no = staff_no.strip().upper()
    # Locked so that wrong PINs typed on two laptops at once both count. FOR NO KEY UPDATE
    # (key_share), not FOR UPDATE: another station holding the audit chain's lock inserts
    # audit records naming this staff member, and their foreign-key check (FOR KEY SHARE)
    # must not wait for this row while this transaction waits for the chain: a deadlock.
    staff = uow.session.scalar(
        select(Staff).where(Staff.staff_no == staff_no).with_for_update(key_share=True)
    )
    if staff is None or not staff.active:
        audit.append(
            uow.session,
            at=now,
            action=f"{purpose}_unknown",
            station=station,
            details={"staff_no": staff_no[:16], **(details or {})},
        )
        uow.commit()
        raise SignInError(_("No staff member has the number {no}.").format(no=staff_no))
    if staff.locked_until is not None and _aware(staff.locked_until) > now:
        raise SignInError(
            _(
                "Sign-in for {no} is locked until {time} after too many wrong PINs. "
                "Ask a supervisor, or wait."
            ).format(no=staff_no, time=_local_time(_aware(staff.locked_until), timezone))
        )
    if staff.failed_attempts > 0:
        last = uow.session.scalar(
            select(func.max(AuditRecord.at)).where(
                AuditRecord.staff_id == staff.id, AuditRecord.action.in_(FAILED_ACTIONS)
            )
        )
        if last is not None:
            ready = _aware(last) + policy.wait_after(staff.failed_attempts)
            if ready > now:
                seconds = max(1, int((ready - now).total_seconds() + 0.999))
                raise SignInThrottled(
                    _("Too quick after a wrong PIN: wait {seconds} s and try again.").format(
                        seconds=seconds
                    ),
                    wait_s=seconds,
                )
    if not verify_pin(pin, staff.pin_hash):
        staff.failed_attempts += 1
        if staff.failed_attempts >= policy.max_failures:
            earlier = uow.session.scalar(
                select(func.count(AuditRecord.id)).where(
                    AuditRecord.staff_id == staff.id,
                    AuditRecord.action.in_(LOCKED_ACTIONS),
                    AuditRecord.at >= _local_midnight(now, timezone),
                )
            )
            staff.failed_attempts = 0
            staff.locked_until = now + policy.lock_after(earlier or 0)
            audit.append(
                uow.session,
                at=now,
                action=f"{purpose}_locked",
                staff_id=staff.id,
                station=station,
                entity="staff",
                entity_id=staff.id,
                details={"minutes": int(policy.lock_after(earlier or 0).total_seconds() // 60)},
            )
            uow.commit()
            raise SignInError(
                _("Wrong PIN. Sign-in for {no} is now locked until {time}.").format(
                    no=staff_no, time=_local_time(staff.locked_until, timezone)
                )
            )
        left = policy.max_failures - staff.failed_attempts
        wait = int(policy.wait_after(staff.failed_attempts).total_seconds())
        audit.append(
            uow.session,
            at=now,
            action=f"{purpose}_failed",
            staff_id=staff.id,
            station=station,
            entity="staff",
            entity_id=staff.id,
            details={"attempts_left": left, **(details or {})},
        )
        uow.commit()
        raise SignInThrottled(
            _("Wrong PIN. {left} attempts left; the next in {seconds} s.").format(
                left=left, seconds=wait
            ),
            wait_s=wait,
        )
    staff.failed_attempts = 0
    staff.locked_until = None
    return staff


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
    now = (clock or Clock()).now()
    with uow:
        staff = check_pin(
            uow, staff_no, pin, now=now, station=station, policy=policy, timezone=timezone
        )
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
) -> Changes:
    """Audit the sign-out; it changes nothing a station shows."""
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
        return NOTHING


def staff_session(uow: UnitOfWork, staff_no: str, *, clock: Clock | None = None) -> StaffSession:
    """A session without a PIN, for code that already knows who acts: the demo-day simulation,
    benchmarks and test set-up. Never for a person: the command line signs ``--staff`` in with
    their PIN through ``sign_in`` (``cli/staff.py``), because a typed staff number proves
    nothing."""
    with uow:
        staff = uow.session.scalar(select(Staff).where(Staff.staff_no == staff_no.strip().upper()))
        if staff is None or not staff.active:
            raise SignInError(_("No staff member has the number {no}.").format(no=staff_no))
        return _session_for(staff, (clock or Clock()).now())
