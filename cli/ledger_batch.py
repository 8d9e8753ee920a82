"""``kiosk sync export-batch``, ``kiosk ledger apply-batch``, ``kiosk sync import-answers``:
the ledger by batch file, for a bank that never hands out its database URL (``sync.batch``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.common import ledger_url, passphrase
from kiosk import db as dbmod
from kiosk.i18n import _


def add_ledger_parsers(ledger_commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    apply = ledger_commands.add_parser(
        "apply-batch",
        help=_("apply a kiosk's signed batch file and write the signed answer file"),
    )
    apply.add_argument("file", metavar="FILE")
    apply.add_argument("--url", dest="ledger", metavar="URL")
    apply.add_argument("--answers", required=True, metavar="OUT")
    apply.add_argument(
        "--trust",
        metavar="FINGERPRINT",
        help=_("trust this event key from now on (the first batch of an event)"),
    )
    apply.add_argument("--event", metavar="CODE", help=_("refuse a batch of any other event"))
    apply.set_defaults(func=cmd_ledger_apply_batch)


def add_sync_parsers(sync_commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    export = sync_commands.add_parser(
        "export-batch",
        help=_("write everything pending as a signed batch file for the ledger (marks nothing)"),
    )
    export.add_argument("file", metavar="FILE")
    export.set_defaults(func=cmd_sync_export_batch, ledger=None)
    answers = sync_commands.add_parser(
        "import-answers", help=_("mark the outbox from the ledger's signed answer file")
    )
    answers.add_argument("file", metavar="FILE")
    answers.add_argument(
        "--trust",
        metavar="FINGERPRINT",
        help=_("trust this ledger key from now on (the first answer file)"),
    )
    answers.set_defaults(func=cmd_sync_import_answers, ledger=None)


def cmd_sync_export_batch(args: argparse.Namespace) -> int:
    from kiosk import privacy
    from kiosk.services import keys
    from sync.batch import export_batch

    database = dbmod.open_database(args.db)
    try:
        typed = passphrase()
        key = keys.unlock(database.unit_of_work(), typed)
        opener = privacy.unlock(database.unit_of_work(), typed)
        report = export_batch(database, Path(args.file), key, opener)
    finally:
        database.dispose()
    if not report.entries:
        print(_("Nothing is pending; no batch file was written."))
        return 0
    else:
        print(
            _(
                "{n} entries written to {file} (batch {batch}); nothing is marked until the "
                "ledger's answers are imported."
            ).format(n=report.entries, file=args.file, batch=report.batch_id)
        )
    print(_("Signed by the event key {fingerprint}.").format(fingerprint=report.fingerprint))
    if report.left:
        print(
            _("{n} more entries are pending: export them once this batch is answered.").format(
                n=report.left
            )
        )
    return 0


def cmd_ledger_apply_batch(args: argparse.Namespace) -> int:
    from sync.batch import apply_batch
    from sync.ledger import Ledger

    ledger = Ledger.open(ledger_url(args))
    try:
        report = apply_batch(
            ledger, Path(args.file), Path(args.answers), trust=args.trust, event_code=args.event
        )
    finally:
        ledger.dispose()
    if report.newly_trusted:
        print(_("The event key of {event} is trusted from now on.").format(event=report.event_code))
    print(
        _(
            "{n} entries of batch {batch} (event {event}) answered: {accepted} accepted, "
            "{rejected} rejected; answers in {file}."
        ).format(
            n=report.entries,
            batch=report.batch_id,
            event=report.event_code,
            accepted=report.accepted,
            rejected=report.rejected,
            file=args.answers,
        )
    )
    print(
        _("Answers signed by the ledger key {fingerprint}.").format(
            fingerprint=report.ledger_fingerprint
        )
    )
    return 0


def cmd_sync_import_answers(args: argparse.Namespace) -> int:
    from sync.batch import import_answers

    database = dbmod.open_database(args.db)
    try:
        report = import_answers(database, Path(args.file), trust=args.trust)
    finally:
        database.dispose()
    if report.newly_trusted:
        print(_("The ledger key is trusted from now on."))
    print(
        _(
            "{n} answers imported: {accepted} accepted, {rejected} rejected (conflicts), "
            "{already} marked before."
        ).format(
            n=report.answered,
            accepted=report.accepted,
            rejected=report.rejected,
            already=report.already,
        )
    )
    return 0
