"""``kiosk statement``: a customer's personal points statement (个人积分说明) as a PDF."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.common import open_database, out
from cli.staff import add_staff, signed_in
from kiosk.i18n import _

PAPERS = ("80mm", "a4", "a5")


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    statement = commands.add_parser(
        "statement", help=_("write a customer's personal points statement as a PDF")
    )
    statement.add_argument("customer_no", metavar="CUSTOMER_NO")
    statement.add_argument("--out", required=True, metavar="FILE.pdf")
    statement.add_argument(
        "--paper",
        choices=PAPERS,
        default="80mm",
        help=_("80mm (thermal roll, the default), a4 or a5"),
    )
    add_staff(statement, required=True, help=_("reception or activation staff number"))
    statement.set_defaults(func=cmd_statement)


def cmd_statement(args: argparse.Namespace) -> int:
    """Exit 0 when the PDF is written (and the print audited); 1 with a sentence when the
    customer is unknown, the role may not, or the file could not be written."""
    from kiosk.services.statement import customer_id_for
    from printing.flow import print_statement
    from printing.paper import StatementPaper

    database = open_database(args.db)
    try:
        staff = signed_in(database, args.staff)
        customer_id = customer_id_for(database.unit_of_work(), args.customer_no)
        outcome = print_statement(
            database.unit_of_work,
            customer_id,
            staff,
            Path(args.out),
            paper=StatementPaper(args.paper),
            station="cli",
        )
    finally:
        database.dispose()
    if outcome.failed:
        out(outcome.message, sys.stderr)
        return 1
    out(outcome.message)
    return 0
