"""``kiosk merchants …``: after the event, each merchant's scorecard, the review thresholds,
a supervisor's keep / warn / exit, and the approved-merchant register carried to the next
event (issue #21)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cli.common import open_database, out, passphrase, writable
from cli.staff import add_staff, signed_in
from kiosk.errors import KioskError
from kiosk.i18n import _, listing


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    merchants = commands.add_parser(
        "merchants",
        help=_("after the event: merchant scorecards, review decisions and the register"),
    )
    sub = merchants.add_subparsers(
        dest="merchants_command", metavar="MERCHANTS_COMMAND", required=True
    )
    card = sub.add_parser(
        "scorecard", help=_("each merchant's slips, delivery, complaints, score and flags")
    )
    card.add_argument("--xlsx", metavar="FILE", type=Path, help=_("also write it as .xlsx"))
    card.set_defaults(func=cmd_scorecard)

    limits = sub.add_parser(
        "thresholds",
        help=_("show or set when a merchant is flagged for review (none: not checked)"),
    )
    limits.add_argument("--score-floor", metavar="SCORE|none", help=_("average score below"))
    limits.add_argument("--complaints", metavar="N|none", help=_("this many complaints or more"))
    limits.add_argument(
        "--delivery-days", metavar="DAYS|none", help=_("average days to delivery above")
    )
    add_staff(limits, required=False, help=_("the supervisor who sets them (to change them)"))
    limits.set_defaults(func=cmd_thresholds)

    decide = sub.add_parser("decide", help=_("record a supervisor's decision on a merchant"))
    decide.add_argument("code", metavar="CODE")
    decide.add_argument("decision", choices=("keep", "warn", "exit"))
    decide.add_argument("--reason", required=True, metavar="TEXT")
    add_staff(decide, required=True, help=_("the supervisor who decides"))
    decide.set_defaults(func=cmd_decide)

    register = sub.add_parser("register", help=_("the approved-merchant register"))
    register_sub = register.add_subparsers(
        dest="register_command", metavar="REGISTER_COMMAND", required=True
    )
    export = register_sub.add_parser(
        "export",
        help=_("write the register signed with the event's key (passphrase needed)"),
    )
    export.add_argument("file", metavar="FILE", type=Path)
    add_staff(export, required=True, help=_("the supervisor who exports it"))
    export.set_defaults(func=cmd_register_export)
    load = register_sub.add_parser(
        "import", help=_("import an earlier event's register into this event's database")
    )
    load.add_argument("file", metavar="FILE")
    load.add_argument(
        "--trust",
        metavar="FINGERPRINT",
        help=_("trust the file's signer: the fingerprint printed when it was exported"),
    )
    add_staff(load, required=True, help=_("the supervisor who imports it"))
    load.set_defaults(func=cmd_register_import)
    show = register_sub.add_parser("list", help=_("the register this database holds"))
    show.set_defaults(func=cmd_register_list)


def _optional(text: str | None, parse: Callable[[str], int]) -> Any:
    """KEEP when not given (the setting stays), None for "none", else the parsed number."""
    from kiosk.services.figure_settings import KEEP

    if text is None:
        return KEEP
    if text.strip().lower() in ("none", ""):
        return None
    return parse(text.strip())


def _whole(text: str) -> int:
    if not text.isdigit():
        raise KioskError(_("“{text}” is not a whole number.").format(text=text))
    return int(text)


def cmd_scorecard(args: argparse.Namespace) -> int:
    from kiosk.services import merchant_review as review

    database = open_database(args.db)
    try:
        cards = review.scorecards(database.unit_of_work())
        limits = review.thresholds(database.unit_of_work())
    finally:
        database.dispose()
    rows = review.scorecard_rows(cards)
    for row in rows:
        out("\t".join("" if v is None else str(v) for v in row))
    out(_("Thresholds: {list}").format(list=listing(review.describe_thresholds(limits))))
    flagged = [c for c in cards if c.flagged]
    for c in flagged:
        for flag in c.flags:
            out(
                _("⚠ {merchant}: {flag}").format(
                    merchant=f"{c.merchant_code} {c.merchant_name}", flag=flag
                )
            )
    out(_("{n} merchant(s) flagged for review.").format(n=len(flagged)))
    if args.xlsx:
        from printing.reports import write_xlsx

        writable(args.xlsx)
        write_xlsx(rows, args.xlsx, _("Merchant scorecard"))
        out(_("Written to {path}.").format(path=args.xlsx))
    return 0


def cmd_thresholds(args: argparse.Namespace) -> int:
    from kiosk.services import merchant_review as review
    from kiosk.services.figure_settings import Keep

    floor = _optional(args.score_floor, review.score_floor_tenths)
    complaints = _optional(args.complaints, _whole)
    days = _optional(args.delivery_days, _whole)
    changing = not all(isinstance(v, Keep) for v in (floor, complaints, days))
    database = open_database(args.db)
    try:
        if not changing:
            limits = review.thresholds(database.unit_of_work())
        elif not args.staff:
            raise KioskError(_("Name the supervisor who sets them with --staff."))
        else:
            limits = review.set_thresholds(
                database.unit_of_work(),
                signed_in(database, args.staff),
                score_floor=floor,
                complaints=complaints,
                delivery_days=days,
                station="cli",
            )
    finally:
        database.dispose()
    for line in review.describe_thresholds(limits):
        out(line)
    return 0


def cmd_decide(args: argparse.Namespace) -> int:
    from kiosk.services import merchant_review as review

    database = open_database(args.db)
    try:
        result = review.decide(
            database.unit_of_work(),
            args.code,
            args.decision,
            args.reason,
            signed_in(database, args.staff),
            station="cli",
        )
    finally:
        database.dispose()
    out(
        _("{code} {name}: {decision} ({reason}).").format(
            code=result.merchant_code,
            name=result.scorecard.merchant_name,
            decision=review.decision_label(result.decision),
            reason=result.reason,
        )
    )
    for flag in result.scorecard.flags:
        out(f"⚠ {flag}")
    return 0


def cmd_register_export(args: argparse.Namespace) -> int:
    from kiosk.files import write_atomic
    from kiosk.services import merchant_review as review
    from kiosk.storage import file_error

    writable(args.file)
    database = open_database(args.db)
    try:
        staff = signed_in(database, args.staff)
        exported = review.export_register(
            database.unit_of_work(), passphrase(), staff, station="cli"
        )
    finally:
        database.dispose()
    try:
        write_atomic(args.file, exported.data)
    except OSError as error:
        raise file_error(error, args.file) from None
    register = exported.register
    out(
        _("Register of {event} written to {path}: {n} merchant(s), {exits} exited.").format(
            event=register.event_code,
            path=args.file,
            n=len(register.entries),
            exits=sum(1 for e in register.entries if e.status == "exit"),
        )
    )
    out(_("Key fingerprint: {fingerprint}").format(fingerprint=exported.fingerprint))
    out(
        _(
            "Note the fingerprint apart from the file (on paper, in the hand-over notes): the "
            "next event's coordinator names it once with --trust when importing."
        )
    )
    return 0


def cmd_register_import(args: argparse.Namespace) -> int:
    from kiosk.boundedjson import naming
    from kiosk.register_file import RegisterError, read_file
    from kiosk.services import merchant_review as review

    data = read_file(Path(args.file))
    database = open_database(args.db)
    try:
        with naming(Path(args.file).name, RegisterError):
            result = review.import_register(
                database.unit_of_work(),
                data,
                signed_in(database, args.staff),
                trust=args.trust,
                station="cli",
            )
    finally:
        database.dispose()
    if result.trusted_now:
        out(
            _("Registers signed by {event}'s key ({fingerprint}) are trusted from now on.").format(
                event=result.event_code, fingerprint=result.fingerprint
            )
        )
    out(
        _("Register of {event} imported: {new} new, {replaced} replaced.").format(
            event=result.event_code, new=result.new, replaced=result.replaced
        )
    )
    if result.exits:
        out(
            _("Exited, refused in this event's catalog: {codes}.").format(
                codes=", ".join(result.exits)
            )
        )
    return 0


def cmd_register_list(args: argparse.Namespace) -> int:
    from kiosk.services import merchant_review as review

    database = open_database(args.db)
    try:
        rows = review.register_entries(database.unit_of_work())
    finally:
        database.dispose()
    for r in rows:
        out(
            "\t".join(
                [r.merchant_code, r.merchant_name, review.decision_label(r.status), r.reason,
                 r.source_event]
            )
        )  # fmt: skip
    out(_("{n} merchant(s) in the register.").format(n=len(rows)))
    return 0
