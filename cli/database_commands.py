"""``kiosk init``, ``kiosk db setup`` and ``kiosk db serve-help``: the event database itself,
on this laptop or on the venue LAN."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cli.common import open_as_owner, out
from kiosk import db as dbmod
from kiosk.i18n import _


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
    serve.add_argument("--user", default="kiosk", help=_("database role"))
    serve.add_argument("--password", help=_("the role's password (default: a fresh random one)"))
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
    database = open_as_owner(args.db, _("create or upgrade the event database"))
    out(
        _("Database ready: {url} (schema {rev}).").format(
            url=dbmod.describe_url(database.url), rev=dbmod.current_revision(database.engine)
        )
    )
    database.dispose()
    return 0


def cmd_db_serve_help(args: argparse.Namespace) -> int:
    from kiosk.lan import plan, serve_help

    chosen = plan(args.host, args.subnet, args.name, args.user, args.password)
    out(serve_help(chosen, args.db or dbmod.default_url()))
    return 0


def _write_tls_files(folder: Path, host: str) -> str | None:
    """THE one call point for the event's TLS files (CA and server certificate) in --out.

    ``kiosk.lan_tls`` (issue #29, TLS part) is wired in here at merge; until then no
    certificate is written and the CA is null.
    """
    return None


def cmd_db_setup(args: argparse.Namespace) -> int:
    from kiosk.dbroles import hba_lines, setup_database, url_text, write_private
    from kiosk.lan import plan

    chosen = plan(args.host, args.subnet, args.name)
    roles = setup_database(
        args.admin, args.name, station_host=chosen.host, reset_passwords=args.reset_passwords
    )
    folder: Path = args.out
    ca = _write_tls_files(folder, chosen.host)
    urls = {
        "owner": url_text(roles.owner_url),
        "station": url_text(roles.station_url),
        "booth": None,  # the booths go through the HTTPS gateway, never the database
        "ca": ca,
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
            "2. Set ssl = on with the server certificate in postgresql.conf, listen_addresses "
            "to include {host}, and reload PostgreSQL."
        ).format(host=chosen.host)
    )
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
    return 0
