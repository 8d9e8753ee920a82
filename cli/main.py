"""The ``kiosk`` command: opens the app, and scripts everything an operator repeats.

Exit codes: 0 success, 1 failure (one plain sentence on stderr, never a traceback unless
``KIOSK_DEBUG=1``), 2 usage error. The database is chosen with ``--db URL`` or ``KIOSK_DB``,
else the per-user SQLite file. Qt is imported only to open the window, so the other commands
run on a headless machine and start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import date
from typing import TextIO
from zoneinfo import ZoneInfo

from kiosk import db as dbmod
from kiosk.demo import DEMO_PIN, DEMO_SEED, create_demo
from kiosk.errors import KioskError
from kiosk.i18n import LANGUAGES, _, set_language
from kiosk.idcard import mask_name
from kiosk.labels import queue_label
from kiosk.models import Queue
from kiosk.roles import Station, may_open
from kiosk.services import reception
from kiosk.services.auth import staff_session
from kiosk.services.events import current_event, event_overview

ENV_LANG = "KIOSK_LANG"


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("“{text}” is not a date like 2026-11-28.").format(text=text)
        ) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(
            _("“{text}” is not a positive whole number.").format(text=text)
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk",
        description=_(
            "Event-day kiosk for the loyalty-points redemption event. "
            "Without a command it opens the app."
        ),
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help=_("event database URL (default: $KIOSK_DB or {path})").format(
            path=dbmod.default_url() if not os.environ.get(dbmod.ENV_DB) else "$KIOSK_DB"
        ),
    )
    parser.add_argument(
        "--lang",
        choices=sorted(LANGUAGES),
        help=_("language of messages (default: $KIOSK_LANG or zh_CN)"),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser("demo", help=_("create (or reset) the demo event and open it"))
    demo.add_argument("--no-gui", action="store_true", help=_("do not open the window"))
    demo.add_argument(
        "--yes", "-y", action="store_true", help=_("replace an existing demo event without asking")
    )
    demo.add_argument("--seed", type=int, default=DEMO_SEED, help=_("random seed"))
    demo.add_argument("--invitees", type=_positive, default=240, help=_("number of invitees"))
    demo.add_argument("--date", type=_date, help=_("event date (default: today)"))
    demo.set_defaults(func=cmd_demo)

    init = commands.add_parser("init", help=_("create or upgrade the event database"))
    init.set_defaults(func=cmd_init)

    info = commands.add_parser("info", help=_("print the event summary with counts"))
    info.set_defaults(func=cmd_info)

    checkin = commands.add_parser(
        "checkin", help=_("check a customer in by invitation code or customer number")
    )
    checkin.add_argument("code", metavar="CODE_OR_CUSTOMER_NO")
    checkin.add_argument(
        "--staff",
        required=True,
        metavar="STAFF_NO",
        help=_("reception staff number recorded with the check-in"),
    )
    checkin.add_argument(
        "--route",
        choices=[q.value for q in Queue],
        help=_("send to this queue instead of the suggested one"),
    )
    checkin.add_argument(
        "--no-ticket", action="store_true", help=_("do not print the queue ticket")
    )
    checkin.set_defaults(func=cmd_checkin)

    slip = commands.add_parser("slip", help=_("redemption slips"))
    slip_commands = slip.add_subparsers(dest="slip_command", metavar="SLIP_COMMAND", required=True)
    verify = slip_commands.add_parser("verify", help=_("print the verdict for a slip code"))
    verify.add_argument("code")
    verify.add_argument(
        "--merchant",
        metavar="CODE",
        help=_("judge as this merchant's booth would (default: any merchant)"),
    )
    verify.add_argument("--date", type=_date, help=_("the booth's date (default: today)"))
    verify.set_defaults(func=cmd_slip_verify)
    issue = slip_commands.add_parser(
        "issue", help=_("issue a slip for a checked-in customer and write its PDF")
    )
    issue.add_argument("--customer", required=True, metavar="CUSTOMER_NO")
    issue.add_argument("--offer", required=True, metavar="CODE")
    issue.add_argument("--qty", type=_positive, default=1)
    issue.add_argument("--out", required=True, metavar="FILE.pdf")
    issue.add_argument(
        "--staff",
        required=True,
        metavar="STAFF_NO",
        help=_("activation staff number recorded with the slip"),
    )
    issue.set_defaults(func=cmd_slip_issue)
    void = slip_commands.add_parser("void", help=_("void an issued slip and release its points"))
    void.add_argument("serial", type=_positive)
    void.add_argument("--staff", required=True, metavar="STAFF_NO")
    void.add_argument("--reason", required=True)
    void.set_defaults(func=cmd_slip_void)

    app = commands.add_parser("app", help=_("open the app (the default)"))
    app.set_defaults(func=cmd_app)
    return parser


def _out(text: str = "", stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout)


def cmd_init(args: argparse.Namespace) -> int:
    database = dbmod.open_database(args.db)
    _out(
        _("Database ready: {url} (schema {rev}).").format(
            url=dbmod.describe_url(database.url), rev=dbmod.current_revision(database.engine)
        )
    )
    database.dispose()
    return 0


def _confirm(question: str) -> bool:
    if not sys.stdin or not sys.stdin.isatty():
        return False
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes", "是", "好")


def cmd_demo(args: argparse.Namespace) -> int:
    database = dbmod.open_database(args.db)
    create = True
    with database.unit_of_work() as uow:
        try:
            existing = current_event(uow.session)
        except KioskError:
            existing = None
        if existing is not None and not existing.is_demo:
            raise KioskError(
                _(
                    "This database holds the real event “{name}”; the demo never "
                    "replaces it. Use another database: kiosk --db URL demo."
                ).format(name=existing.name)
            )
        if existing is not None and not args.yes:
            create = _confirm(
                _(
                    "This database already holds a demo event. Replace it with a "
                    "fresh one (all its check-ins and slips are deleted)?"
                )
            )
            if not create:
                _out(_("Kept the existing demo event."))
    if create:
        summary = create_demo(
            database.unit_of_work(), seed=args.seed, event_date=args.date, invitees=args.invitees
        )
        _out(
            _(
                "Demo event created for {date}: {invitees} invitees from {branches} branches, "
                "{merchants} merchants, {offers} offers, {staff} staff."
            ).format(
                date=summary.event_date,
                invitees=summary.invitees,
                branches=summary.branches,
                merchants=summary.merchants,
                offers=summary.offers,
                staff=summary.staff,
            )
        )
        _out(
            _(
                "Sign in with staff number S001 (supervisor), R001 (reception), RM001 "
                "(relationship manager), A001 (activation) or M001 (merchant); every PIN is {pin}."
            ).format(pin=DEMO_PIN)
        )
    database.dispose()
    if args.no_gui:
        return 0
    return _launch(args)


def cmd_info(args: argparse.Namespace) -> int:
    database = dbmod.open_database(args.db)
    overview = event_overview(database.unit_of_work())
    database.dispose()
    zone = ZoneInfo(overview.timezone)
    demo = _(" (demo)") if overview.is_demo else ""
    _out(f"{overview.name}{demo}")
    _out(
        _("Code {code} · {date} · {venue}").format(
            code=overview.code, date=overview.event_date, venue=overview.venue
        )
    )
    _out(_("Database: {url}").format(url=dbmod.describe_url(database.url)))
    _out()
    _out(_("Slots:"))
    for slot in overview.slots:
        _out(
            "  "
            + _(
                "{label} {start}–{end}: {invited} invited, {confirmed} confirmed, "
                "capacity {capacity}"
            ).format(
                label=slot.label,
                start=slot.starts_at.astimezone(zone).strftime("%H:%M"),
                end=slot.ends_at.astimezone(zone).strftime("%H:%M"),
                invited=slot.invited,
                confirmed=slot.confirmed,
                capacity=slot.capacity,
            )
        )
    labels = {
        "invitees": _("Invitees"),
        "confirmed": _("Confirmed"),
        "customers": _("Customers"),
        "branches": _("Branches"),
        "staff": _("Staff"),
        "merchants": _("Merchants"),
        "offers": _("Offers"),
        "visits": _("Check-ins"),
        "slips": _("Slips"),
    }
    _out()
    width = max(len(v) for v in labels.values())
    for key, label in labels.items():
        _out(f"  {label:<{width}}  {overview.counts[key]:>7}")
    return 0


def cmd_checkin(args: argparse.Namespace) -> int:
    from printing.printer import Printer
    from printing.tickets import render_queue_ticket

    database = dbmod.open_database(args.db)
    staff = staff_session(database.unit_of_work(), args.staff)
    if not may_open(staff.roles, Station.RECEPTION):
        raise KioskError(_("{no} is not reception staff.").format(no=staff.staff_no))
    customer_id = reception.resolve_code(database.unit_of_work(), args.code)
    result = reception.check_in(
        database.unit_of_work(),
        customer_id,
        staff,
        route=Queue(args.route) if args.route else None,
        station="cli",
    )
    card = result.card
    zone = ZoneInfo(card.timezone)
    assert card.visit is not None
    if result.created:
        _out(
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
    else:
        _out(
            _("{name} ({no}) was already checked in at {time}: ticket {ticket}, {place}.").format(
                name=mask_name(card.hit.name),
                no=card.hit.customer_no,
                time=card.visit.checked_in_at.astimezone(zone).strftime("%H:%M"),
                ticket=result.ticket,
                place=queue_label(result.queue),
            )
        )
    if result.created and not args.no_ticket:
        printer = Printer.from_environment()
        ticket = reception.queue_ticket(database.unit_of_work(), result)
        path = render_queue_ticket(ticket, printer.path_for(f"ticket-{result.ticket}.pdf"))
        _out(printer.send(path).message)
    database.dispose()
    return 0


def cmd_slip_verify(args: argparse.Namespace) -> int:
    """Exit 0 when the slip is valid, 1 otherwise; the verdict is printed either way."""
    from kiosk.labels import verdict_label
    from kiosk.services.keys import verify_code
    from kiosk.slipcode import Verdict

    database = dbmod.open_database(args.db)
    check = verify_code(
        database.unit_of_work(), args.code, merchant_code=args.merchant, today=args.date
    )
    database.dispose()
    _out(verdict_label(check.verdict))
    payload = check.payload
    if payload is not None and check.verdict not in (Verdict.OTHER_EVENT, Verdict.UNREADABLE):
        _out(
            _(
                "Slip {serial}: {merchant} · {offer} × {quantity} · {points:,} points · "
                "redeem by {date} · {name}"
            ).format(
                serial=payload.serial,
                merchant=check.merchant_name or payload.merchant,
                offer=check.offer_name or payload.offer,
                quantity=payload.quantity,
                points=payload.points,
                date=payload.redeem_by.isoformat(),
                name=payload.masked_name,
            )
        )
    return 0 if check.verdict == Verdict.VALID else 1


def _passphrase() -> str:
    """$KIOSK_PASSPHRASE for scripts, else asked on the terminal without echo."""
    value = os.environ.get("KIOSK_PASSPHRASE")
    if value:
        return value
    if not sys.stdin or not sys.stdin.isatty():
        raise KioskError(
            _("Set KIOSK_PASSPHRASE or run on a terminal to type the event passphrase.")
        )
    import getpass

    return getpass.getpass(_("Event passphrase: "))


def cmd_slip_issue(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kiosk.services import keys
    from kiosk.services.slips import CartLine, issue_slips
    from printing.slips import SlipPrint, render_slip

    database = dbmod.open_database(args.db)
    staff = staff_session(database.unit_of_work(), args.staff)
    if not may_open(staff.roles, Station.ACTIVATION):
        raise KioskError(_("{no} is not activation staff.").format(no=staff.staff_no))
    customer_id = reception.resolve_code(database.unit_of_work(), args.customer)
    key = keys.unlock(database.unit_of_work(), _passphrase())
    slip = issue_slips(
        database.unit_of_work(),
        customer_id,
        [CartLine(args.offer, args.qty)],
        staff,
        key,
        station="cli",
    )[0]
    check = keys.verify_code(database.unit_of_work(), slip.code)
    overview = event_overview(database.unit_of_work())
    assert check.payload is not None
    path = render_slip(
        SlipPrint(
            overview.name,
            slip.serial,
            slip.code,
            slip.merchant,
            slip.offer,
            slip.quantity,
            slip.points,
            check.payload.redeem_by,
            check.payload.masked_name,
        ),
        Path(args.out),
    )
    database.dispose()
    _out(
        _(
            "Slip {serial} issued: {merchant} · {offer} × {n} · {points:,} points; PDF {path}"
        ).format(
            serial=slip.serial,
            merchant=slip.merchant,
            offer=slip.offer,
            n=slip.quantity,
            points=slip.points,
            path=path,
        )
    )
    _out(slip.code)
    return 0


def cmd_slip_void(args: argparse.Namespace) -> int:
    from kiosk.services.slips import void_slip

    database = dbmod.open_database(args.db)
    staff = staff_session(database.unit_of_work(), args.staff)
    if not may_open(staff.roles, Station.ACTIVATION):
        raise KioskError(_("{no} is not activation staff.").format(no=staff.staff_no))
    void_slip(database.unit_of_work(), args.serial, staff, reason=args.reason, station="cli")
    database.dispose()
    _out(_("Slip {serial} voided; its points are released.").format(serial=args.serial))
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    return _launch(args)


def _launch(args: argparse.Namespace) -> int:
    from ui.app import run_app

    return run_app(db_url=args.db, language=args.lang)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    language = os.environ.get(ENV_LANG, "")
    for i, arg in enumerate(argv):  # the parser's own texts need the language first
        if arg == "--lang" and i + 1 < len(argv):
            language = argv[i + 1]
        elif arg.startswith("--lang="):
            language = arg.split("=", 1)[1]
    set_language(language)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.lang:
        set_language(args.lang)
    func: Callable[[argparse.Namespace], int] = getattr(args, "func", cmd_app)
    try:
        return func(args)
    except KioskError as error:
        _out(_("kiosk: {message}").format(message=error), sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # last resort: a plain sentence, details only on request
        if os.environ.get("KIOSK_DEBUG"):
            traceback.print_exc()
        _out(
            _(
                "kiosk: unexpected error: {message}. Run again with KIOSK_DEBUG=1 for details."
            ).format(message=error),
            sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
