"""``kiosk merchant-pack``, ``kiosk booth …`` and ``kiosk bundle``: the merchant booths,
from the pack they install to the redemptions they bring back."""

from __future__ import annotations

import argparse
import os
import sys

from cli.booth_gateway import add_gateway_parsers, open_booth, report_import
from cli.common import add_request_id, open_database, out, passphrase, read_bytes, request_id_of
from cli.staff import add_staff, add_supervisor, approval, signed_in
from kiosk.i18n import _

# Bytes read of a pack or bundle file: above what either can be (16 MiB), so the parser
# refuses it by size in words, without a file of gigabytes read into memory.
MAX_READ = 32 * 1024 * 1024


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
    add_booth_commands(booth)

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


def add_booth_commands(booth: argparse.ArgumentParser, *, serve: bool = True) -> None:
    """The booth's options and commands, under ``kiosk booth`` and as the booth build's own
    ``kiosk-booth`` (cli/booth_main.py), which leaves out ``serve``: the gateway runs on a
    staff laptop with the event database, never on a booth."""
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
    add_request_id(scan)
    scan.set_defaults(func=cmd_booth_scan)
    booth_list = booth_commands.add_parser("list", help=_("today's redemptions with totals"))
    booth_list.set_defaults(func=cmd_booth_list)
    booth_export = booth_commands.add_parser(
        "export", help=_("write the signed redemption bundle (e.g. to a USB stick)")
    )
    booth_export.add_argument("file", metavar="FILE")
    booth_export.set_defaults(func=cmd_booth_export)
    add_gateway_parsers(booth_commands, serve=serve)


def default_booth_path_text() -> str:
    from kiosk.booth_laptop.store import ENV_BOOTH_DB, default_booth_path

    return "$" + ENV_BOOTH_DB if os.environ.get(ENV_BOOTH_DB) else str(default_booth_path())


def cmd_pack_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kiosk.files import write_atomic
    from kiosk.services.booths import export_pack
    from kiosk.storage import file_error

    database = open_database(args.db)
    staff = signed_in(database, args.staff)
    data, pack = export_pack(
        database.unit_of_work(), args.merchant, passphrase(), staff, station="cli"
    )
    database.dispose()
    try:
        write_atomic(Path(args.out), data)
    except OSError as error:
        raise file_error(error, args.out) from None
    out(
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


def cmd_booth_window(args: argparse.Namespace) -> int:
    from kiosk.booth_laptop.store import default_booth_path
    from ui.booth_window import run_booth

    return run_booth(args.booth_db or default_booth_path(), language=args.lang)


def cmd_booth_install(args: argparse.Namespace) -> int:
    from kiosk.boundedjson import naming
    from kiosk.merchant_pack import PackError

    booth = open_booth(args)
    try:
        with naming(os.path.basename(args.file), PackError):
            result = booth.install(read_bytes(args.file, limit=MAX_READ))
    finally:
        booth.database.dispose()
    info = result.info
    if result.first:
        out(
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
        out(
            _("Pack updated: {new} more voided slips ({revoked} in all).").format(
                new=result.new_revocations, revoked=info.revoked
            )
        )
    warning = booth.clock_warning()
    if warning:
        out(warning, sys.stderr)
    return 0


def cmd_booth_scan(args: argparse.Namespace) -> int:
    """Exit 0 only when the slip was redeemed now (or, with --check, is valid)."""
    from kiosk.booth_laptop.booth import describe
    from kiosk.booth_laptop.online import OnlineBooth, gateway_url
    from kiosk.slipcode import Verdict

    booth = open_booth(args)
    try:
        url = gateway_url(booth)
        online = OnlineBooth(booth, url) if url else None
        request_id = None if args.check else request_id_of(args)
        try:
            result = (online or booth).scan(
                args.code, args.staff, redeem=not args.check, request_id=request_id
            )
            if online is not None:
                if online.online is False:
                    out(
                        _("Offline: the booth gateway cannot be reached ({reason}).").format(
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
    out(headline)
    if detail:
        out(detail)
    if result.replayed:
        out(
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

    booth = open_booth(args)
    day = booth.day_list()
    info = booth.info
    booth.database.dispose()
    assert info is not None
    zone = ZoneInfo(info.timezone)
    out(
        _("{merchant} · {day}: {n} redemptions, {pending} not yet sent").format(
            merchant=info.merchant_name,
            day=day.day,
            n=sum(t.redemptions for t in day.totals),
            pending=day.pending,
        )
    )
    for row in day.rows:
        at = row.redeemed_at.astimezone(zone).strftime("%H:%M") if row.redeemed_at else ""
        out(
            f"  {row.seq:>5}  {at}  {slip_number(row.serial)}  {row.offer_name} × {row.quantity}"
            f"  {row.masked_name}  {row.redeemed_by}"
        )
    out(_("Totals per offer:"))
    for total in day.totals:
        out(
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
    booth = open_booth(args)
    count = booth.export(args.file)
    booth.database.dispose()
    out(_("Bundle with {n} redemptions written to {path}.").format(n=count, path=args.file))
    return 0


def cmd_bundle_import(args: argparse.Namespace) -> int:
    from kiosk.boundedjson import naming
    from kiosk.permissions import Action
    from kiosk.redemption_bundle import BundleError
    from kiosk.services.booths import import_bundle

    data = read_bytes(args.file, limit=MAX_READ)
    database = open_database(args.db)
    try:
        with naming(os.path.basename(args.file), BundleError):
            result = import_bundle(
                database.unit_of_work(),
                data,
                signed_in(database, args.staff),
                approval=approval(database, args, Action.IMPORT_BUNDLE),
                station="cli",
            )
    finally:
        database.dispose()
    report_import(result)
    return 0
