"""``kiosk rm …``: the RMs' personal invitation codes, their posters, and the bank's call rule
the progress report checks (issue #20)."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.common import open_database, out, points_or_none
from cli.staff import add_staff, signed_in
from kiosk.errors import KioskError
from kiosk.i18n import _


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    rm = commands.add_parser(
        "rm", help=_("the RMs' invitation codes and posters, and the call rule")
    )
    rm_commands = rm.add_subparsers(dest="rm_command", metavar="RM_COMMAND", required=True)
    codes = rm_commands.add_parser(
        "codes",
        help=_("list every RM's invitation code and link; with --staff, give the missing ones"),
    )
    add_staff(codes, required=False, help=_("the supervisor who gives the missing codes"))
    codes.set_defaults(func=cmd_rm_codes)
    posters = rm_commands.add_parser(
        "posters", help=_("write every RM's A4 invitation poster (PDF) into a folder")
    )
    posters.add_argument("folder", metavar="FOLDER", type=Path)
    posters.set_defaults(func=cmd_rm_posters)
    floor = rm_commands.add_parser(
        "call-floor",
        help=_("show or set the call rule: every invitee with this many points is called"),
    )
    floor.add_argument("points", nargs="?", metavar="POINTS|none")
    add_staff(floor, required=False, help=_("the supervisor who sets it (to change it)"))
    floor.set_defaults(func=cmd_rm_call_floor)


def cmd_rm_codes(args: argparse.Namespace) -> int:
    from kiosk.services import rm_codes

    database = open_database(args.db)
    try:
        if args.staff:
            given = rm_codes.issue(
                database.unit_of_work(), signed_in(database, args.staff), station="cli"
            )
            out(_("{n} RM(s) got a code.").format(n=len(given)))
        codes = rm_codes.rm_codes(database.unit_of_work())
    finally:
        database.dispose()
    for rm in codes.rms:
        out(f"{rm.branch}\t{rm.staff_no}\t{rm.name}\t{rm.code or '-'}\t{rm.link}")
    if codes.missing:
        out(
            _("{n} RM(s) have no code yet: kiosk rm codes --staff SUPERVISOR.").format(
                n=len(codes.missing)
            )
        )
    return 0


def cmd_rm_posters(args: argparse.Namespace) -> int:
    from kiosk.services import rm_codes
    from printing.posters import write_posters

    database = open_database(args.db)
    try:
        codes = rm_codes.rm_codes(database.unit_of_work())
    finally:
        database.dispose()
    written = write_posters(codes, args.folder)
    out(_("{n} posters written to {folder}.").format(n=len(written) - 1, folder=args.folder))
    if not codes.catalog_url:
        out(
            _(
                "No catalog address is set: the QR codes carry the code alone "
                "(set the address in Administration, Booklet tab)."
            )
        )
    return 0


def cmd_rm_call_floor(args: argparse.Namespace) -> int:
    from kiosk.services import figure_settings

    database = open_database(args.db)
    try:
        if args.points is None:
            settings = figure_settings.figure_settings(database.unit_of_work())
        elif not args.staff:
            raise KioskError(_("Name the supervisor who sets it with --staff."))
        else:
            try:
                points = points_or_none(args.points)
            except argparse.ArgumentTypeError as error:
                raise KioskError(str(error)) from None
            settings = figure_settings.set_figure_settings(
                database.unit_of_work(),
                signed_in(database, args.staff),
                call_points_floor=points,
                station="cli",
            )
    finally:
        database.dispose()
    out(figure_settings.describe_call_rule(settings))
    return 0
