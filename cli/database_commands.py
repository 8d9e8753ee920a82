"""``kiosk init``, ``kiosk db setup`` and ``kiosk db serve-help``: the event database itself,
on this laptop or on the venue LAN."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from cli.common import open_as_owner, out
from kiosk import datadir
from kiosk.i18n import _

if TYPE_CHECKING:
    from kiosk.lan_tls import TlsFiles


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
    serve.set_defaults(func=cmd_db_serve_help)

    setup = db_commands.add_parser(
        "setup",
        help=_("create the event database on PostgreSQL with an owner and a station role"),
    )
    setup.add_argument(
        "--admin", required=True, metavar="URL", help=_("a PostgreSQL superuser's URL")
    )
    setup.add_argument("--name", default="kiosk_event", help=_("database name"))
    setup.add_argument(
        "--host",
        metavar="ADDRESS",
        help=_("the server's LAN address for the stations (default: this machine's)"),
    )
    setup.add_argument(
        "--subnet", metavar="CIDR", help=_("the stations' subnet (default: the host's /24)")
    )
    setup.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        type=Path,
        help=_("folder for the URLs, passwords and certificates (kept private)"),
    )
    setup.add_argument(
        "--reset-passwords",
        action="store_true",
        help=_("on an existing database: give its two roles new passwords, change nothing else"),
    )
    setup.add_argument("--json", action="store_true", help=_("print the URLs as JSON"))
    setup.set_defaults(func=cmd_db_setup)


def cmd_init(args: argparse.Namespace) -> int:
    from kiosk.db import current_revision, describe_url

    database = open_as_owner(args.db, _("create or upgrade the event database"))
    out(
        _("Database ready: {url} (schema {rev}).").format(
            url=describe_url(database.url), rev=current_revision(database.engine)
        )
    )
    database.dispose()
    return 0


def cmd_db_serve_help(args: argparse.Namespace) -> int:
    from kiosk.lan import plan, serve_help

    chosen = plan(args.host, args.subnet, args.name)
    out(serve_help(chosen, args.db or datadir.default_url()))
    return 0


def _write_tls_files(folder: Path, host: str) -> TlsFiles | None:
    """The event's TLS files in ``folder``: the CA every station trusts and the server's
    certificate for ``host`` (and this machine's own names, so the owner's local
    connections verify too). A folder that holds them already keeps them (None): the CA's key
    is never kept, so new files would mean a new ``ca.crt`` on every station mid-event."""
    from kiosk import lan_tls

    if (folder / lan_tls.CA_FILE).exists() and (folder / lan_tls.SERVER_KEY_FILE).exists():
        return None
    return lan_tls.write_event_tls(folder, [host, "localhost", "127.0.0.1"])


def cmd_db_setup(args: argparse.Namespace) -> int:
    from kiosk.dbroles import hba_lines, setup_database, url_text, write_private
    from kiosk.lan import plan

    chosen = plan(args.host, args.subnet, args.name)
    roles = setup_database(
        args.admin, args.name, station_host=chosen.host, reset_passwords=args.reset_passwords
    )
    folder: Path = args.out
    from kiosk import lan_tls

    tls = _write_tls_files(folder, chosen.host)
    ca_path = folder / lan_tls.CA_FILE
    urls = {
        "owner": url_text(roles.owner_url),
        # Off this machine the station connects with verify-full and the event CA by itself
        # (kiosk.lan_tls.client_policy): the URL need not say so.
        "station": url_text(roles.station_url),
        # The booths go through the HTTPS gateway (kiosk booth serve), never the database.
        "booth": chosen.gateway_url,
        "ca": str(ca_path.resolve()),
    }
    write_private(folder / "database-urls.json", json.dumps(urls, indent=2) + "\n")
    if args.json:
        out(json.dumps(urls))
        return 0
    if roles.reset:
        out(
            _(
                "The database {name} exists already: its roles {owner} and {station} have new "
                "passwords, nothing else changed."
            ).format(name=roles.name, owner=roles.owner, station=roles.station)
        )
    else:
        out(
            _(
                "Database {name} is made, owned by {owner}, with the schema; the stations "
                "connect as {station}."
            ).format(name=roles.name, owner=roles.owner, station=roles.station)
        )
    out(
        _("The URLs with their passwords are in {path} (readable by you only).").format(
            path=folder / "database-urls.json"
        )
    )
    out()
    out(_("Steps left to do by hand:"))
    out(_("1. Add these lines to pg_hba.conf, above any other line for this database:"))
    for line in hba_lines(roles, chosen.subnet):
        out("     " + line)
    out(
        _(
            "   (If the coordinator works from another laptop than the server, add its "
            "address/32 to the owner's lines.)"
        )
    )
    out(
        _(
            "2. In postgresql.conf set listen_addresses to include {host}, and TLS on with the "
            "event's certificate:"
        ).format(host=chosen.host)
    )
    if tls is None:
        out(
            _(
                "   The certificates in {folder} are kept from the first set-up (the stations "
                "have their ca.crt already)."
            ).format(folder=folder)
        )
    else:
        for line in lan_tls.server_steps(tls):
            out("   " + line)
    out(
        _(
            "3. On the coordinator's laptop only, copy the prepared event with the owner's "
            "URL: kiosk event copy --from FILE --to OWNER_URL"
        )
    )
    out(
        _(
            "4. Every staff station opens the station URL: kiosk --db STATION_URL. Never give "
            "a station the owner's URL; the booths use the gateway, not the database."
        )
    )
    out(
        _(
            "5. On the server, serve the merchants' online booths (they get no database "
            "account): kiosk booth serve --db STATION_URL --cert {cert} --key {key}; each "
            "booth connects to {gateway} with the same ca.crt."
        ).format(cert=folder / "server.crt", key=folder / "server.key", gateway=urls["booth"])
    )
    return 0
