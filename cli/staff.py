"""Who acts on the command line, and the supervisor who approves on the spot.

``--staff STAFF_NO`` names who acts (audited with station "cli"; whoever runs the command
already holds the database, so no PIN). ``--supervisor STAFF_NO`` gives the approval that
voids, reprints, imports and the close need from anyone but a supervisor: that one is
checked with the supervisor's PIN, from $KIOSK_SUPERVISOR_PIN for scripts or typed without
echo, never as an argument (it would sit in the shell history).
"""

from __future__ import annotations

import argparse
import os
import sys

from kiosk import db as dbmod
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.permissions import Action, Approval
from kiosk.services.auth import StaffSession, staff_session

ENV_SUPERVISOR_PIN = "KIOSK_SUPERVISOR_PIN"


def add_staff(parser: argparse.ArgumentParser, *, required: bool, help: str = "") -> None:
    parser.add_argument(
        "--staff",
        required=required,
        metavar="STAFF_NO",
        help=help or _("staff number of who acts (recorded in the audit)"),
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


def acting(database: dbmod.Database, staff_no: str | None) -> StaffSession | None:
    return staff_session(database.unit_of_work(), staff_no) if staff_no else None


def supervisor_pin() -> str:
    value = os.environ.get(ENV_SUPERVISOR_PIN)
    if value:
        return value
    if not sys.stdin or not sys.stdin.isatty():
        raise KioskError(
            _("Set KIOSK_SUPERVISOR_PIN or run on a terminal to type the supervisor's PIN.")
        )
    import getpass

    return getpass.getpass(_("Supervisor's PIN: "))


def approval(database: dbmod.Database, args: argparse.Namespace, action: Action) -> Approval | None:
    """The approval of ``--supervisor``, or None when none was named."""
    from kiosk.services.approval import approve

    supervisor = getattr(args, "supervisor", None)
    if not supervisor:
        return None
    return approve(
        database.unit_of_work(), supervisor, supervisor_pin(), action=action, station="cli"
    )
