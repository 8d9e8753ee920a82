"""Who may change what: the role rule every mutating service checks before it touches data.

The stations (``kiosk.roles``) only decide what the UI shows; this table is the rule itself,
so a script, the command line or a station opened by mistake is refused the same way. A
supervisor may do everything. Some actions take points or people back (a void, an undone
check-in, a second copy of a slip) or replace data wholesale (imports, the close): those
also need a supervisor on the spot, either the signed-in staff or an ``Approval`` given by a
supervisor's own PIN (``kiosk.services.approval``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.errors import ApprovalNeeded, PermissionDenied
from kiosk.i18n import _
from kiosk.models import Role, Staff


class Actor(Protocol):
    """Who asks for an action: what the rule reads of ``kiosk.services.auth.StaffSession``.

    A protocol rather than the session class itself, so this rule, which the store floor
    beneath the services holds, never imports from the services above it."""

    @property
    def staff_id(self) -> int: ...
    @property
    def roles(self) -> frozenset[Role]: ...


class Action(enum.StrEnum):
    """Every state-changing operation a member of staff can ask a service for."""

    CHECK_IN = "check_in"
    REGISTER_WALK_IN = "register_walk_in"
    UNDO_CHECK_IN = "undo_check_in"
    CALL_QUEUE = "call_queue"  # call the next, skip, put back at the end
    TRANSFER = "transfer"
    SAVE_GOVERNANCE = "save_governance"
    OPEN_MOBILE_BANKING = "open_mobile_banking"
    ROUTE_ON = "route_on"
    RECORD_STEP = "record_step"
    FINISH_ACTIVATION = "finish_activation"
    ISSUE_SLIPS = "issue_slips"
    # Issue slips although the event's required steps are not done (``services.gate``).
    OVERRIDE_GATE = "override_gate"
    PRINT_SLIP = "print_slip"
    REPRINT_SLIP = "reprint_slip"
    VOID_SLIP = "void_slip"
    EXPORT_PACK = "export_pack"
    IMPORT_BUNDLE = "import_bundle"
    IMPORT_FILE = "import_file"
    CREATE_EVENT = "create_event"
    SET_CATALOG_URL = "set_catalog_url"
    SET_REDEEM_REQUIREMENTS = "set_redeem_requirements"
    # The bank's whole points stock and the next event's day, for the figures.
    SET_FIGURE_SETTINGS = "set_figure_settings"
    CREATE_EVENT_KEY = "create_event_key"
    CLOSE_EVENT = "close_event"
    ENCRYPT_EVENT = "encrypt_event"
    PURGE = "purge"
    REPORT_STATION = "report_station"  # a signed-in laptop's free disk space, for the dashboard
    PULL_LEDGER = "pull_ledger"  # the ledger's snapshot replaces every customer's balance
    # A customer's personal points statement: shown and printed (audited) on request.
    PRINT_STATEMENT = "print_statement"
    # Give every RM without one their personal invitation code (issue #20).
    ISSUE_INVITE_CODES = "issue_invite_codes"
    # Arrival windows (issue #20): their settings, planning them and moving a branch.
    PLAN_WINDOWS = "plan_windows"
    # A reminder sent to a customer, ticked by their RM (``services.reminding``).
    RECORD_REMINDER = "record_reminder"
    # A themed session (专场): its services and audience rule; inviting its audience.
    SET_THEME = "set_theme"
    INVITE_AUDIENCE = "invite_audience"
    # After the event (issue #21): a satisfaction call's outcome or a delivery time for a
    # redeemed slip, recorded at the service desk by an RM (``services.feedback``).
    RECORD_FEEDBACK = "record_feedback"
    # After the event (issue #21): the review thresholds, a merchant's keep / warn / exit, and
    # the approved-merchant register's export and import.
    REVIEW_MERCHANTS = "review_merchants"
    # Sign the audit chain's head with the event key (issue #26): on demand and at close.
    SIGN_CHECKPOINT = "sign_checkpoint"


R, RM, A, M = Role.RECEPTION, Role.RM, Role.ACTIVATION, Role.MERCHANT

# Besides these, a supervisor may do everything.
ALLOWED: dict[Action, frozenset[Role]] = {
    Action.CHECK_IN: frozenset({R}),
    Action.REGISTER_WALK_IN: frozenset({R}),
    Action.UNDO_CHECK_IN: frozenset({R}),
    Action.CALL_QUEUE: frozenset({RM, A}),
    Action.TRANSFER: frozenset({RM}),
    Action.SAVE_GOVERNANCE: frozenset({RM}),
    Action.OPEN_MOBILE_BANKING: frozenset({RM}),
    Action.ROUTE_ON: frozenset({RM}),
    Action.RECORD_STEP: frozenset({A}),
    Action.FINISH_ACTIVATION: frozenset({A}),
    Action.ISSUE_SLIPS: frozenset({A}),
    Action.OVERRIDE_GATE: frozenset({A}),
    Action.PRINT_SLIP: frozenset({A}),
    Action.REPRINT_SLIP: frozenset({A}),
    Action.VOID_SLIP: frozenset({A}),
    Action.EXPORT_PACK: frozenset({M}),
    Action.IMPORT_BUNDLE: frozenset({M}),
    # The branches' daily invitation reports come in through their RMs.
    Action.IMPORT_FILE: frozenset({RM}),
    Action.CREATE_EVENT: frozenset(),
    Action.SET_CATALOG_URL: frozenset(),
    Action.SET_REDEEM_REQUIREMENTS: frozenset(),
    Action.SET_FIGURE_SETTINGS: frozenset(),
    Action.CREATE_EVENT_KEY: frozenset(),
    Action.CLOSE_EVENT: frozenset(),
    Action.ENCRYPT_EVENT: frozenset(),
    Action.PURGE: frozenset(),
    Action.REPORT_STATION: frozenset({R, RM, A, M}),
    Action.PULL_LEDGER: frozenset(),
    Action.PRINT_STATEMENT: frozenset({R, A}),
    Action.ISSUE_INVITE_CODES: frozenset(),
    Action.PLAN_WINDOWS: frozenset(),
    Action.RECORD_REMINDER: frozenset({RM}),
    Action.SET_THEME: frozenset(),
    Action.INVITE_AUDIENCE: frozenset(),
    Action.RECORD_FEEDBACK: frozenset({RM}),
    Action.REVIEW_MERCHANTS: frozenset(),
    Action.SIGN_CHECKPOINT: frozenset(),
}

# Allowed to the roles above only with a supervisor's approval on the spot.
NEEDS_APPROVAL: frozenset[Action] = frozenset(
    {
        Action.UNDO_CHECK_IN,
        Action.REPRINT_SLIP,
        Action.VOID_SLIP,
        Action.OVERRIDE_GATE,
        Action.IMPORT_BUNDLE,
        Action.IMPORT_FILE,
        Action.CREATE_EVENT,
        Action.CLOSE_EVENT,
    }
)


def _refusals() -> dict[Action, Callable[[], str]]:
    """One sentence per action, built when asked so it is in the current language."""
    return {
        Action.CHECK_IN: lambda: _("Only reception staff or a supervisor check customers in."),
        Action.REGISTER_WALK_IN: lambda: _(
            "Only reception staff or a supervisor register walk-in customers."
        ),
        Action.UNDO_CHECK_IN: lambda: _("Only reception staff or a supervisor undo a check-in."),
        Action.CALL_QUEUE: lambda: _(
            "Only relationship managers, activation staff or a supervisor work a queue."
        ),
        Action.TRANSFER: lambda: _(
            "Only relationship managers or a supervisor hand a customer to another RM."
        ),
        Action.SAVE_GOVERNANCE: lambda: _(
            "Only relationship managers or a supervisor update customer information."
        ),
        Action.OPEN_MOBILE_BANKING: lambda: _(
            "Only relationship managers or a supervisor open mobile banking."
        ),
        Action.ROUTE_ON: lambda: _(
            "Only relationship managers or a supervisor send a customer on to activation."
        ),
        Action.RECORD_STEP: lambda: _(
            "Only activation staff or a supervisor record activation steps."
        ),
        Action.FINISH_ACTIVATION: lambda: _(
            "Only activation staff or a supervisor finish an activation."
        ),
        Action.ISSUE_SLIPS: lambda: _("Only activation staff or a supervisor issue slips."),
        Action.OVERRIDE_GATE: lambda: _("Only activation staff or a supervisor issue slips."),
        Action.PRINT_SLIP: lambda: _("Only activation staff or a supervisor print slips."),
        Action.REPRINT_SLIP: lambda: _("Only activation staff or a supervisor reprint slips."),
        Action.VOID_SLIP: lambda: _("Only activation staff or a supervisor void slips."),
        Action.EXPORT_PACK: lambda: _("Only merchant staff or a supervisor export merchant packs."),
        Action.IMPORT_BUNDLE: lambda: _(
            "Only merchant staff or a supervisor import redemption bundles."
        ),
        Action.IMPORT_FILE: lambda: _("Only relationship managers or a supervisor import files."),
        Action.CREATE_EVENT: lambda: _("Only a supervisor creates the event."),
        Action.SET_CATALOG_URL: lambda: _("Only a supervisor sets the e-catalog address."),
        Action.SET_REDEEM_REQUIREMENTS: lambda: _(
            "Only a supervisor sets what customers must do before slips are issued."
        ),
        Action.SET_FIGURE_SETTINGS: lambda: _(
            "Only a supervisor sets the bank's points stock and the next event's day."
        ),
        Action.CREATE_EVENT_KEY: lambda: _("Only a supervisor creates a signing key."),
        Action.CLOSE_EVENT: lambda: _("Only a supervisor closes the event."),
        Action.ENCRYPT_EVENT: lambda: _("Only a supervisor encrypts the personal data."),
        Action.PURGE: lambda: _("Only a supervisor removes the personal data."),
        Action.REPORT_STATION: lambda: _("Only signed-in event staff report a station's disk."),
        Action.PULL_LEDGER: lambda: _(
            "Only a supervisor refreshes the customers' balances from the ledger."
        ),
        Action.PRINT_STATEMENT: lambda: _(
            "Only reception staff, activation staff or a supervisor show or print a points"
            " statement."
        ),
        Action.ISSUE_INVITE_CODES: lambda: _(
            "Only a supervisor gives the RMs their invitation codes."
        ),
        Action.PLAN_WINDOWS: lambda: _("Only a supervisor plans the arrival windows."),
        Action.RECORD_REMINDER: lambda: _(
            "Only relationship managers or a supervisor record reminders sent."
        ),
        Action.SET_THEME: lambda: _("Only a supervisor defines or removes a themed session."),
        Action.INVITE_AUDIENCE: lambda: _("Only a supervisor invites a themed session's audience."),
        Action.RECORD_FEEDBACK: lambda: _(
            "Only relationship managers or a supervisor record a customer's feedback."
        ),
        Action.REVIEW_MERCHANTS: lambda: _(
            "Only a supervisor reviews merchants and keeps the approved-merchant register."
        ),
        Action.SIGN_CHECKPOINT: lambda: _(
            "Only a supervisor signs a checkpoint of the audit chain."
        ),
    }


def _approvals() -> dict[Action, Callable[[], str]]:
    return {
        Action.UNDO_CHECK_IN: lambda: _("A supervisor must approve undoing a check-in."),
        Action.REPRINT_SLIP: lambda: _("A supervisor must approve printing a slip again."),
        Action.VOID_SLIP: lambda: _("A supervisor must approve voiding a slip."),
        Action.OVERRIDE_GATE: lambda: _(
            "A supervisor must approve issuing slips before the required steps are done."
        ),
        Action.IMPORT_BUNDLE: lambda: _("A supervisor must approve importing a bundle."),
        Action.IMPORT_FILE: lambda: _("A supervisor must approve importing a file."),
        Action.CREATE_EVENT: lambda: _("A supervisor must approve creating the event."),
        Action.CLOSE_EVENT: lambda: _("A supervisor must approve closing the event."),
    }


def refusal(action: Action) -> str:
    return _refusals()[action]()


def approval_sentence(action: Action) -> str:
    """What the approval dialog asks for, and what ``ApprovalNeeded`` says."""
    return _approvals().get(action, lambda: _("A supervisor must approve this."))()


@dataclass(frozen=True)
class Approval:
    """A supervisor who typed their own PIN on the spot for one action."""

    staff_id: int
    staff_no: str
    name: str
    action: Action


def may(roles: frozenset[Role] | set[Role], action: Action) -> bool:
    return Role.SUPERVISOR in roles or bool(ALLOWED[action] & set(roles))


def require(staff: Actor | None, action: Action) -> None:
    """Raise ``PermissionDenied`` unless ``staff``'s roles allow ``action``."""
    if staff is None or not may(staff.roles, action):
        raise PermissionDenied(refusal(action))


def approved_by(staff: Actor | None, action: Action, approval: Approval | None) -> int | None:
    """Check the role, and the supervisor's approval when the action needs one; return the
    approving supervisor's staff id for the audit record (``None`` when the actor is a
    supervisor or the action needs no approval)."""
    require(staff, action)
    assert staff is not None
    if action not in NEEDS_APPROVAL or Role.SUPERVISOR in staff.roles:
        return None
    if approval is None or approval.action is not action:
        raise ApprovalNeeded(approval_sentence(action))
    if approval.staff_id == staff.staff_id:
        # Only reachable with a hand-built Approval: ``approve`` refuses non-supervisors.
        raise ApprovalNeeded(_("A supervisor other than yourself must approve this."))
    return approval.staff_id


def setting_up(session: Session) -> bool:
    """True while no staff member exists yet: the first event and the first staff list are
    created before anyone could sign in, so there is nobody to check against."""
    return session.scalar(select(Staff.id).where(Staff.active).limit(1)) is None


def approved_or_setup(
    session: Session,
    staff: Actor | None,
    action: Action,
    approval: Approval | None,
) -> int | None:
    """``approved_by``, except that nobody is asked for while the database has no staff."""
    if staff is None and setting_up(session):
        return None
    return approved_by(staff, action, approval)
