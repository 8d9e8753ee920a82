"""``kiosk init`` and ``kiosk db serve-help``: the event database itself, on this laptop or on
the venue LAN."""

from __future__ import annotations

import argparse

from cli.common import out
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


def cmd_init(args: argparse.Namespace) -> int:
    database = dbmod.open_database(args.db)
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
