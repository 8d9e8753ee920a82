"""``kiosk audit verify``, ``kiosk audit checkpoint`` and ``kiosk audit list``: check the audit
chain against its signed checkpoints and the money rows it must account for, sign a
checkpoint, read the records."""

from __future__ import annotations

import argparse
from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

from cli.common import checkpoint_key, open_database, out, positive
from cli.staff import signed_in
from kiosk.i18n import _


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    audit = commands.add_parser("audit", help=_("check and read the audit chain"))
    audit_commands = audit.add_subparsers(
        dest="audit_command", metavar="AUDIT_COMMAND", required=True
    )
    verify = audit_commands.add_parser(
        "verify", help=_("check that no audit record was edited, deleted or reordered")
    )
    verify.add_argument(
        "--backups",
        type=Path,
        metavar="DIR",
        help=_("also compare with the checkpoints kept in this backup folder"),
    )
    verify.add_argument(
        "--checkpoint",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help=_("also compare with the checkpoints in this file (JSON lines; may be repeated)"),
    )
    verify.set_defaults(func=cmd_audit_verify)
    checkpoint = audit_commands.add_parser(
        "checkpoint",
        help=_("sign the audit chain's head with the event key (passphrase as for slip issue)"),
    )
    checkpoint.add_argument("--staff", required=True, metavar="STAFF_NO")
    checkpoint.add_argument(
        "--out", type=Path, metavar="FILE", help=_("also write the checkpoint to this file")
    )
    checkpoint.set_defaults(func=cmd_audit_checkpoint)
    listing = audit_commands.add_parser("list", help=_("the newest audit records first"))
    listing.add_argument("--staff", metavar="STAFF_NO", help=_("only this staff number"))
    listing.add_argument("--action", metavar="ACTION", help=_("only this action code"))
    listing.add_argument(
        "--limit", type=positive, default=50, metavar="N", help=_("at most N records (50)")
    )
    listing.set_defaults(func=cmd_audit_list)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    import sys

    from kiosk import checkpoint
    from kiosk.services.checkpoints import verify

    found = checkpoint.Found()
    if args.backups is not None:
        found.extend(checkpoint.read_folder(args.backups))
    for path in args.checkpoint:
        found.extend(checkpoint.read_file(path))
    database = open_database(args.db)
    try:
        report = verify(database.unit_of_work(), found)
    finally:
        database.dispose()
    chain, signed, rows = report.chain, report.checkpoints, report.coverage
    if report.intact:
        out(_("intact: {n} records, head {head}").format(n=chain.count, head=chain.head[:16]))
    else:
        problems = len(chain.problems) + len(signed.problems) + len(rows.problems)
        out(
            _("BROKEN: {p} problem(s) in {n} records (head {head})").format(
                p=problems, n=chain.count, head=chain.head[:16]
            ),
            sys.stderr,
        )
        for problem in [*chain.problems, *signed.problems, *rows.problems]:
            out(f"  {problem.reason}", sys.stderr)
    newest = signed.newest
    if newest is None:
        out(
            _(
                "No signed checkpoint was found: removing the newest records, or rewriting "
                "records with every later hash, cannot be seen from the chain alone. Sign one "
                "with kiosk audit checkpoint."
            )
        )
    else:
        out(
            _(
                "Newest signed checkpoint: {at:%Y-%m-%d %H:%M:%S} UTC ({reason}, {source}), "
                "{n} records, key {key}; {checked} checkpoint(s) compared."
            ).format(
                at=newest.at.astimezone(UTC),
                reason=checkpoint.reason_label(newest.reason),
                source=checkpoint.source_label(newest.source),
                n=newest.count,
                key=newest.key_id,
                checked=signed.checked,
            )
        )
    if signed.not_covered is not None:
        first, last, n = signed.not_covered
        if newest is None:
            text = _("None of the {n} records is covered by a checkpoint yet.")
        elif n == 1:
            text = _("Record {last} was written after it and is not yet covered by a checkpoint.")
        else:
            text = _(
                "Records {first} to {last} ({n}) were written after it and are not yet covered "
                "by a checkpoint."
            )
        out(text.format(first=first, last=last, n=n))
    elif newest is not None and not signed.problems:
        out(_("Every record is covered by the checkpoint."))
    if rows.complete:
        out(
            _(
                "Every points-journal, slip, redemption and outbox row ({n}) is accounted for "
                "by an audit record."
            ).format(n=rows.rows)
        )
    return 0 if report.intact else 1


def cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    from kiosk import checkpoint
    from kiosk.audit import canonical_json
    from kiosk.files import write_text_atomic
    from kiosk.services import checkpoints

    database = open_database(args.db)
    try:
        staff = signed_in(database, args.staff)
        signed = checkpoints.sign_checkpoint(
            database.unit_of_work(),
            checkpoint_key(database, required=True),
            reason="manual",
            staff=staff,
            station="cli",
        )
    finally:
        database.dispose()
    out(
        _(
            "Checkpoint signed: the audit chain's {n} records, head {head}, with key {key}. "
            "kiosk audit verify compares the chain with it from now on."
        ).format(n=signed.count, head=signed.head[:16], key=signed.key_id)
    )
    if args.out:
        write_text_atomic(args.out, canonical_json(checkpoint.Checkpoint.to_json(signed)) + "\n")
        out(_("Written to {path}.").format(path=args.out))
    return 0


def cmd_audit_list(args: argparse.Namespace) -> int:
    from kiosk.labels import audit_action_label
    from kiosk.services.audit_trail import event_timezone, recent

    database = open_database(args.db)
    try:
        rows = recent(
            database.unit_of_work(), staff_no=args.staff, action=args.action, limit=args.limit
        )
        zone = ZoneInfo(event_timezone(database.unit_of_work()))
    finally:
        database.dispose()
    if not rows:
        out(_("No audit records match."))
        return 0
    for row in rows:
        approved = _("approved by {no}").format(no=row.approved_by) if row.approved_by else ""
        entity = f"{row.entity} {row.entity_id}".strip()
        label = audit_action_label(row.action)
        out(
            "  ".join(
                part
                for part in (
                    f"{row.id:>6}",
                    row.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                    f"{row.staff_no or '-':<6}",
                    f"{row.station or '-':<12}",
                    f"{row.action} ({label})" if label != row.action else row.action,
                    entity,
                    approved,
                )
                if part
            )
        )
    return 0
