"""``kiosk booth connect|push|serve``: the booths online through the booth gateway (issue
#29), a helper of cli/booth_commands.py, which adds these parsers to its ``booth`` group.

A staff laptop with the station's database URL runs ``kiosk booth serve`` (gateway/booth_api.py,
HTTPS); a booth laptop keeps only the gateway's https address and the event's CA file
(``kiosk booth connect URL --ca FILE``) and never a database URL.
"""

from __future__ import annotations

import argparse
import os
import sys

from cli.common import open_database, out
from kiosk import datadir
from kiosk.errors import KioskError
from kiosk.i18n import _


def add_gateway_parsers(booth_commands: argparse._SubParsersAction, *, serve: bool = True) -> None:  # type: ignore[type-arg]
    push = booth_commands.add_parser(
        "push", help=_("send the redemptions to the event database through the booth gateway")
    )
    push.set_defaults(func=cmd_booth_push)
    connect = booth_commands.add_parser(
        "connect",
        help=_("work online: check and record every redemption through the booth gateway"),
    )
    connect.add_argument(
        "url", nargs="?", metavar="URL", help=_("the booth gateway's address (https://…)")
    )
    connect.add_argument(
        "--ca",
        metavar="FILE",
        default=os.environ.get("KIOSK_LAN_CA") or None,
        help=_("the event's CA certificate file (or $KIOSK_LAN_CA)"),
    )
    connect.add_argument(
        "--off", action="store_true", help=_("work offline again (forget the address)")
    )
    connect.set_defaults(func=cmd_booth_connect)
    if serve:
        add_serve_parser(booth_commands)


def add_serve_parser(booth_commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = booth_commands.add_parser(
        "serve",
        help=_(
            "serve the booth gateway over HTTPS (on a staff laptop, with the station's "
            "database URL)"
        ),
    )
    serve.add_argument(
        "--db",
        dest="station_db",
        metavar="URL",
        help=_("the station's event database URL (default: --db or $KIOSK_DB)"),
    )
    serve.add_argument("--cert", metavar="FILE", help=_("the gateway's server certificate"))
    serve.add_argument("--key", metavar="FILE", help=_("the server certificate's key"))
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8443)
    serve.set_defaults(func=cmd_booth_serve)


def open_booth(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The booth of ``--booth-db`` (or the default booth file)."""
    from kiosk.booth_laptop.booth import Booth
    from kiosk.booth_laptop.store import default_booth_path, open_booth_database

    return Booth(open_booth_database(args.booth_db or default_booth_path()))


def report_import(result) -> None:  # type: ignore[no-untyped-def]
    from kiosk.services.booths import conflict_label

    out(
        _("Imported from booth {booth} of {merchant}: {counts}").format(
            booth=result.booth_id[:8], merchant=result.merchant_code, counts=result.counts()
        )
    )
    for conflict in result.conflicts:
        out(
            "  "
            + _("Slip {serial} (booth no. {seq}): {reason}").format(
                serial=conflict.serial,
                seq=conflict.booth_seq,
                reason=conflict_label(conflict.conflict),
            )
        )
    out(
        _(
            "Booth clock: {install:+.0f} s against the event's when the pack was installed, "
            "export {export:+.0f} s before this import."
        ).format(install=result.install_skew_s, export=result.import_skew_s)
    )


def cmd_booth_connect(args: argparse.Namespace) -> int:
    from kiosk.booth_laptop.online import OnlineBooth, check_gateway_url, set_gateway

    booth = open_booth(args)
    try:
        if args.off or not args.url:
            if not args.off:
                raise KioskError(_("Give the booth gateway's address, or --off to work offline."))
            set_gateway(booth, "")
            out(_("The booth works offline; export bundles for the event."))
            return 0
        if booth.info is None:
            raise KioskError(_("Install the merchant pack first."))
        url = check_gateway_url(args.url)
        online = OnlineBooth(booth, url, ca_file=args.ca or "")
        try:
            # Answers, and knows this event, merchant and seal (else one sentence why not)?
            online.ping()
            result = online.catch_up()
        finally:
            online.close()
        set_gateway(booth, url, args.ca or "")
        sent = result.added if result else 0
        out(
            _(
                "The booth works online with the booth gateway {url}: every slip is checked "
                "there before it is served ({n} earlier redemptions sent)."
            ).format(url=url, n=sent)
        )
        return 0
    finally:
        booth.database.dispose()


def cmd_booth_push(args: argparse.Namespace) -> int:
    from kiosk.booth_laptop.online import OnlineBooth, gateway_url

    booth = open_booth(args)
    try:
        url = gateway_url(booth)
        if not url:
            raise KioskError(
                _(
                    "This booth has no booth gateway: run kiosk booth connect URL first, or "
                    "export the bundle to a USB stick (kiosk booth export)."
                )
            )
        online = OnlineBooth(booth, url)
        try:
            online.ping()
            result = online.catch_up(everything=True)
        finally:
            online.close()
    finally:
        booth.database.dispose()
    assert result is not None
    report_import(result)
    return 0


def cmd_booth_serve(args: argparse.Namespace) -> int:
    from gateway.booth_api import server
    from kiosk.db import describe_url

    url = args.station_db or args.db or os.environ.get(datadir.ENV_DB)
    if not url:
        raise KioskError(
            _("Say which event database the gateway serves: --db STATION_URL or KIOSK_DB.")
        )
    database = open_database(url, migrate_schema=False)
    try:
        instance = server(database, host=args.host, port=args.port, cert=args.cert, key=args.key)
        out(
            _("The booth gateway serves {db} on {scheme}://{host}:{port}.").format(
                db=describe_url(url),
                scheme="https" if args.cert and args.key else "http",
                host=args.host,
                port=args.port,
            ),
            sys.stderr,
        )
        instance.run()
    finally:
        database.dispose()
    return 0
