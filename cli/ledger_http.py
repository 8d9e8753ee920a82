"""``kiosk ledger token|serve`` and the HTTPS side of ``kiosk sync push|pull``: a helper of
cli/sync_commands.py, which adds these parsers to its ``ledger`` group.

The bank's IT runs ``kiosk ledger serve`` (the reference service, sync/api.py) and makes one
token per event with ``kiosk ledger token``; the kiosk reaches it with ``--ledger https://…``
and the token from ``KIOSK_LEDGER_TOKEN`` (or typed on a terminal).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from cli.common import secret
from kiosk.errors import KioskError
from kiosk.i18n import _

if TYPE_CHECKING:
    from kiosk.db import Database

ENV_TOKEN = "KIOSK_LEDGER_TOKEN"


def add_tls_arguments(parser: argparse.ArgumentParser) -> None:
    """The TLS files, each defaulting to an environment variable: the app's background push
    (``ui/sync_status.py``) runs ``kiosk sync push`` with the app's environment and no
    options, so ``KIOSK_LEDGER=https://…`` with these set reaches a bank's HTTPS ledger too."""
    parser.add_argument(
        "--ca-file",
        metavar="FILE",
        default=os.environ.get("KIOSK_LEDGER_CA") or None,
        help=_("the CA certificate of a ledger with a private CA (or $KIOSK_LEDGER_CA)"),
    )
    parser.add_argument(
        "--client-cert",
        metavar="FILE",
        default=os.environ.get("KIOSK_LEDGER_CLIENT_CERT") or None,
        help=_("this laptop's client certificate, if asked (or $KIOSK_LEDGER_CLIENT_CERT)"),
    )
    parser.add_argument(
        "--client-key",
        metavar="FILE",
        default=os.environ.get("KIOSK_LEDGER_CLIENT_KEY") or None,
        help=_("the client certificate's key (or $KIOSK_LEDGER_CLIENT_KEY)"),
    )


def add_ledger_parsers(ledger_commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    token = ledger_commands.add_parser(
        "token", help=_("make (or revoke) an event's token for the HTTPS service")
    )
    token.add_argument("--url", dest="ledger", metavar="URL")
    token.add_argument("--event", metavar="CODE")
    token.add_argument("--revoke", metavar="TOKEN_ID")
    token.set_defaults(func=cmd_ledger_token)
    serve = ledger_commands.add_parser(
        "serve", help=_("serve the ledger's HTTPS API (the reference service)")
    )
    serve.add_argument("--url", dest="ledger", metavar="URL")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8443)
    serve.add_argument("--cert", metavar="FILE")
    serve.add_argument("--key", metavar="FILE")
    serve.add_argument(
        "--client-ca", metavar="FILE", help=_("require client certificates signed by this CA")
    )
    serve.add_argument(
        "--insecure-http",
        action="store_true",
        help=_("plain HTTP without TLS: a local rehearsal only"),
    )
    serve.set_defaults(func=cmd_ledger_serve)


def _url(args: argparse.Namespace) -> str:
    """The ledger's database URL: --url, else KIOSK_LEDGER (as cli/sync_commands.py)."""
    url = args.ledger or os.environ.get("KIOSK_LEDGER")
    if not url:
        raise KioskError(_("Say where the points ledger is: --ledger URL or KIOSK_LEDGER."))
    return url


def cmd_ledger_token(args: argparse.Namespace) -> int:
    from sync.ledger import Ledger

    ledger = Ledger.open(_url(args))
    try:
        if args.revoke:
            if not ledger.revoke_token(args.revoke):
                raise KioskError(_("There is no such token, or it is already revoked."))
            print(_("The token is revoked."))
            return 0
        if not args.event:
            raise KioskError(_("Say which event the token is for: --event CODE."))
        made = ledger.create_token(args.event)
    finally:
        ledger.dispose()
    print(made)
    print(
        _(
            "This token is shown once; give it to the event's kiosk as KIOSK_LEDGER_TOKEN. "
            "Revoke it with --revoke {id}."
        ).format(id=made.split(".", 1)[0]),
        file=sys.stderr,
    )
    return 0


def cmd_ledger_serve(args: argparse.Namespace) -> int:
    from sync.api import server
    from sync.ledger import Ledger

    if not args.insecure_http and not (args.cert and args.key):
        raise KioskError(
            _(
                "The ledger is served over HTTPS only: give --cert and --key (or "
                "--insecure-http for a local rehearsal)."
            )
        )
    if args.insecure_http:
        print(
            _("Serving plain HTTP, unencrypted: for a local rehearsal only, never at a bank."),
            file=sys.stderr,
        )
    ledger = Ledger.open(_url(args))
    try:
        server(
            ledger,
            host=args.host,
            port=args.port,
            cert=None if args.insecure_http else args.cert,
            key=None if args.insecure_http else args.key,
            client_ca=args.client_ca,
        ).run()
    finally:
        ledger.dispose()
    return 0


def open_ledger_for(args: argparse.Namespace, url: str, database: Database):  # type: ignore[no-untyped-def]
    """The ledger of ``--ledger`` for this event database's event."""
    from kiosk.services.events import current_event
    from sync.transport import open_ledger

    with database.unit_of_work() as uow:
        code = current_event(uow.session).code

    def token() -> str:
        return secret(
            ENV_TOKEN,
            _("Ledger token: "),
            _("Set KIOSK_LEDGER_TOKEN or run on a terminal to type the ledger token."),
        )

    return open_ledger(
        url,
        event=code,
        token=token,
        ca_file=args.ca_file,
        client_cert=args.client_cert,
        client_key=args.client_key,
        # The app's background push (--progress-lines) reads its child's output as lines of
        # its own; the app's settings chose the ledger, the terminal user hears it.
        warn=None
        if getattr(args, "progress_lines", False)
        else lambda sentence: print(sentence, file=sys.stderr),
    )
