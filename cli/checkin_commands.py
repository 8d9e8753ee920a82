"""``kiosk checkin``: the reception desk's check-in, with its queue ticket."""

from __future__ import annotations

import argparse
import sys
from zoneinfo import ZoneInfo

from cli.common import add_request_id, open_database, out, request_id_of, warn
from cli.staff import add_staff, signed_in
from kiosk.i18n import _
from kiosk.models import Queue


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    checkin = commands.add_parser(
        "checkin", help=_("check a customer in by invitation code or customer number")
    )
    checkin.add_argument("code", metavar="CODE_OR_CUSTOMER_NO")
    add_staff(checkin, required=True, help=_("reception staff number recorded with the check-in"))
    checkin.add_argument(
        "--route",
        choices=[q.value for q in Queue],
        help=_("send to this queue instead of the suggested one"),
    )
    checkin.add_argument(
        "--no-ticket", action="store_true", help=_("do not print the queue ticket")
    )
    add_request_id(checkin)
    checkin.set_defaults(func=cmd_checkin)


def cmd_checkin(args: argparse.Namespace) -> int:
    """Exit 0 when the customer is checked in (now, earlier, or by this request's earlier
    try); a ticket that could not be written or printed is a warning, not a failure."""
    from kiosk.labels import queue_label
    from kiosk.masking import mask_name
    from kiosk.services import reception
    from printing.flow import print_ticket
    from printing.printer import Printer, PrintProblem

    database = open_database(args.db)
    try:
        staff = signed_in(database, args.staff)
        customer_id = reception.resolve_code(database.unit_of_work(), args.code)
        request_id = request_id_of(args)
        result = reception.check_in(
            database.unit_of_work(),
            customer_id,
            staff,
            route=Queue(args.route) if args.route else None,
            station="cli",
            request_id=request_id,
        )
        card = result.card
        zone = ZoneInfo(card.timezone)
        assert card.visit is not None
        if result.created:
            out(
                _(
                    "Checked in {name} ({no}): ticket {ticket}, go to {place}, {n} waiting ahead."
                ).format(
                    name=mask_name(card.hit.name),
                    no=card.hit.customer_no,
                    ticket=result.ticket,
                    place=queue_label(result.queue),
                    n=result.waiting_ahead,
                )
            )
            if result.replayed:
                out(
                    _(
                        "(Request {id} had already checked the customer in at {time}; nothing "
                        "was done twice.)"
                    ).format(
                        id=request_id,
                        time=card.visit.checked_in_at.astimezone(zone).strftime("%H:%M"),
                    )
                )
        else:
            out(
                _(
                    "{name} ({no}) was already checked in at {time}: ticket {ticket}, {place}."
                ).format(
                    name=mask_name(card.hit.name),
                    no=card.hit.customer_no,
                    time=card.visit.checked_in_at.astimezone(zone).strftime("%H:%M"),
                    ticket=result.ticket,
                    place=queue_label(result.queue),
                )
            )
        if result.created and not args.no_ticket:
            # The check-in stands whatever happens to its ticket from here on.
            outcome = print_ticket(database.unit_of_work, result, Printer.from_environment())
            if outcome.problem == PrintProblem.NOT_SAVED:
                warn(
                    _(
                        "The check-in is saved, but its ticket was not written: {reason} Run "
                        "the same command with --request-id {id} to write it (the customer is "
                        "not checked in twice)."
                    ).format(reason=outcome.sentence, id=request_id)
                )
            else:
                # The check-in stands (exit 0); a ticket that did not print is said apart.
                out(outcome.message, sys.stderr if outcome.failed else None)
    finally:
        database.dispose()
    return 0
