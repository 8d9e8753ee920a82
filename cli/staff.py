"""Who acts on the command line, and the supervisor who approves on the spot.

``--staff STAFF_NO`` names who acts, and that person signs in for the one command with their
PIN, as at a station: from $KIOSK_PIN for scripts, else typed without echo; never as an
argument (it would sit in the shell history and in the process list). The PIN goes through
the sign-in service (``kiosk.services.auth.sign_in``): the same count, wait after a wrong
PIN and lock-out as the sign-in page, and the same audit records, with station "cli". A
typed staff number alone proves nothing: anyone at a terminal can type S001.
``--supervisor STAFF_NO`` gives the approval that voids, reprints, imports and the close need
from anyone but a supervisor, checked the same way with $KIOSK_SUPERVISOR_PIN or typed.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cli.common import secret
from kiosk.i18n import _

if TYPE_CHECKING:  # imported where used: a command's --help needs none of them (issue #23)
    from kiosk.db import Database
    from kiosk.permissions import Action, Approval
    from kiosk.services.auth import StaffSession

ENV_PIN = "KIOSK_PIN"
ENV_SUPERVISOR_PIN = "KIOSK_SUPERVISOR_PIN"


def add_staff(parser: argparse.ArgumentParser, *, required: bool, help: str = "") -> None:
    parser.add_argument(
        "--staff",
        required=required,
        metavar="STAFF_NO",
        help=(help or _("staff number of who acts (recorded in the audit)"))
        + " "
        + _("(PIN from $KIOSK_PIN or typed)"),
    )


def add_supervisor(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--supervisor",
        metavar="STAFF_NO",
        help=_(
            "supervisor approving on the spot when --staff is not one "
            "(PIN from $KIOSK_SUPERVISOR_PIN or typed)"
        ),
    )


def staff_pin(staff_no: str) -> str:
    """$KIOSK_PIN, else typed on the terminal without echo."""
    no = staff_no.strip().upper()
    return secret(
        ENV_PIN,
        _("PIN of {no}: ").format(no=no),
        _("Set KIOSK_PIN or run on a terminal to type the PIN of {no}.").format(no=no),
    )


def signed_in(database: Database, staff_no: str) -> StaffSession:
    """``staff_no`` signed in for this one command with their PIN (throttled, audited)."""
    from kiosk.services.audit_trail import event_timezone
    from kiosk.services.auth import sign_in

    return sign_in(
        database.unit_of_work(),
        staff_no,
        staff_pin(staff_no),
        station="cli",
        timezone=event_timezone(database.unit_of_work()),
    )


def acting(database: Database, staff_no: str | None) -> StaffSession | None:
    """Who acts, signed in with their PIN; None when no ``--staff`` was given (a database
    without staff yet: the services refuse that once the staff list is in)."""
    return signed_in(database, staff_no) if staff_no else None


def supervisor_pin() -> str:
    """$KIOSK_SUPERVISOR_PIN, else typed on the terminal without echo."""
    return secret(
        ENV_SUPERVISOR_PIN,
        _("Supervisor's PIN: "),
        _("Set KIOSK_SUPERVISOR_PIN or run on a terminal to type the supervisor's PIN."),
    )


def approval(database: Database, args: argparse.Namespace, action: Action) -> Approval | None:
    """The approval of ``--supervisor``, or None when none was named."""
    from kiosk.services.approval import approve

    supervisor = getattr(args, "supervisor", None)
    if not supervisor:
        return None
    from kiosk.services.audit_trail import event_timezone

    return approve(
        database.unit_of_work(),
        supervisor,
        supervisor_pin(),
        action=action,
        station="cli",
        timezone=event_timezone(database.unit_of_work()),
    )


def sign_then_dispose(database: Database, reason: str, staff: StaffSession) -> None:
    """Sign a checkpoint of the audit chain for ``reason`` (the close: issue #26) when the
    passphrase is at hand (else a warning), then close the database either way."""
    from cli.common import checkpoint_key, sign_checkpoint

    try:
        sign_checkpoint(database, checkpoint_key(database), reason, staff)
    finally:
        database.dispose()
