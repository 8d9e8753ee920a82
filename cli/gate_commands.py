"""The redemption gate on the command line: what an event requires before slips.

``kiosk event create --requires data,mobile_banking`` sets it with the event (the bank's
default when left out); ``kiosk event requires`` shows it, ``kiosk event requires CODES
--staff S001`` changes it (a supervisor; audited). ``kiosk slip issue --override-gate``
is the supervisor's override for one customer (``cli/main.py``).
"""

from __future__ import annotations

import argparse
from typing import Any

from cli.staff import add_staff, signed_in
from kiosk import db as dbmod
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.services import gate


def _requirements(text: str) -> tuple[gate.Requirement, ...]:
    try:
        return gate.parse(text)
    except KioskError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _codes_help() -> str:
    return ", ".join(f"{r.value} ({gate.requirement_label(r)})" for r in gate.Requirement)


def add_requires(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--requires",
        type=_requirements,
        default=gate.DEFAULT_REQUIREMENTS,
        metavar="CODES",
        help=_(
            "what a customer must have done before slips, comma-separated, or none "
            "(default: data,mobile_banking): {codes}"
        ).format(codes=_codes_help()),
    )


def add_event_commands(event_commands: Any) -> None:
    requires = event_commands.add_parser(
        "requires",
        help=_("show or set what a customer must have done before slips are issued"),
    )
    requires.add_argument(
        "codes",
        nargs="?",
        type=_requirements,
        metavar="CODES",
        help=_("comma-separated, or none: {codes}").format(codes=_codes_help()),
    )
    add_staff(requires, required=False, help=_("the supervisor who sets it (to change it)"))
    requires.set_defaults(func=cmd_event_requires)


def describe(required: tuple[gate.Requirement, ...]) -> str:
    if not required:
        return _("Before slips: nothing is required.")
    return _("Before slips: {steps}.").format(
        steps=gate.listing(gate.requirement_label(r) for r in required)
    )


def cmd_event_requires(args: argparse.Namespace) -> int:
    database = dbmod.open_database(args.db)
    try:
        if args.codes is None:
            required = gate.requirements(database.unit_of_work())
        else:
            if not args.staff:
                raise KioskError(_("Name the supervisor who sets it with --staff."))
            required = gate.set_requirements(
                database.unit_of_work(),
                args.codes,
                signed_in(database, args.staff),
                station="cli",
            )
    finally:
        database.dispose()
    print(describe(required))
    return 0
