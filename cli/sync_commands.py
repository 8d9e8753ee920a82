"""``kiosk ledger …`` and ``kiosk sync …``: the reference central ledger and the sync with it.

The ledger URL comes from ``--ledger`` / ``--url`` or ``KIOSK_LEDGER``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from cli import ledger_batch
from cli.common import checkpoint_key, ledger_url, open_database, passphrase, sign_checkpoint
from cli.staff import add_staff
from kiosk.errors import KioskError
from kiosk.i18n import _

if TYPE_CHECKING:
    from kiosk.db import Database


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    ledger = commands.add_parser("ledger", help=_("the reference central points ledger"))
    ledger_commands = ledger.add_subparsers(
        dest="ledger_command", metavar="LEDGER_COMMAND", required=True
    )
    init = ledger_commands.add_parser("init", help=_("create an empty ledger at the URL"))
    init.add_argument("--url", dest="ledger", metavar="URL")
    init.set_defaults(func=cmd_ledger_init)
    seed = ledger_commands.add_parser(
        "seed", help=_("fill the ledger with the event's customers (demo and rehearsals)")
    )
    seed.add_argument("--url", dest="ledger", metavar="URL")
    seed.set_defaults(func=cmd_ledger_seed)
    ledger_batch.add_ledger_parsers(ledger_commands)
    from cli.ledger_http import add_ledger_parsers

    add_ledger_parsers(ledger_commands)

    sync = commands.add_parser(
        "sync", help=_("pull a snapshot from / push the outbox to the ledger")
    )
    sync_commands = sync.add_subparsers(dest="sync_command", metavar="SYNC_COMMAND", required=True)
    pull = sync_commands.add_parser(
        "pull", help=_("refresh the customers' balances, tiers and KYC from the ledger")
    )
    pull.add_argument("--ledger", metavar="URL")
    _add_tls(pull)
    add_staff(pull, required=True, help=_("staff number of the supervisor who refreshes"))
    pull.set_defaults(func=cmd_sync_pull)
    push = sync_commands.add_parser(
        "push", help=_("send everything pending to the ledger; safe to run again")
    )
    push.add_argument("--ledger", metavar="URL")
    _add_tls(push)
    push.add_argument("--batch", type=int, default=5000, metavar="N")
    # For the app's background push, which runs this command as a child process.
    push.add_argument("--progress-lines", action="store_true", help=argparse.SUPPRESS)
    push.set_defaults(func=cmd_sync_push)
    status = sync_commands.add_parser("status", help=_("what is pending, accepted and rejected"))
    status.set_defaults(func=cmd_sync_status, ledger=None)
    ledger_batch.add_sync_parsers(sync_commands)


def _add_tls(parser: argparse.ArgumentParser) -> None:
    from cli.ledger_http import add_tls_arguments

    add_tls_arguments(parser)


def _open(args: argparse.Namespace, database: Database):  # type: ignore[no-untyped-def]
    from cli.ledger_http import open_ledger_for

    return open_ledger_for(args, ledger_url(args), database)


def cmd_ledger_init(args: argparse.Namespace) -> int:
    from sync.ledger import Ledger

    Ledger.open(ledger_url(args), create=True).dispose()
    print(_("The points ledger is ready."))
    return 0


def cmd_ledger_seed(args: argparse.Namespace) -> int:
    from kiosk import privacy
    from sync.ledger import Ledger
    from sync.push import accounts_from_event

    database = open_database(args.db)
    opener = privacy.Opener(None)
    with database.unit_of_work() as uow:
        sealed = privacy.has_key(uow.session)
    if sealed:  # the ledger gets the full phones and IDs
        opener = privacy.unlock(database.unit_of_work(), passphrase())
    from kiosk.services.events import current_event

    with database.unit_of_work() as uow:
        code = current_event(uow.session).code
    ledger = Ledger.open(ledger_url(args), create=True)
    count = ledger.upsert_accounts(accounts_from_event(database, opener), event=code)
    ledger.dispose()
    database.dispose()
    print(_("{n} customer accounts written to the ledger.").format(n=count))
    return 0


def cmd_sync_pull(args: argparse.Namespace) -> int:
    from cli.staff import signed_in
    from sync.push import pull

    database = open_database(args.db)
    ledger = _open(args, database)
    try:
        report = pull(database, ledger, signed_in(database, args.staff))
    finally:
        ledger.dispose()
        database.dispose()
    print(
        _("{n} customers refreshed from the ledger as of {time}.").format(
            n=report.updated, time=report.as_of.strftime("%Y-%m-%d %H:%M")
        )
    )
    if report.missing:
        print(
            _("{n} customers are not in the ledger: {numbers}").format(
                n=len(report.missing), numbers=", ".join(report.missing[:20])
            )
        )
    return 0


def _bar(done: int, total: int) -> None:
    width = 30
    filled = width * done // total if total else width
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    sys.stderr.flush()


def _lines(done: int, total: int) -> None:
    print(f"progress {done} {total}", flush=True)


def cmd_sync_push(args: argparse.Namespace) -> int:
    from sync.push import SyncBusy, push

    if args.batch <= 0:
        raise KioskError(_("The batch size must be at least 1."))
    database = open_database(args.db)
    ledger = _open(args, database)
    try:
        # Every push carries a checkpoint of the audit chain to the ledger (issue #26),
        # signed first so it goes in this push; the app's background push (--progress-lines)
        # signs one when it was given the passphrase.
        if not args.progress_lines:
            sign_checkpoint(database, checkpoint_key(database), "push")
        elif os.environ.get("KIOSK_PASSPHRASE"):
            from kiosk.services import checkpoints

            checkpoints.sign_checkpoint(
                database.unit_of_work(),
                checkpoints.unlock(database.unit_of_work(), passphrase()),
                reason="push",
                station="sync",
            )
        report = push(
            database,
            ledger,
            batch_size=args.batch,
            progress=_lines if args.progress_lines else _bar,
            opener=_opener_if_needed(database),
        )
    except SyncBusy:
        if not args.progress_lines:
            raise  # one sentence on stderr, exit 1: this command pushed nothing
        print("busy", flush=True)  # the app's header: not a failure, the other push runs
        return 0
    finally:
        ledger.dispose()
        database.dispose()
    if args.progress_lines:
        print(f"pushed {report.sent} {report.accepted} {report.rejected}", flush=True)
        if report.held:
            print(f"held {report.held}", flush=True)
        return 0
    if report.sent:
        sys.stderr.write("\n")
    print(
        _("{sent} entries pushed: {accepted} accepted, {rejected} rejected (conflicts).").format(
            sent=report.sent, accepted=report.accepted, rejected=report.rejected
        )
    )
    if report.held:
        print(
            _(
                "{n} governance changes carry sealed personal data and wait for a push with "
                "the event passphrase (KIOSK_PASSPHRASE or typed on a terminal)."
            ).format(n=report.held)
        )
    return 0


def _opener_if_needed(database: Database):  # type: ignore[no-untyped-def]
    """The opener for sealed entries when some are pending and the passphrase is at hand
    (KIOSK_PASSPHRASE, or a terminal to type it on); None otherwise: the rest goes alone."""
    from kiosk import privacy
    from sync.push import pending

    if not pending(database, sealed=True):
        return None
    if not os.environ.get("KIOSK_PASSPHRASE") and not (sys.stdin and sys.stdin.isatty()):
        return None

    return privacy.unlock(database.unit_of_work(), passphrase())


def cmd_sync_status(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from kiosk.models import OutboxEntry

    database = open_database(args.db)
    with database.unit_of_work() as uow:
        counts = dict(
            uow.session.execute(
                select(OutboxEntry.status, func.count()).group_by(OutboxEntry.status)
            ).all()
        )
    database.dispose()
    print(
        _("Outbox: {pending} pending, {accepted} accepted, {rejected} rejected.").format(
            pending=counts.get("pending", 0),
            accepted=counts.get("accepted", 0),
            rejected=counts.get("rejected", 0),
        )
    )
    return 0
