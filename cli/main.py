"""The ``kiosk`` command: opens the app, and scripts everything an operator repeats.

Exit codes: 0 the action was done (a warning line on stderr for what only partly worked,
e.g. a ticket that could not be written), 1 nothing was done (one plain sentence on stderr,
never a traceback unless ``KIOSK_DEBUG=1``), 2 usage error, 3 not known whether it was done
(repeat with the printed ``--request-id``: it acts at most once). The database is chosen
with ``--db URL`` or ``KIOSK_DB``, else the per-user SQLite file. Qt is imported only to
open the window, so the other commands run on a headless machine and start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from zoneinfo import ZoneInfo

from cli.staff import acting, add_staff, add_supervisor, approval, signed_in
from kiosk import db as dbmod
from kiosk import idempotency, privacy, storage
from kiosk.demo import DEMO_PIN, DEMO_SEED, create_demo
from kiosk.errors import KioskError, OutcomeUnknown
from kiosk.files import write_atomic
from kiosk.i18n import LANGUAGES, _, sentences, set_language
from kiosk.labels import queue_label
from kiosk.masking import mask_name
from kiosk.models import Queue
from kiosk.permissions import Action, Approval
from kiosk.services import gate, reception
from kiosk.services.auth import StaffSession
from kiosk.services.events import current_event, event_overview
from kiosk.storage import file_error

if TYPE_CHECKING:
    from printing.paper import Paper

ENV_LANG = "KIOSK_LANG"
# The action may or may not have been done (the COMMIT was cut off and the database could not
# be asked): run it again with the printed --request-id, which acts at most once.
EXIT_UNKNOWN = 3


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


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(_("“{text}” is not a positive number.").format(text=text))
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
    demo.add_argument(
        "--simulate",
        action="store_true",
        help=_(
            "play a whole demo day through the stations' services (arrivals, desks, slips, "
            "booth redemptions) on a simulated clock"
        ),
    )
    demo.add_argument(
        "--speed",
        type=_positive_float,
        metavar="N",
        help=_(
            "with --simulate: play the day N times faster than real time, so the dashboard "
            "can watch it (default: as fast as possible)"
        ),
    )
    demo.add_argument(
        "--booth-dir",
        type=Path,
        metavar="FOLDER",
        help=_(
            "with --simulate: keep the merchant booths' database files here "
            "(default: a temporary folder)"
        ),
    )
    demo.set_defaults(func=cmd_demo)

    init = commands.add_parser("init", help=_("create or upgrade the event database"))
    init.set_defaults(func=cmd_init)

    dbcmd = commands.add_parser("db", help=_("the event database on the venue LAN"))
    db_commands = dbcmd.add_subparsers(dest="db_command", metavar="DB_COMMAND", required=True)
    serve = db_commands.add_parser(
        "serve-help",
        help=_("print how to run the event database on PostgreSQL for several laptops"),
    )
    serve.add_argument(
        "--host", metavar="ADDRESS", help=_("the server's LAN address (default: this machine's)")
    )
    serve.add_argument(
        "--subnet", metavar="CIDR", help=_("the stations' subnet (default: the host's /24)")
    )
    serve.add_argument("--name", default="kiosk_event", help=_("database name"))
    serve.add_argument("--user", default="kiosk", help=_("database role"))
    serve.add_argument("--password", help=_("the role's password (default: a fresh random one)"))
    serve.set_defaults(func=cmd_db_serve_help)

    info = commands.add_parser("info", help=_("print the event summary with counts"))
    info.set_defaults(func=cmd_info)

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
    _add_request_id(checkin)
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
    add_staff(issue, required=True, help=_("activation staff number recorded with the slip"))
    _add_request_id(issue)
    issue.add_argument(
        "--override-gate",
        action="store_true",
        help=_(
            "issue although the customer has not done the steps the event requires "
            "(a supervisor approves: --supervisor, unless --staff is one; audited)"
        ),
    )
    add_supervisor(issue)
    issue.set_defaults(func=cmd_slip_issue)
    again = slip_commands.add_parser(
        "print", help=_("write the PDF of an issued slip again (counted as another copy)")
    )
    again.add_argument("serial", type=_positive)
    again.add_argument("--out", required=True, metavar="FILE.pdf")
    add_staff(again, required=True)
    add_supervisor(again)
    again.set_defaults(func=cmd_slip_print)
    void = slip_commands.add_parser("void", help=_("void an issued slip and release its points"))
    void.add_argument("serial", type=_positive)
    add_staff(void, required=True)
    void.add_argument("--reason", required=True)
    add_supervisor(void)
    void.set_defaults(func=cmd_slip_void)

    event_commands = _add_before_event_commands(commands)
    from cli import sync_commands

    sync_commands.add_parsers(commands)
    sync_commands.add_close_and_reports(commands, event_commands)
    from cli import data_commands

    data_commands.add_event_commands(event_commands)
    from cli import gate_commands

    gate_commands.add_event_commands(event_commands)
    data_commands.add_parsers(commands)
    from cli import audit_commands

    audit_commands.add_parsers(commands)
    pack = commands.add_parser("merchant-pack", help=_("merchant packs for the booths"))
    pack_commands = pack.add_subparsers(dest="pack_command", metavar="PACK_COMMAND", required=True)
    pack_export = pack_commands.add_parser(
        "export", help=_("write the signed pack a merchant's booths install")
    )
    pack_export.add_argument("--merchant", required=True, metavar="CODE")
    pack_export.add_argument("--out", required=True, metavar="FILE")
    add_staff(pack_export, required=True, help=_("merchant staff or supervisor who exports it"))
    pack_export.set_defaults(func=cmd_pack_export)

    booth = commands.add_parser(
        "booth",
        help=_("the merchant booth (offline); without a command it opens the booth window"),
    )
    booth.add_argument(
        "--booth-db",
        metavar="PATH",
        help=_("the booth's own database file (default: $KIOSK_BOOTH_DB or {path})").format(
            path=default_booth_path_text()
        ),
    )
    booth.set_defaults(func=cmd_booth_window)
    booth_commands = booth.add_subparsers(dest="booth_command", metavar="BOOTH_COMMAND")
    install = booth_commands.add_parser(
        "install", help=_("install a merchant pack or a revocation update")
    )
    install.add_argument("file", metavar="FILE")
    install.set_defaults(func=cmd_booth_install)
    scan = booth_commands.add_parser(
        "scan", help=_("judge a slip code and redeem it when valid (exit 0 only when redeemed)")
    )
    scan.add_argument("code")
    scan.add_argument("--staff", default="", metavar="NAME", help=_("who serves the customer"))
    scan.add_argument(
        "--check", action="store_true", help=_("only show the verdict, do not redeem")
    )
    _add_request_id(scan)
    scan.set_defaults(func=cmd_booth_scan)
    booth_list = booth_commands.add_parser("list", help=_("today's redemptions with totals"))
    booth_list.set_defaults(func=cmd_booth_list)
    booth_export = booth_commands.add_parser(
        "export", help=_("write the signed redemption bundle (e.g. to a USB stick)")
    )
    booth_export.add_argument("file", metavar="FILE")
    booth_export.set_defaults(func=cmd_booth_export)
    push = booth_commands.add_parser(
        "push", help=_("send the redemptions to the event database over the LAN")
    )
    push.add_argument(
        "--db", dest="event_db", metavar="URL", help=_("event database URL (default: --db)")
    )
    push.set_defaults(func=cmd_booth_push)
    connect = booth_commands.add_parser(
        "connect",
        help=_("work online: check and record every redemption in the event database"),
    )
    connect.add_argument("url", nargs="?", metavar="URL", help=_("the event database URL"))
    connect.add_argument(
        "--off", action="store_true", help=_("work offline again (forget the URL)")
    )
    connect.set_defaults(func=cmd_booth_connect)

    bundle = commands.add_parser("bundle", help=_("redemption bundles from the booths"))
    bundle_commands = bundle.add_subparsers(
        dest="bundle_command", metavar="BUNDLE_COMMAND", required=True
    )
    bundle_import = bundle_commands.add_parser(
        "import", help=_("import a booth's redemption bundle (importing twice adds nothing)")
    )
    bundle_import.add_argument("file", metavar="FILE")
    add_staff(bundle_import, required=True, help=_("merchant staff or supervisor who imports it"))
    add_supervisor(bundle_import)
    bundle_import.set_defaults(func=cmd_bundle_import)

    app = commands.add_parser("app", help=_("open the app (the default)"))
    app.set_defaults(func=cmd_app)
    return parser


def _add_request_id(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--request-id",
        metavar="ID",
        help=_(
            "repeat an earlier try of this same command: it is done at most once, and a try "
            "that went through is answered as it was (default: a new id, printed first)"
        ),
    )


def _request_id(args: argparse.Namespace) -> str:
    """The command's request id, printed before it acts: whatever happens next, running the
    same command again with it cannot do the action twice."""
    request_id = (
        idempotency.checked(args.request_id) if args.request_id else idempotency.new_request_id()
    )
    _out(
        _("Request {id} (to repeat this command safely: --request-id {id})").format(id=request_id),
        sys.stderr,
    )
    return request_id


def _warn(text: str) -> None:
    """What only partly worked, after the action itself was done (exit status stays 0)."""
    _out(_("kiosk: warning: {message}").format(message=text), sys.stderr)


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


def _add_before_event_commands(commands: Any) -> Any:
    """Setting up the event before the day: event, templates, imports, exports."""
    from kiosk.imports import ORDER

    event = commands.add_parser("event", help=_("create the event before it, close it after it"))
    event_commands = event.add_subparsers(
        dest="event_command", metavar="EVENT_COMMAND", required=True
    )
    create = event_commands.add_parser("create", help=_("create the event with its slots"))
    create.add_argument("--code", required=True, help=_("short event code, e.g. GZ2611"))
    create.add_argument("--name", required=True)
    create.add_argument("--date", required=True, type=_date)
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
    from cli.gate_commands import add_requires

    add_requires(create)
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

    templates = commands.add_parser(
        "templates", help=_("write one .xlsx template per import into a folder")
    )
    templates.add_argument("directory", metavar="DIR", type=Path)
    templates.set_defaults(func=cmd_templates)

    imp = commands.add_parser(
        "import", help=_("import a filled-in template (.xlsx or .csv); all rows or none")
    )
    imp.add_argument("kind", choices=ORDER)
    imp.add_argument("file", metavar="FILE", type=Path)
    imp.add_argument(
        "--check", action="store_true", help=_("only check the file and list its problems")
    )
    imp.add_argument(
        "--sheet", metavar="NAME", help=_("the sheet to import when several hold data")
    )
    imp.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="HEADER=FIELD",
        help=_('use a column for a field, e.g. --map "电话号码=phone"; "HEADER=-" leaves it out'),
    )
    add_staff(
        imp,
        required=False,
        help=_("who imports (not needed before the staff list is imported)"),
    )
    add_supervisor(imp)
    imp.set_defaults(func=cmd_import)

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

    booklet = commands.add_parser(
        "booklet", help=_("write the printable catalog booklet (PDF) and the HTML e-catalog")
    )
    booklet.add_argument("--out", required=True, metavar="FILE.pdf", type=Path)
    booklet.add_argument("--html", metavar="FILE.html", type=Path)
    booklet.add_argument("--paper", choices=["a4", "a5"], default="a4")
    booklet.set_defaults(func=cmd_booklet)
    return event_commands


def cmd_event_create(args: argparse.Namespace) -> int:
    from kiosk.services.imports import create_event

    passphrase = _passphrase()  # the event's signing and privacy keys are locked with it
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
        passphrase=passphrase,
        staff=acting(database, args.staff),
        approval=approval(database, args, Action.CREATE_EVENT),
        station="cli",
    )
    database.dispose()
    _out(
        _("Event “{name}” created for {date} with {n} slot(s). Next: kiosk templates DIR.").format(
            name=args.name, date=args.date, n=len(args.slot)
        )
    )
    return 0


def cmd_event_copy(args: argparse.Namespace) -> int:
    from kiosk.eventcopy import copy_event

    source = args.source or args.db or dbmod.default_url()
    result = copy_event(
        source,
        args.target,
        progress=lambda table, n: _out(
            _("  {table}: {n} rows").format(table=table, n=n), sys.stderr
        ),
    )
    _out(
        _(
            "Copied {rows} rows of {tables} tables from {source} to {target} in {s:.1f} s; "
            "the counts match. Stations now open: kiosk --db {target}"
        ).format(
            rows=result.total,
            tables=len(result.rows),
            source=result.source,
            target=result.target,
            s=result.seconds,
        )
    )
    return 0


def cmd_db_serve_help(args: argparse.Namespace) -> int:
    from kiosk.lan import plan, serve_help

    chosen = plan(args.host, args.subnet, args.name, args.user, args.password)
    _out(serve_help(chosen, args.db or dbmod.default_url()))
    return 0


def cmd_templates(args: argparse.Namespace) -> int:
    from kiosk.imports.templates import write_templates
    from kiosk.services.imports import template_choices

    database = dbmod.open_database(args.db)
    branches, slots = template_choices(database.unit_of_work())
    database.dispose()
    for path in write_templates(args.directory, branches=branches, slots=slots):
        _out(str(path))
    return 0


def _column_map(pairs: list[str]) -> dict[str, str]:
    """``--map "电话号码=phone"`` pairs as header -> field."""
    found: dict[str, str] = {}
    for pair in pairs:
        header, sep, name = pair.rpartition("=")
        if not sep or not header.strip() or not name.strip():
            raise KioskError(
                _('“{pair}” is not HEADER=FIELD, e.g. --map "电话号码=phone".').format(pair=pair)
            )
        found[header.strip()] = name.strip()
    return found


def _describe_check(check: Any) -> None:
    """The sheet, the mapping used, the columns left out and what was normalised: nothing
    about the file is decided silently."""
    from kiosk.imports.cells import DIGITS, INVISIBLE, WIDTH

    if check.sheet:
        _out(_("Sheet: “{sheet}”.").format(sheet=check.sheet))
    for hidden in check.skipped_sheets:
        _out(_("Hidden sheet “{sheet}” skipped.").format(sheet=hidden))
    if check.header_row:
        _out(_("Header row: {row}.").format(row=check.header_row))
    for header, name in check.mapping:
        _out(_("  column “{header}” → {field}").format(header=header, field=name))
    for header in check.unused:
        _out(_("  column “{header}” is not imported").format(header=header))
    said = {
        INVISIBLE: _("{n} cell(s): invisible or control characters removed"),
        WIDTH: _("{n} cell(s): full-width characters made half-width"),
        DIGITS: _("{n} cell(s): digits of other scripts made 0-9"),
    }
    for what, n in check.normalised.items():
        _out(_("Normalised: {what}.").format(what=said[what].format(n=n)))


def cmd_import(args: argparse.Namespace) -> int:
    """Exit 1 with every problem (row, column, what) on stderr when anything is wrong."""
    from kiosk.services.imports import Choices, ImportRefused, check_file, import_file

    choices = Choices(args.sheet, _column_map(args.map))
    database = dbmod.open_database(args.db)
    try:
        if args.check:
            check = check_file(database.unit_of_work(), args.kind, args.file, choices)
            _describe_check(check)
            if check.issues:
                raise ImportRefused(check)
            _out(_("{n} rows are ready to import.").format(n=check.rows))
            return 0
        result = import_file(
            database.unit_of_work(),
            args.kind,
            args.file,
            acting(database, args.staff),
            approval=approval(database, args, Action.IMPORT_FILE),
            station="cli",
            choices=choices,
        )
        _describe_check(result.check)
    except ImportRefused as refused:
        _describe_check(refused.check)
        for issue in refused.check.issues:
            _out(
                _("row {row}, column “{column}”: {message}").format(
                    row=issue.row, column=issue.column, message=issue.message
                ),
                sys.stderr,
            )
        _out(_("kiosk: {message}").format(message=refused), sys.stderr)
        return 1
    finally:
        database.dispose()
    _out(
        _("Imported {file}: {created} new, {updated} updated.").format(
            file=args.file.name, created=result.created, updated=result.updated
        )
    )
    return 0


def _writing(path: Path) -> None:
    """One sentence instead of a traceback when the file cannot be written."""
    if not path.parent.is_dir():
        raise KioskError(_("The folder {folder} does not exist.").format(folder=path.parent))


def cmd_export_progress(args: argparse.Namespace) -> int:
    from kiosk.services.tracking import progress
    from printing.invitations import percent_text, write_progress

    _writing(args.file)
    database = dbmod.open_database(args.db)
    try:
        figures = progress(database.unit_of_work())
    finally:
        database.dispose()
    for row in [*figures.branches, figures.total]:
        _out(
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
    _out(_("Written to {path}.").format(path=write_progress(figures, args.file)))
    return 0


def cmd_export_reminders(args: argparse.Namespace) -> int:
    from kiosk.services.tracking import reminders, slot_load
    from printing.invitations import write_reminders

    _writing(args.file)
    database = dbmod.open_database(args.db)
    try:
        opener = None
        if args.full_phones:
            opener = privacy.unlock(database.unit_of_work(), _passphrase())
        texts = reminders(database.unit_of_work(), opener)
        load = slot_load(database.unit_of_work())
    finally:
        database.dispose()
    path = write_reminders(texts, load, args.file)
    for code, label, capacity in load.slots:
        _out(
            _("{slot}: {n} confirmed customers ({people} with companions) of {capacity}").format(
                slot=label,
                n=load.total(code),
                people=load.total_people(code),
                capacity=capacity,
            )
        )
    _out(_("{n} reminders written to {path}.").format(n=len(texts), path=path))
    return 0


def cmd_booklet(args: argparse.Namespace) -> int:
    from kiosk.services.tracking import booklet
    from printing.booklet import BookletPaper, render_booklet, render_html

    for path in (args.out, args.html):
        if path is not None:
            _writing(path)
    database = dbmod.open_database(args.db)
    try:
        content = booklet(database.unit_of_work())
    finally:
        database.dispose()
    if not content.offers:
        raise KioskError(_("The catalog is empty: kiosk import catalog FILE first."))
    _out(
        _("Written to {path}.").format(
            path=render_booklet(content, args.out, BookletPaper(args.paper))
        )
    )
    if args.html is not None:
        _out(_("Written to {path}.").format(path=render_html(content, args.html)))
    if not content.catalog_url:
        _out(
            _(
                "No catalog address is set: the QR codes name each service instead of "
                "linking to the e-catalog."
            )
        )
    return 0


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
    if args.simulate and not create:
        raise KioskError(_("The simulation plays a fresh demo day; run it with --yes."))
    if (args.speed or args.booth_dir) and not args.simulate:
        raise KioskError(_("--speed and --booth-dir go with --simulate."))
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
    if args.simulate:
        return _simulate(args, database)
    database.dispose()
    if args.no_gui:
        return 0
    return _launch(args)


def _simulate(args: argparse.Namespace, database: dbmod.Database) -> int:
    """Play the demo day: headless (as fast as possible, or at --speed), or at --speed in the
    app, where the dashboard watches it live."""
    import shutil
    import tempfile
    import time

    from kiosk.simulate import SimClock, Simulation, SimulationSummary

    folder = args.booth_dir or Path(tempfile.mkdtemp(prefix="kiosk-booths-"))

    def tidy() -> None:
        if args.booth_dir is None:  # our temporary booth files
            shutil.rmtree(folder, ignore_errors=True)

    if args.speed and not args.no_gui:
        database.dispose()
        _out(
            _(
                "The app opens and plays the day {speed:g} times faster than real time; sign in "
                "as S001 (PIN {pin}) and open the dashboard."
            ).format(speed=args.speed, pin=DEMO_PIN)
        )
        from ui.app import run_app

        def start(db: dbmod.Database, clock: SimClock) -> Simulation:
            return Simulation(db, folder, seed=args.seed, clock=clock)

        try:
            return run_app(db_url=args.db, language=args.lang, simulation=start, speed=args.speed)
        finally:
            tidy()
    simulation = Simulation(database, folder, seed=args.seed)
    started, hour = time.monotonic(), None
    while not simulation.done:
        moment = simulation.next_at
        assert moment is not None
        if args.speed:
            due = started + (moment - simulation.starts_at).total_seconds() / args.speed
            time.sleep(max(0.0, due - time.monotonic()))
        simulation.run_until(moment)
        local = simulation.clock.now().astimezone(simulation.zone)
        if local.hour != hour:
            hour = local.hour
            _out(
                _("{time}: {arrivals} arrivals, {slips} slips, {redeemed} redeemed").format(
                    time=local.strftime("%H:%M"),
                    arrivals=simulation.summary.arrivals,
                    slips=simulation.summary.slips,
                    redeemed=simulation.summary.redeemed,
                )
            )
    simulation.close()
    tidy()
    s: SimulationSummary = simulation.summary
    _out(
        _(
            "Simulated day over at {time}: {arrivals} arrivals ({walk_ins} walk-ins), {governed} "
            "governed, {opened} mobile banking opened, {logins} logins, {scan} scan-pays, "
            "{slips} slips ({voided} voided), {redeemed} redeemed at the booths."
        ).format(
            time=simulation.clock.now().astimezone(simulation.zone).strftime("%H:%M"),
            arrivals=s.arrivals,
            walk_ins=s.walk_ins,
            governed=s.governed,
            opened=s.mobile_banking_opened,
            logins=s.logins,
            scan=s.scan_pays,
            slips=s.slips,
            voided=s.voided,
            redeemed=s.redeemed,
        )
    )
    _out(
        _(
            "Redemption gate: {overrides} customers let through by a supervisor, {held} left "
            "without slips."
        ).format(overrides=s.overrides, held=s.held_at_gate)
    )
    if s.refused:
        _out(
            _("{n} actions were refused by the services, e.g. “{example}”").format(
                n=len(s.refused), example=s.refused[0]
            )
        )
    clock = simulation.clock
    database.dispose()
    if args.no_gui:
        return 0
    from ui.app import run_app

    return run_app(db_url=args.db, language=args.lang, clock=clock)


def cmd_info(args: argparse.Namespace) -> int:
    database = dbmod.open_database(args.db)
    overview = event_overview(database.unit_of_work())
    requirements = gate.requirements(database.unit_of_work())
    with database.unit_of_work() as uow:
        sealed = privacy.has_key(uow.session)
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
    _out(
        _("Personal data: sealed (phones, ID numbers, addresses)")
        if sealed
        else _("Personal data: in clear; a supervisor runs kiosk event encrypt")
    )
    from cli.gate_commands import describe

    _out(describe(requirements))
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
    _out()
    width = max(len(v) for v in labels.values())
    for key, label in labels.items():
        _out(f"  {label:<{width}}  {overview.counts[key]:>7}")
    return 0


def cmd_checkin(args: argparse.Namespace) -> int:
    """Exit 0 when the customer is checked in (now, earlier, or by this request's earlier
    try); a ticket that could not be written or printed is a warning, not a failure."""
    from printing.printer import Printer
    from printing.tickets import render_queue_ticket

    database = dbmod.open_database(args.db)
    try:
        staff = signed_in(database, args.staff)
        customer_id = reception.resolve_code(database.unit_of_work(), args.code)
        request_id = _request_id(args)
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
            if result.replayed:
                _out(
                    _(
                        "(Request {id} had already checked the customer in at {time}; nothing "
                        "was done twice.)"
                    ).format(
                        id=request_id,
                        time=card.visit.checked_in_at.astimezone(zone).strftime("%H:%M"),
                    )
                )
        else:
            _out(
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
            printer = Printer.from_environment()
            path = None
            try:
                ticket = reception.queue_ticket(database.unit_of_work(), result)
                path = printer.path_for(f"ticket-{result.ticket}.pdf")
                render_queue_ticket(ticket, path)
            except (OSError, KioskError) as error:
                reason = (
                    file_error(error, path or printer.spool_dir)
                    if isinstance(error, OSError)
                    else error
                )
                _warn(
                    _(
                        "The check-in is saved, but its ticket was not written: {reason} Run "
                        "the same command with --request-id {id} to write it (the customer is "
                        "not checked in twice)."
                    ).format(reason=reason, id=request_id)
                )
            else:
                outcome = printer.send(path)
                # The check-in stands (exit 0); a ticket that did not print is said apart.
                _out(outcome.message, sys.stderr if outcome.failed else None)
    finally:
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
    """Exit 0 when the slip is issued (now, or by this request's earlier try); a PDF that
    could not be written, or a copy that could not be counted, is a warning: the slip
    stands, and ``kiosk slip print`` writes it again."""
    from kiosk.services import keys
    from kiosk.services.slips import CartLine, issue_slips
    from printing.printer import slip_paper_from_environment

    paper = slip_paper_from_environment()  # a bad setting stops before a slip is issued
    database = dbmod.open_database(args.db)
    try:
        staff = signed_in(database, args.staff)
        customer_id = reception.resolve_code(database.unit_of_work(), args.customer)
        key = keys.unlock(database.unit_of_work(), _passphrase())
        request_id = _request_id(args)
        # The redemption gate refuses in words (what is missing, where to send the customer)
        # unless a supervisor approves the override.
        override = approval(database, args, Action.OVERRIDE_GATE) if args.override_gate else None
        slip = issue_slips(
            database.unit_of_work(),
            customer_id,
            [CartLine(args.offer, args.qty)],
            staff,
            key,
            station="cli",
            request_id=request_id,
            override=args.override_gate,
            approval=override,
        )[0]
        what = _("Slip {serial} issued: {merchant} · {offer} × {n} · {points:,} points").format(
            serial=slip.serial,
            merchant=slip.merchant,
            offer=slip.offer,
            n=slip.quantity,
            points=slip.points,
        )
        if slip.replayed:
            what += " " + _("(by request {id}'s earlier try; not issued twice)").format(
                id=request_id
            )
        if slip.replayed and slip.copies_printed:
            _out(what)
            _out(
                _(
                    "Its PDF was already written ({n} copies counted); kiosk slip print {serial} "
                    "writes it again."
                ).format(n=slip.copies_printed, serial=slip.serial)
            )
        else:
            problem = ""
            try:
                path = _write_slip(database, slip.serial, staff, Path(args.out), paper)
            except _PrintUnfinished as unfinished:
                path, problem = unfinished.path, str(unfinished)
            if path is None:
                _out(what)
            else:
                _out(_("{what}; PDF {path}").format(what=what, path=path))
            if problem:
                _warn(
                    _("Slip No. {serial:06d} issued (printing not finished): {reason}").format(
                        serial=slip.serial, reason=problem
                    )
                )
    finally:
        database.dispose()
    _out(slip.code)
    return 0


class _PrintUnfinished(Exception):
    """The slip stands; its PDF (``path``, None when not written) or its count did not."""

    def __init__(self, message: str, path: Path | None) -> None:
        super().__init__(message)
        self.path = path


def _write_slip(
    database: dbmod.Database,
    serial: int,
    staff: StaffSession,
    out: Path,
    paper: Paper,
    approval: Approval | None = None,
    *,
    first: bool = True,
) -> Path:
    """Render the slip's PDF and count it as a printed copy (the file is the copy here).

    With ``first`` (right after issuing) nothing that fails here undoes the issue: it raises
    ``_PrintUnfinished`` saying what is left to do, for a warning."""
    from kiosk.services.slips import check_print, record_print, slip_document
    from printing.slips import SlipPrint, render_slip

    again = _("Write it again with: kiosk slip print {serial} --out {out} --staff {staff}").format(
        serial=serial, out=out, staff=staff.staff_no
    )
    try:
        check_print(database.unit_of_work(), serial, staff, approval=approval)
        document = slip_document(database.unit_of_work(), serial)
        path = render_slip(
            SlipPrint(
                document.event_name,
                document.serial,
                document.code,
                document.merchant,
                document.offer,
                document.quantity,
                document.points,
                document.redeem_by,
                document.masked_name,
            ),
            out,
            paper,
        )
    except OSError as error:
        if not first:
            raise file_error(error, out) from None
        raise _PrintUnfinished(sentences(str(file_error(error, out)), again), None) from None
    except KioskError as error:
        if not first:
            raise
        raise _PrintUnfinished(sentences(str(error), again), None) from None
    try:
        record_print(
            database.unit_of_work(), serial, staff, printed=True, approval=approval, station="cli"
        )
    except KioskError as error:
        message = _("the PDF is written, but the copy could not be counted: {reason}").format(
            reason=error
        )
        if not first:
            _warn(message)
            return path
        raise _PrintUnfinished(message, path) from None
    return path


def cmd_slip_print(args: argparse.Namespace) -> int:
    from printing.printer import slip_paper_from_environment

    paper = slip_paper_from_environment()
    database = dbmod.open_database(args.db)
    staff = signed_in(database, args.staff)
    path = _write_slip(
        database,
        args.serial,
        staff,
        Path(args.out),
        paper,
        approval(database, args, Action.REPRINT_SLIP),
        first=False,
    )
    database.dispose()
    _out(_("Slip {serial} written again to {path}.").format(serial=args.serial, path=path))
    return 0


def cmd_slip_void(args: argparse.Namespace) -> int:
    from kiosk.services.slips import void_slip

    database = dbmod.open_database(args.db)
    staff = signed_in(database, args.staff)
    void_slip(
        database.unit_of_work(),
        args.serial,
        staff,
        reason=args.reason,
        approval=approval(database, args, Action.VOID_SLIP),
        station="cli",
    )
    database.dispose()
    _out(_("Slip {serial} voided; its points are released.").format(serial=args.serial))
    return 0


def default_booth_path_text() -> str:
    from kiosk.booth_laptop.store import ENV_BOOTH_DB, default_booth_path

    return "$" + ENV_BOOTH_DB if os.environ.get(ENV_BOOTH_DB) else str(default_booth_path())


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        raise KioskError(
            _("Cannot read {path}: {reason}.").format(path=path, reason=error.strerror or error)
        ) from None


def cmd_pack_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kiosk.services.booths import export_pack

    database = dbmod.open_database(args.db)
    staff = signed_in(database, args.staff)
    data, pack = export_pack(
        database.unit_of_work(), args.merchant, _passphrase(), staff, station="cli"
    )
    database.dispose()
    try:
        write_atomic(Path(args.out), data)
    except OSError as error:
        raise file_error(error, args.out) from None
    _out(
        _(
            "Merchant pack for {merchant} ({code}) written to {path}: {offers} offers, "
            "{revoked} voided slips."
        ).format(
            merchant=pack.merchant_name,
            code=pack.merchant_code,
            path=args.out,
            offers=len(pack.offers),
            revoked=len(pack.revoked),
        )
    )
    return 0


def _booth(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from kiosk.booth_laptop.booth import Booth
    from kiosk.booth_laptop.store import default_booth_path, open_booth_database

    return Booth(open_booth_database(args.booth_db or default_booth_path()))


def cmd_booth_window(args: argparse.Namespace) -> int:
    from kiosk.booth_laptop.store import default_booth_path
    from ui.booth import run_booth

    return run_booth(args.booth_db or default_booth_path(), language=args.lang)


def cmd_booth_install(args: argparse.Namespace) -> int:
    booth = _booth(args)
    result = booth.install(_read(args.file))
    booth.database.dispose()
    info = result.info
    if result.first:
        _out(
            _(
                "Booth ready for {merchant} ({code}) at {event}: {offers} offers, "
                "{revoked} voided slips."
            ).format(
                merchant=info.merchant_name,
                code=info.merchant_code,
                event=info.event_name,
                offers=info.offers,
                revoked=info.revoked,
            )
        )
    else:
        _out(
            _("Pack updated: {new} more voided slips ({revoked} in all).").format(
                new=result.new_revocations, revoked=info.revoked
            )
        )
    warning = booth.clock_warning()
    if warning:
        _out(warning, sys.stderr)
    return 0


def cmd_booth_scan(args: argparse.Namespace) -> int:
    """Exit 0 only when the slip was redeemed now (or, with --check, is valid)."""
    from kiosk.booth_laptop.booth import describe
    from kiosk.booth_laptop.online import OnlineBooth, event_url
    from kiosk.slipcode import Verdict

    booth = _booth(args)
    try:
        url = event_url(booth)
        online = OnlineBooth(booth, url) if url else None
        request_id = None if args.check else _request_id(args)
        try:
            result = (online or booth).scan(
                args.code, args.staff, redeem=not args.check, request_id=request_id
            )
            if online is not None:
                if online.online is False:
                    _out(
                        _("Offline: the event database cannot be reached ({reason}).").format(
                            reason=online.error
                        ),
                        sys.stderr,
                    )
                else:
                    online.catch_up()
        finally:
            if online is not None:
                online.close()
        info = booth.info
    finally:
        booth.database.dispose()
    assert info is not None
    headline, detail = describe(result, info.timezone)
    _out(headline)
    if detail:
        _out(detail)
    if result.replayed:
        _out(
            _("(Request {id} had redeemed it at its earlier try; nothing was done twice.)").format(
                id=request_id
            )
        )
    if args.check:
        return 0 if result.verdict == Verdict.VALID else 1
    return 0 if result.redeemed else 1


def cmd_booth_list(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from kiosk.booth_laptop.booth import slip_number

    booth = _booth(args)
    day = booth.day_list()
    info = booth.info
    booth.database.dispose()
    assert info is not None
    zone = ZoneInfo(info.timezone)
    _out(
        _("{merchant} · {day}: {n} redemptions, {pending} not yet sent").format(
            merchant=info.merchant_name,
            day=day.day,
            n=sum(t.redemptions for t in day.totals),
            pending=day.pending,
        )
    )
    for row in day.rows:
        at = row.redeemed_at.astimezone(zone).strftime("%H:%M") if row.redeemed_at else ""
        _out(
            f"  {row.seq:>5}  {at}  {slip_number(row.serial)}  {row.offer_name} × {row.quantity}"
            f"  {row.masked_name}  {row.redeemed_by}"
        )
    _out(_("Totals per offer:"))
    for total in day.totals:
        _out(
            "  "
            + _("{offer}: {n} slips, quantity {quantity}, {points:,} points").format(
                offer=total.offer_name,
                n=total.redemptions,
                quantity=total.quantity,
                points=total.points,
            )
        )
    return 0


def cmd_booth_export(args: argparse.Namespace) -> int:
    booth = _booth(args)
    count = booth.export(args.file)
    booth.database.dispose()
    _out(_("Bundle with {n} redemptions written to {path}.").format(n=count, path=args.file))
    return 0


def _report_import(result) -> None:  # type: ignore[no-untyped-def]
    from kiosk.services.booths import conflict_label

    _out(
        _(
            "Imported from booth {booth} of {merchant}: {added} new, {duplicates} already "
            "known, {conflicts} conflicts."
        ).format(
            booth=result.booth_id[:8],
            merchant=result.merchant_code,
            added=result.added,
            duplicates=result.duplicates,
            conflicts=len(result.conflicts),
        )
    )
    for conflict in result.conflicts:
        _out(
            "  "
            + _("Slip {serial} (booth no. {seq}): {reason}").format(
                serial=conflict.serial,
                seq=conflict.booth_seq,
                reason=conflict_label(conflict.conflict),
            )
        )
    _out(
        _(
            "Booth clock: {install:+.0f} s against the event's when the pack was installed, "
            "export {export:+.0f} s before this import."
        ).format(install=result.install_skew_s, export=result.import_skew_s)
    )


def cmd_bundle_import(args: argparse.Namespace) -> int:
    from kiosk.services.booths import import_bundle

    data = _read(args.file)
    database = dbmod.open_database(args.db)
    result = import_bundle(
        database.unit_of_work(),
        data,
        signed_in(database, args.staff),
        approval=approval(database, args, Action.IMPORT_BUNDLE),
        station="cli",
    )
    database.dispose()
    _report_import(result)
    return 0


def cmd_booth_connect(args: argparse.Namespace) -> int:
    from kiosk.booth_laptop.online import OnlineBooth, set_event_url
    from kiosk.services.booths import slip_state

    booth = _booth(args)
    try:
        if args.off or not args.url:
            if not args.off:
                raise KioskError(_("Give the event database URL, or --off to work offline."))
            set_event_url(booth, "")
            _out(_("The booth works offline; export bundles for the event."))
            return 0
        info = booth.info
        if info is None:
            raise KioskError(_("Install the merchant pack first."))
        online = OnlineBooth(booth, args.url)
        try:
            # Answers, and knows this event and merchant (else one sentence why not)?
            slip_state(
                online.database.unit_of_work(),
                event_code=info.event_code,
                merchant_code=info.merchant_code,
                merchant_id=info.merchant_id,
                serial=0,
            )
            result = online.catch_up()
        finally:
            online.close()
        set_event_url(booth, args.url)
        sent = result.added if result else 0
        _out(
            _(
                "The booth works online with {url}: every slip is checked there before it is "
                "served ({n} earlier redemptions sent)."
            ).format(url=dbmod.describe_url(args.url), n=sent)
        )
        return 0
    finally:
        booth.database.dispose()


def cmd_booth_push(args: argparse.Namespace) -> int:
    from kiosk.booth_laptop.online import event_url
    from kiosk.services.booths import deliver_bundle

    booth = _booth(args)
    data, _count = booth.bundle()
    database = dbmod.open_database(args.event_db or args.db or event_url(booth) or None)
    result = deliver_bundle(database.unit_of_work(), data, station="booth")
    database.dispose()
    booth.mark_delivered(result.up_to_seq)
    booth.database.dispose()
    _report_import(result)
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
    before = dbmod.open_engines()
    try:
        return _run(func, args)
    finally:
        # What the command opened is closed, also when it stopped with an error half-way.
        for engine in dbmod.open_engines() - before:
            engine.dispose()


def _run(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        return func(args)
    except OutcomeUnknown as error:
        # Neither done nor not done for sure: its own status, and how to settle it.
        _out(_("kiosk: {message}").format(message=error), sys.stderr)
        if error.request_id:
            _out(
                _("Run the same command again with --request-id {id}.").format(id=error.request_id),
                sys.stderr,
            )
        return EXIT_UNKNOWN
    except KioskError as error:
        _out(_("kiosk: {message}").format(message=error), sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `kiosk … | head` closed the pipe: the reader has what it wanted, so no message; the
        # devnull swap stops Python complaining again while it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:  # a file the command writes: the cause in words, nothing done
        if storage.cause_of(error) is None:
            return _unexpected(error)
        path = error.filename or Path.cwd()
        _out(_("kiosk: {message}").format(message=file_error(error, path)), sys.stderr)
        return 1
    except Exception as error:
        return _unexpected(error)


def _unexpected(error: BaseException) -> int:
    """The last resort: a plain sentence, details only on request."""
    if os.environ.get("KIOSK_DEBUG"):
        traceback.print_exception(error)
    _out(
        _("kiosk: unexpected error: {message}. Run again with KIOSK_DEBUG=1 for details.").format(
            message=error
        ),
        sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
