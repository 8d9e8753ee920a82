"""``kiosk event encrypt / purge``, ``kiosk backup`` and ``kiosk restore``: the event's data
kept safe, then removed when the event is over."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from cli.staff import acting, add_staff
from kiosk import db as dbmod
from kiosk.errors import KioskError
from kiosk.i18n import _


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


def add_event_commands(event_commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from kiosk.backup import DEFAULT_KEEP

    backup = commands.add_parser(
        "backup", help=_("back the event database up to a folder (e.g. a USB stick)")
    )
    backup.add_argument("--to", required=True, metavar="DIR", type=Path)
    backup.add_argument(
        "--every",
        type=_positive,
        metavar="MINUTES",
        help=_("keep running and back up every MINUTES minutes (Ctrl+C stops)"),
    )
    backup.add_argument(
        "--keep",
        type=_positive,
        default=DEFAULT_KEEP,
        metavar="N",
        help=_("keep the N newest backups of the event (default {n})").format(n=DEFAULT_KEEP),
    )
    backup.set_defaults(func=cmd_backup)
    restore = commands.add_parser(
        "restore", help=_("restore a backup into a new SQLite file or an empty PostgreSQL database")
    )
    restore.add_argument("file", metavar="FILE", type=Path)
    restore.add_argument("--db", dest="target_db", metavar="URL", help=_("where to restore"))
    restore.add_argument(
        "--replace", action="store_true", help=_("overwrite an existing SQLite file")
    )
    restore.set_defaults(func=cmd_restore)


def cmd_event_encrypt(args: argparse.Namespace) -> int:
    from cli.main import _out, _passphrase
    from kiosk.services.personal_data import compact, encrypt_event

    database = dbmod.open_database(args.db)
    try:
        staff = acting(database, args.staff)
        report = encrypt_event(database.unit_of_work(), _passphrase(), staff=staff)
        compact(database)
    finally:
        database.dispose()
    if report.key_created:
        _out(_("The event's privacy key is made, locked with the event passphrase."))
    _out(
        _(
            "{n} customers' phones, ID numbers and addresses sealed; {m} governance changes "
            "waiting for the ledger sealed."
        ).format(n=report.customers, m=report.outbox)
    )
    return 0


def cmd_event_purge(args: argparse.Namespace) -> int:
    from cli.main import _out
    from kiosk.services.personal_data import compact, purge

    database = dbmod.open_database(args.db)
    try:
        staff = acting(database, args.staff)
        assert staff is not None  # --staff is required
        report = purge(database.unit_of_work(), staff)
        compact(database)
    finally:
        database.dispose()
    _out(
        _(
            "Personal data of {n} customers removed; counts, points, slips and the customer "
            "numbers stay for the reports."
        ).format(n=report.customers)
    )
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from cli.main import _out
    from kiosk.backup import backup

    database = dbmod.open_database(args.db)
    try:
        while True:
            result = backup(database, args.to, keep=args.keep)
            _out(
                _("Backed up to {path} ({size:,} bytes, {ms} ms).").format(
                    path=result.path, size=result.size, ms=round(result.seconds * 1000)
                )
            )
            if not args.every:
                return 0
            time.sleep(args.every * 60)
    finally:
        database.dispose()


def cmd_restore(args: argparse.Namespace) -> int:
    from cli.main import _out
    from kiosk.backup import restore

    url = args.target_db or args.db
    if not url:
        raise KioskError(_("Say where to restore: kiosk restore FILE --db URL."))
    result = restore(args.file, url, replace=args.replace)
    _out(_("Restored {file} into {url}.").format(file=args.file, url=result.url))
    return 0
