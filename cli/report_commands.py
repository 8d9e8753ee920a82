"""``kiosk report …``: the event reports, the settlement and the reconciliation, on the
terminal and as .xlsx or .pdf files."""

from __future__ import annotations

import argparse

from cli.common import open_database
from kiosk.errors import KioskError
from kiosk.i18n import _


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    report = commands.add_parser(
        "report", help=_("event reports, settlement and reconciliation (.xlsx or .pdf)")
    )
    report_commands = report.add_subparsers(
        dest="report_command", metavar="REPORT_COMMAND", required=True
    )
    for name, text in (
        ("summary", _("funnel, attendance by slot and branch, points, coverage, timelines")),
        ("progress", _("invitation progress per branch and RM")),
        ("rm", _("per RM: invited, arrived, governed, mobile banking, points")),
        ("merchants", _("per service and every redemption the booths reported")),
        ("unredeemed", _("slips not redeemed (names masked)")),
        ("settlement", _("redeemed slips per merchant and service (.xlsx or .pdf)")),
        ("reconciliation", _("issued, redeemed, voided, released, conflicts (.xlsx or .pdf)")),
    ):
        one = report_commands.add_parser(name, help=text)
        one.add_argument("--out", metavar="FILE", help=_("also write the report to this file"))
        one.set_defaults(func=cmd_report, report=name)
    every = report_commands.add_parser(
        "all", help=_("write every event report as .xlsx and .pdf into a folder")
    )
    every.add_argument("--dir", required=True, metavar="FOLDER")
    every.set_defaults(func=cmd_report_all)
    statements = report_commands.add_parser(
        "merchant-statements",
        help=_("write one settlement statement per merchant (PDF, to sign) into a folder"),
    )
    statements.add_argument("--dir", required=True, metavar="FOLDER")
    statements.set_defaults(func=cmd_merchant_statements)


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from printing.event_reports import (
        REPORTS,
        reconciliation_report,
        report_kind,
        settlement_report,
    )
    from printing.reports import text_of, write_report

    database = open_database(args.db)
    ok = True
    try:
        if args.report in {kind.name for kind in REPORTS}:
            report = report_kind(args.report).build(database.unit_of_work(), None)
        elif args.report == "settlement":
            report = settlement_report(database.unit_of_work())
        else:
            report, ok = reconciliation_report(database.unit_of_work())
    finally:
        database.dispose()
    many = len(report.sections) > 1
    for index, section in enumerate(report.sections):
        if many:
            print(("\n" if index else "") + f"## {section.title}")
        for row in section.rows:
            print("\t".join(text_of(v) for v in row))
    if args.out:
        path = write_report(report, Path(args.out))
        print(_("Written to {path}.").format(path=path))
    return 0 if ok else 1


def cmd_report_all(args: argparse.Namespace) -> int:
    from pathlib import Path

    from printing.event_reports import REPORTS, write_event_report

    folder = Path(args.dir)
    if not folder.is_dir():
        raise KioskError(_("The folder {folder} does not exist.").format(folder=folder))
    database = open_database(args.db)
    try:
        for kind in REPORTS:
            for path in write_event_report(kind.name, database.unit_of_work, folder):
                print(_("Written to {path}.").format(path=path))
    finally:
        database.dispose()
    return 0


def cmd_merchant_statements(args: argparse.Namespace) -> int:
    """One PDF per merchant: its services in points and yuan, the total in words, lines to
    sign (``printing.merchant_statement``)."""
    from pathlib import Path

    from printing.merchant_statement import write_merchant_statements

    database = open_database(args.db)
    try:
        paths = write_merchant_statements(database.unit_of_work, Path(args.dir))
    finally:
        database.dispose()
    for path in paths:
        print(_("Written to {path}.").format(path=path))
    return 0
