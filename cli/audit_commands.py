"""``kiosk audit verify`` and ``kiosk audit list``: check the audit chain, read the records."""

from __future__ import annotations

import argparse
from zoneinfo import ZoneInfo

from cli.common import open_database, out, positive
from kiosk.i18n import _


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    audit = commands.add_parser("audit", help=_("check and read the audit chain"))
    audit_commands = audit.add_subparsers(
        dest="audit_command", metavar="AUDIT_COMMAND", required=True
    )
    verify = audit_commands.add_parser(
        "verify", help=_("check that no audit record was edited, deleted or reordered")
    )
    verify.set_defaults(func=cmd_audit_verify)
    listing = audit_commands.add_parser("list", help=_("the newest audit records first"))
    listing.add_argument("--staff", metavar="STAFF_NO", help=_("only this staff number"))
    listing.add_argument("--action", metavar="ACTION", help=_("only this action code"))
    listing.add_argument(
        "--limit", type=positive, default=50, metavar="N", help=_("at most N records (50)")
    )
    listing.set_defaults(func=cmd_audit_list)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    import sys

    from kiosk.services.audit_trail import verify_chain

    database = open_database(args.db)
    try:
        report = verify_chain(database.unit_of_work())
    finally:
        database.dispose()
    if report.intact:
        out(_("intact: {n} records, head {head}").format(n=report.count, head=report.head[:16]))
        out(
            _(
                "Removing the newest records cannot be seen from the chain alone: compare the "
                "count and head with ones noted earlier or with a backup."
            )
        )
        return 0
    out(
        _("BROKEN: {p} problem(s) in {n} records (head {head})").format(
            p=len(report.problems), n=report.count, head=report.head[:16]
        ),
        sys.stderr,
    )
    for problem in report.problems:
        out(f"  {problem.reason}", sys.stderr)
    return 1


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
