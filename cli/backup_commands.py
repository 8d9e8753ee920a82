"""``kiosk backup`` and ``kiosk restore``: the event database kept safe on another disk, and
put back from there."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from cli.common import checkpoint_key, open_as_owner, out, positive, sign_checkpoint
from kiosk.db import describe_url
from kiosk.errors import KioskError
from kiosk.i18n import _


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from kiosk.backup import DEFAULT_KEEP

    backup = commands.add_parser(
        "backup", help=_("back the event database up to a folder (e.g. a USB stick)")
    )
    backup.add_argument("--to", required=True, metavar="DIR", type=Path)
    backup.add_argument(
        "--every",
        type=positive,
        metavar="MINUTES",
        help=_("keep running and back up every MINUTES minutes (Ctrl+C stops)"),
    )
    backup.add_argument(
        "--keep",
        type=positive,
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


def cmd_backup(args: argparse.Namespace) -> int:
    from kiosk.backup import backup

    database = open_as_owner(args.db, _("back up the event database"))
    try:
        # Each backup first signs a checkpoint of the audit chain (issue #26), which the
        # backup then carries and keeps beside itself; the passphrase is asked once.
        key = checkpoint_key(database)
        while True:
            sign_checkpoint(database, key, "backup")
            result = backup(database, args.to, keep=args.keep)
            out(
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
    from kiosk.backup import restore

    url = args.target_db or args.db
    if not url:
        raise KioskError(_("Say where to restore: kiosk restore FILE --db URL."))
    result = restore(args.file, url, replace=args.replace)
    out(_("Restored {file} into {url}.").format(file=args.file, url=describe_url(result.url)))
    return 0
