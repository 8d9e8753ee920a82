"""``kiosk sync export-batch``, ``kiosk ledger apply-batch``, ``kiosk sync import-answers``:
the ledger by batch file, for a bank that never hands out its database URL (``sync.batch``);
``kiosk ledger export-snapshot`` and ``kiosk sync import-snapshot``: the pull by file
(``sync.snapshot_file``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.common import ledger_url, open_database, passphrase
from cli.staff import add_staff
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
    snapshot = ledger_commands.add_parser(
        "export-snapshot",
        help=_("write an event's snapshot (balances, lots, tiers, KYC) as a signed file"),
    )
    snapshot.add_argument("--url", dest="ledger", metavar="URL")
    snapshot.add_argument("--event", required=True, metavar="CODE")
    snapshot.add_argument("--out", required=True, metavar="FILE")
    snapshot.add_argument(
        "--day",
        metavar="YYYY-MM-DD",
        help=_("count balances and the points stock on this day (default: the ledger's today)"),
    )
    snapshot.set_defaults(func=cmd_ledger_export_snapshot)
    checkpoints = ledger_commands.add_parser(
        "export-checkpoints",
        help=_(
            "write the signed checkpoints of an event's audit chain the ledger received, "
            "for kiosk audit verify --checkpoint"
        ),
    )
    checkpoints.add_argument("--url", dest="ledger", metavar="URL")
    checkpoints.add_argument("--event", required=True, metavar="CODE")
    checkpoints.add_argument("--out", required=True, metavar="FILE")
    checkpoints.set_defaults(func=cmd_ledger_export_checkpoints)


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
    snapshot = sync_commands.add_parser(
        "import-snapshot",
        help=_("refresh the customers from the ledger's signed snapshot file, as a pull does"),
    )
    snapshot.add_argument("file", metavar="FILE")
    add_staff(snapshot, required=True, help=_("staff number of the supervisor who refreshes"))
    snapshot.add_argument(
        "--trust",
        metavar="FINGERPRINT",
        help=_("trust this ledger key from now on (the first file from this ledger)"),
    )
    snapshot.set_defaults(func=cmd_sync_import_snapshot, ledger=None)


def cmd_sync_export_batch(args: argparse.Namespace) -> int:
    from kiosk import privacy
    from kiosk.services import keys
    from sync.batch import export_batch

    database = open_database(args.db)
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

    database = open_database(args.db)
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


def cmd_ledger_export_snapshot(args: argparse.Namespace) -> int:
    from datetime import date

    from kiosk.errors import KioskError
    from sync.ledger import Ledger
    from sync.snapshot_file import export_snapshot

    day = None
    if args.day:
        try:
            day = date.fromisoformat(args.day)
        except ValueError:
            raise KioskError(
                _("--day {text} is not a date (YYYY-MM-DD).").format(text=args.day)
            ) from None
    ledger = Ledger.open(ledger_url(args))
    try:
        report = export_snapshot(ledger, args.event, Path(args.out), day=day)
    finally:
        ledger.dispose()
    print(
        _("{n} accounts of event {event} as on {day} written to {file}.").format(
            n=report.accounts, event=report.event_code, day=report.day.isoformat(), file=args.out
        )
    )
    print(
        _("Signed by the ledger key {fingerprint}.").format(fingerprint=report.ledger_fingerprint)
    )
    return 0


def cmd_ledger_export_checkpoints(args: argparse.Namespace) -> int:
    from kiosk.audit import canonical_json
    from kiosk.files import write_text_atomic
    from sync.ledger import Ledger

    ledger = Ledger.open(ledger_url(args))
    try:
        found = ledger.checkpoints(args.event)
    finally:
        ledger.dispose()
    write_text_atomic(Path(args.out), "".join(canonical_json(c) + "\n" for c in found))
    print(
        _("{n} checkpoints of event {event} written to {file}.").format(
            n=len(found), event=args.event, file=args.out
        )
    )
    return 0


def cmd_sync_import_snapshot(args: argparse.Namespace) -> int:
    from cli.staff import signed_in
    from sync.snapshot_file import import_snapshot

    database = open_database(args.db)
    try:
        report = import_snapshot(
            database, Path(args.file), signed_in(database, args.staff), trust=args.trust
        )
    finally:
        database.dispose()
    if report.newly_trusted:
        print(_("The ledger key is trusted from now on."))
    pulled = report.pulled
    print(
        _("{n} customers refreshed from the ledger as of {time}.").format(
            n=pulled.updated, time=pulled.as_of.strftime("%Y-%m-%d %H:%M")
        )
    )
    print(
        _("The snapshot was written by the ledger at {time}; balances as on {day}.").format(
            time=report.created_at.strftime("%Y-%m-%d %H:%M"), day=report.day.isoformat()
        )
    )
    if pulled.missing:
        print(
            _("{n} customers are not in the ledger: {numbers}").format(
                n=len(pulled.missing), numbers=", ".join(pulled.missing[:20])
            )
        )
    return 0
