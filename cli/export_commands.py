"""``kiosk export …`` and ``kiosk booklet``: what the RMs and the customers get before the
day (invitation progress, slot reminders, the catalog booklet and e-catalog), and after it
(the RMs' follow-up workbooks)."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.common import open_database, out, passphrase, writable
from kiosk.errors import KioskError
from kiosk.i18n import _


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    export = commands.add_parser(
        "export", help=_("export invitation progress or the slot reminders for the RMs")
    )
    export_commands = export.add_subparsers(
        dest="export_command", metavar="EXPORT_COMMAND", required=True
    )
    progress = export_commands.add_parser(
        "progress", help=_("invitation progress per branch and per RM (.xlsx)")
    )
    progress.add_argument("file", metavar="FILE.xlsx", type=Path)
    progress.set_defaults(func=cmd_export_progress)
    reminders = export_commands.add_parser(
        "reminders",
        help=_("a reminder per confirmed customer, grouped per RM (.xlsx or .txt)"),
    )
    reminders.add_argument("file", metavar="FILE", type=Path)
    reminders.add_argument(
        "--full-phones",
        action="store_true",
        help=_("full phone numbers for the RMs to call (needs the event passphrase)"),
    )
    reminders.set_defaults(func=cmd_export_reminders)
    calls = export_commands.add_parser(
        "calls",
        help=_("the satisfaction call list: redeemed slips to call, masked (.xlsx)"),
    )
    calls.add_argument("file", metavar="FILE.xlsx", type=Path)
    calls.add_argument(
        "--all", action="store_true", help=_("also the slips already called (with a score)")
    )
    calls.set_defaults(func=cmd_export_calls)
    followup = export_commands.add_parser(
        "followup",
        help=_("after the event: one follow-up workbook per RM (.xlsx) into a folder"),
    )
    followup.add_argument("directory", metavar="DIR", type=Path)
    followup.set_defaults(func=cmd_export_followup)

    booklet = commands.add_parser(
        "booklet", help=_("write the printable catalog booklet (PDF) and the HTML e-catalog")
    )
    booklet.add_argument("--out", required=True, metavar="FILE.pdf", type=Path)
    booklet.add_argument("--html", metavar="FILE.html", type=Path)
    booklet.add_argument("--paper", choices=["a4", "a5"], default="a4")
    booklet.add_argument(
        "--theme", metavar="CODE", help=_("a themed session's booklet: its services only")
    )
    booklet.set_defaults(func=cmd_booklet)


def cmd_export_progress(args: argparse.Namespace) -> int:
    from kiosk.services.tracking import progress
    from printing.invitations import percent_text, write_progress

    writable(args.file)
    database = open_database(args.db)
    try:
        figures = progress(database.unit_of_work())
    finally:
        database.dispose()
    for row in [*figures.branches, figures.total]:
        out(
            _(
                "{branch}: {invited} invited, {reached} reached, {confirmed} confirmed{target}"
            ).format(
                branch=f"{row.code} {row.name}" if row.code else _("Total"),
                invited=row.invited,
                reached=row.reached,
                confirmed=row.confirmed,
                target=_(" of {target} ({percent})").format(
                    target=row.target, percent=percent_text(row)
                )
                if row.target
                else "",
            )
        )
    if figures.coverage is not None:
        from printing.invitations import call_rule_text

        out(call_rule_text(figures.coverage))
    out(_("Written to {path}.").format(path=write_progress(figures, args.file)))
    return 0


def cmd_export_reminders(args: argparse.Namespace) -> int:
    from kiosk.services.arrival import arrival_plan
    from kiosk.services.reminding import rm_reminder_figures
    from kiosk.services.tracking import reminders, slot_load
    from printing.invitations import write_reminders

    writable(args.file)
    database = open_database(args.db)
    try:
        opener = None
        if args.full_phones:
            from kiosk import privacy

            opener = privacy.unlock(database.unit_of_work(), passphrase())
        texts = reminders(database.unit_of_work(), opener)
        load = slot_load(database.unit_of_work())
        figures = rm_reminder_figures(database.unit_of_work())
        plan = arrival_plan(database.unit_of_work())
    finally:
        database.dispose()
    path = write_reminders(texts, load, args.file, figures, plan)
    for code, label, capacity in load.slots:
        out(
            _("{slot}: {n} confirmed customers ({people} with companions) of {capacity}").format(
                slot=label,
                n=load.total(code),
                people=load.total_people(code),
                capacity=capacity,
            )
        )
    out(_("{n} reminders written to {path}.").format(n=len(texts), path=path))
    return 0


def cmd_export_calls(args: argparse.Namespace) -> int:
    """The call list; filled in, it comes back with ``kiosk import feedback FILE``."""
    from kiosk.services.events import event_overview
    from kiosk.services.feedback import call_list
    from printing.calls import write_call_list

    writable(args.file)
    database = open_database(args.db)
    try:
        rows = call_list(database.unit_of_work(), include_called=args.all)
        timezone = event_overview(database.unit_of_work()).timezone
    finally:
        database.dispose()
    path = write_call_list(rows, args.file, timezone)
    out(_("{n} redeemed slips to call written to {path}.").format(n=len(rows), path=path))
    return 0


def cmd_export_followup(args: argparse.Namespace) -> int:
    """One workbook per RM, and the counts per RM and group on the screen."""
    from kiosk.services.followup import STAGES, followup_lists, stage_label
    from printing.followup import write_followup

    database = open_database(args.db)
    try:
        lists = followup_lists(database.unit_of_work())
    finally:
        database.dispose()
    if not lists.rms:
        raise KioskError(_("Nobody is on a follow-up list: the event has no invitees yet."))
    paths = write_followup(lists.rms, args.directory, lists.event_date)
    for rm, path in zip(lists.rms, paths, strict=True):
        counts = "、".join(
            f"{stage_label(stage)} {rm.count(stage)}" for stage in STAGES if rm.count(stage)
        )
        out(
            _("{rm}: {n} customers ({groups}) -> {file}").format(
                rm=f"{rm.rm_no} {rm.rm_name}" if rm.rm_no else _("(no RM)"),
                n=rm.customers,
                groups=counts,
                file=path.name,
            )
        )
    out(_("{n} follow-up workbooks written to {path}.").format(n=len(paths), path=args.directory))
    return 0


def cmd_booklet(args: argparse.Namespace) -> int:
    from kiosk.services.tracking import booklet
    from printing.booklet import BookletPaper, render_booklet, render_html

    for path in (args.out, args.html):
        if path is not None:
            writable(path)
    database = open_database(args.db)
    try:
        content = booklet(database.unit_of_work(), args.theme)
    finally:
        database.dispose()
    if not content.offers:
        raise KioskError(_("The catalog is empty: kiosk import catalog FILE first."))
    out(
        _("Written to {path}.").format(
            path=render_booklet(content, args.out, BookletPaper(args.paper))
        )
    )
    if args.html is not None:
        out(_("Written to {path}.").format(path=render_html(content, args.html)))
    if not content.catalog_url:
        out(
            _(
                "No catalog address is set: the QR codes name each service instead of "
                "linking to the e-catalog."
            )
        )
    return 0
