"""``kiosk info`` and ``kiosk event …``: the event itself, from its creation before the day to
its close after it.

The redemption gate (what a customer must have done before slips) is set here too:
``kiosk event create --requires data,mobile_banking`` sets it with the event (the bank's default
when left out); ``kiosk event requires`` shows it, ``kiosk event requires CODES --staff S001``
changes it (a supervisor; audited). ``kiosk slip issue --override-gate`` is the supervisor's
override for one customer (``cli/slip_commands.py``). ``kiosk event figures`` shows (sets, by a
supervisor, audited) the bank's whole points stock and the next event's day. ``encrypt`` and
``purge`` keep the personal data safe and then remove it once the event is over.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any
from zoneinfo import ZoneInfo

from cli.common import date_or_none, iso_date, open_as_owner, out, passphrase, points_or_none
from cli.staff import acting, add_staff, add_supervisor, approval, sign_then_dispose, signed_in
from kiosk import db as dbmod
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.permissions import Action
from kiosk.services import figure_settings, gate


def add_info(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    info = commands.add_parser("info", help=_("print the event summary with counts"))
    info.set_defaults(func=cmd_info)


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    event = commands.add_parser("event", help=_("create the event before it, close it after it"))
    event_commands = event.add_subparsers(
        dest="event_command", metavar="EVENT_COMMAND", required=True
    )
    create = event_commands.add_parser("create", help=_("create the event with its slots"))
    create.add_argument("--code", required=True, help=_("short event code, e.g. GZ2611"))
    create.add_argument("--name", required=True)
    create.add_argument("--date", required=True, type=iso_date)
    create.add_argument("--venue", default="")
    create.add_argument(
        "--slot",
        action="append",
        required=True,
        type=_slot,
        metavar="CODE,LABEL,START,END,CAPACITY",
        help=_("an arrival slot, e.g. AM,上午场,09:00,11:30,120 (repeat for more)"),
    )
    create.add_argument(
        "--catalog-url", default="", metavar="URL", help=_("where the e-catalog will be published")
    )
    _add_requires(create)
    add_staff(
        create,
        required=False,
        help=_("supervisor who creates it (not needed while the database has no staff)"),
    )
    add_supervisor(create)
    create.set_defaults(func=cmd_event_create)
    copy = event_commands.add_parser(
        "copy",
        help=_("copy a prepared event into a new, empty database (e.g. SQLite to PostgreSQL)"),
    )
    copy.add_argument("--from", dest="source", metavar="URL", help=_("default: --db"))
    copy.add_argument("--to", dest="target", required=True, metavar="URL")
    copy.set_defaults(func=cmd_event_copy)

    close = event_commands.add_parser(
        "close",
        help=_("release the points of slips not redeemed by their redeem-by date"),
    )
    add_staff(close, required=True)
    add_supervisor(close)
    close.set_defaults(func=cmd_event_close)
    encrypt = event_commands.add_parser(
        "encrypt",
        help=_("seal the phones, ID numbers and addresses still in clear (needs the passphrase)"),
    )
    add_staff(encrypt, required=False, help=_("supervisor recorded in the audit"))
    encrypt.set_defaults(func=cmd_event_encrypt)
    purge = event_commands.add_parser(
        "purge",
        help=_("remove the personal data once the event is closed and synced; figures stay"),
    )
    add_staff(purge, required=True)
    purge.set_defaults(func=cmd_event_purge)
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
    figures = event_commands.add_parser(
        "figures",
        help=_("show or set the bank's whole points stock and the next event's day"),
    )
    figures.add_argument(
        "--bank-stock",
        type=points_or_none,
        default=figure_settings.KEEP,
        metavar="POINTS",
        help=_("the bank's whole points stock, for the ratio as the bank counts it (none clears)"),
    )
    figures.add_argument(
        "--next-event",
        type=date_or_none,
        default=figure_settings.KEEP,
        metavar="DATE",
        help=_("the next event's day: points expiring before it count (none: a year on)"),
    )
    add_staff(figures, required=False, help=_("the supervisor who sets them (to change them)"))
    figures.set_defaults(func=cmd_event_figures)


def _slot(text: str) -> Any:
    """CODE,LABEL,09:00,11:30,CAPACITY"""
    from datetime import time

    from kiosk.services.imports import SlotSpec

    parts = [p.strip() for p in text.replace("，", ",").split(",")]
    try:
        code, label, starts, ends, capacity = parts
        return SlotSpec(
            code, label, time.fromisoformat(starts), time.fromisoformat(ends), int(capacity)
        )
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("“{text}” is not a slot like AM,上午场,09:00,11:30,120.").format(text=text)
        ) from None


def _requirements(text: str) -> tuple[gate.Requirement, ...]:
    try:
        return gate.parse(text)
    except KioskError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _codes_help() -> str:
    return ", ".join(f"{r.value} ({gate.requirement_label(r)})" for r in gate.Requirement)


def _add_requires(parser: argparse.ArgumentParser) -> None:
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


def _describe(required: tuple[gate.Requirement, ...]) -> str:
    if not required:
        return _("Before slips: nothing is required.")
    return _("Before slips: {steps}.").format(
        steps=gate.listing(gate.requirement_label(r) for r in required)
    )


def cmd_info(args: argparse.Namespace) -> int:
    from kiosk import privacy
    from kiosk.services.events import event_overview

    database = dbmod.open_database(args.db)
    overview = event_overview(database.unit_of_work())
    requirements = gate.requirements(database.unit_of_work())
    with database.unit_of_work() as uow:
        sealed = privacy.has_key(uow.session)
    database.dispose()
    zone = ZoneInfo(overview.timezone)
    demo = _(" (demo)") if overview.is_demo else ""
    out(f"{overview.name}{demo}")
    out(
        _("Code {code} · {date} · {venue}").format(
            code=overview.code, date=overview.event_date, venue=overview.venue
        )
    )
    out(_("Database: {url}").format(url=dbmod.describe_url(database.url)))
    out(
        _("Personal data: sealed (phones, ID numbers, addresses)")
        if sealed
        else _("Personal data: in clear; a supervisor runs kiosk event encrypt")
    )
    out(_describe(requirements))
    out()
    out(_("Slots:"))
    for slot in overview.slots:
        out(
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
    from kiosk.services.figures import Stage, stage_label

    labels = {  # the dashboard's figures, under its names
        "invitees": stage_label(Stage.INVITED),
        "confirmed": stage_label(Stage.CONFIRMED),
        "customers": _("Customers"),
        "branches": _("Branches"),
        "staff": _("Staff"),
        "merchants": _("Merchants"),
        "offers": _("Offers"),
        "visits": stage_label(Stage.ARRIVED),
        "slips": _("Slips (not voided)"),
    }
    out()
    width = max(len(v) for v in labels.values())
    for key, label in labels.items():
        out(f"  {label:<{width}}  {overview.counts[key]:>7}")
    return 0


def cmd_event_create(args: argparse.Namespace) -> int:
    from kiosk.services.imports import create_event

    secret = passphrase()  # the event's signing and privacy keys are locked with it
    database = dbmod.open_database(args.db)
    create_event(
        database.unit_of_work(),
        code=args.code,
        name=args.name,
        event_date=args.date,
        venue=args.venue,
        slots=args.slot,
        catalog_url=args.catalog_url,
        requirements=args.requires,
        passphrase=secret,
        staff=acting(database, args.staff),
        approval=approval(database, args, Action.CREATE_EVENT),
        station="cli",
    )
    database.dispose()
    out(
        _("Event “{name}” created for {date} with {n} slot(s). Next: kiosk templates DIR.").format(
            name=args.name, date=args.date, n=len(args.slot)
        )
    )
    return 0


def cmd_event_copy(args: argparse.Namespace) -> int:
    from kiosk.dbroles import stations_open
    from kiosk.eventcopy import copy_event

    source = args.source or args.db or dbmod.default_url()
    result = copy_event(
        source,
        args.target,
        progress=lambda table, n: out(
            _("  {table}: {n} rows").format(table=table, n=n), sys.stderr
        ),
    )
    copied = _(
        "Copied {rows} rows of {tables} tables from {source} to {target} in {s:.1f} s; "
        "the counts match."
    ).format(
        rows=result.total,
        tables=len(result.rows),
        source=result.source,
        target=result.target,
        s=result.seconds,
    )
    out(_("{copied} {then}").format(copied=copied, then=stations_open(args.target, result.target)))
    return 0


def cmd_event_close(args: argparse.Namespace) -> int:
    from kiosk.services.settlement import close_event

    database = open_as_owner(args.db, _("close the event"))
    staff = signed_in(database, args.staff)
    report = close_event(
        database.unit_of_work(),
        staff,
        approval=approval(database, args, Action.CLOSE_EVENT),
        station="cli",
    )
    sign_then_dispose(database, "close", staff)  # issue #26: with the releases in it
    print(
        _("{n} unredeemed slips released, {points:,} points back to the customers.").format(
            n=report.released, points=report.points
        )
    )
    if report.closed:
        print(_("The event is closed: every slip is redeemed, voided or released."))
    else:
        print(
            _("{n} slips can still be redeemed (until {date}); run close again after that.").format(
                n=report.still_open, date=report.next_redeem_by
            )
        )
    print(_("Push the releases to the ledger: kiosk sync push."))
    return 0


def cmd_event_encrypt(args: argparse.Namespace) -> int:
    from kiosk.services.personal_data import compact, encrypt_event

    database = open_as_owner(args.db, _("seal the personal data"))
    try:
        staff = acting(database, args.staff)
        report = encrypt_event(database.unit_of_work(), passphrase(), staff=staff)
        compact(database)
    finally:
        database.dispose()
    if report.key_created:
        out(_("The event's privacy key is made, locked with the event passphrase."))
    out(
        _(
            "{n} customers' phones, ID numbers and addresses sealed; {m} governance changes "
            "waiting for the ledger sealed."
        ).format(n=report.customers, m=report.outbox)
    )
    return 0


def cmd_event_purge(args: argparse.Namespace) -> int:
    from kiosk.services.personal_data import compact, purge

    database = open_as_owner(args.db, _("remove the personal data"))
    try:
        staff = acting(database, args.staff)
        assert staff is not None  # --staff is required
        report = purge(database.unit_of_work(), staff)
        compact(database)
    finally:
        database.dispose()
    out(
        _(
            "Personal data of {n} customers removed; counts, points, slips and the customer "
            "numbers stay for the reports."
        ).format(n=report.customers)
    )
    return 0


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
    print(_describe(required))
    return 0


def cmd_event_figures(args: argparse.Namespace) -> int:
    database = dbmod.open_database(args.db)
    try:
        given = {"bank_points_stock": args.bank_stock, "next_event_on": args.next_event}
        changes = {k: v for k, v in given.items() if v is not figure_settings.KEEP}  # left out
        if not changes:
            settings = figure_settings.figure_settings(database.unit_of_work())
        elif not args.staff:
            raise KioskError(_("Name the supervisor who sets them with --staff."))
        else:
            settings = figure_settings.set_figure_settings(
                database.unit_of_work(),
                signed_in(database, args.staff),
                station="cli",
                **changes,
            )
    finally:
        database.dispose()
    print("\n".join(figure_settings.describe(settings)))
    return 0
