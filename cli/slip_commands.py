"""``kiosk slip …``: verify a slip code, issue a slip and write its PDF, write it again,
void it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from cli.common import (
    add_request_id,
    iso_date,
    open_database,
    out,
    passphrase,
    positive,
    request_id_of,
    warn,
)
from cli.staff import add_staff, add_supervisor, approval, signed_in
from kiosk.i18n import _

if TYPE_CHECKING:
    from kiosk.db import Database
    from kiosk.permissions import Approval
    from kiosk.services.auth import StaffSession
    from printing.paper import Paper


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    slip = commands.add_parser("slip", help=_("redemption slips"))
    slip_commands = slip.add_subparsers(dest="slip_command", metavar="SLIP_COMMAND", required=True)
    verify = slip_commands.add_parser("verify", help=_("print the verdict for a slip code"))
    verify.add_argument("code")
    verify.add_argument(
        "--merchant",
        metavar="CODE",
        help=_("judge as this merchant's booth would (default: any merchant)"),
    )
    verify.add_argument("--date", type=iso_date, help=_("the booth's date (default: today)"))
    verify.set_defaults(func=cmd_slip_verify)
    issue = slip_commands.add_parser(
        "issue", help=_("issue a slip for a checked-in customer and write its PDF")
    )
    issue.add_argument("--customer", required=True, metavar="CUSTOMER_NO")
    issue.add_argument("--offer", required=True, metavar="CODE")
    issue.add_argument("--qty", type=positive, default=1)
    issue.add_argument("--out", required=True, metavar="FILE.pdf")
    add_staff(issue, required=True, help=_("activation staff number recorded with the slip"))
    add_request_id(issue)
    issue.add_argument(
        "--override-gate",
        action="store_true",
        help=_(
            "issue although the customer has not done the steps the event requires "
            "(a supervisor approves: --supervisor, unless --staff is one; audited)"
        ),
    )
    add_supervisor(issue)
    issue.set_defaults(func=cmd_slip_issue)
    again = slip_commands.add_parser(
        "print", help=_("write the PDF of an issued slip again (counted as another copy)")
    )
    again.add_argument("serial", type=positive)
    again.add_argument("--out", required=True, metavar="FILE.pdf")
    add_staff(again, required=True)
    add_supervisor(again)
    again.set_defaults(func=cmd_slip_print)
    void = slip_commands.add_parser("void", help=_("void an issued slip and release its points"))
    void.add_argument("serial", type=positive)
    add_staff(void, required=True)
    void.add_argument("--reason", required=True)
    add_supervisor(void)
    void.set_defaults(func=cmd_slip_void)


def cmd_slip_verify(args: argparse.Namespace) -> int:
    """Exit 0 when the slip is valid, 1 otherwise; the verdict is printed either way."""
    from kiosk.labels import verdict_label
    from kiosk.services.keys import verify_code
    from kiosk.slipcode import Verdict

    database = open_database(args.db)
    check = verify_code(
        database.unit_of_work(), args.code, merchant_code=args.merchant, today=args.date
    )
    database.dispose()
    out(verdict_label(check.verdict))
    payload = check.payload
    if payload is not None and check.verdict not in (Verdict.OTHER_EVENT, Verdict.UNREADABLE):
        out(
            _(
                "Slip {serial}: {merchant} · {offer} × {quantity} · {points:,} points · "
                "redeem by {date} · {name}"
            ).format(
                serial=payload.serial,
                merchant=check.merchant_name or payload.merchant,
                offer=check.offer_name or payload.offer,
                quantity=payload.quantity,
                points=payload.points,
                date=payload.redeem_by.isoformat(),
                name=payload.masked_name,
            )
        )
    return 0 if check.verdict == Verdict.VALID else 1


def cmd_slip_issue(args: argparse.Namespace) -> int:
    """Exit 0 when the slip is issued (now, or by this request's earlier try); a PDF that
    could not be written, or a copy that could not be counted, is a warning: the slip
    stands, and ``kiosk slip print`` writes it again."""
    from kiosk.permissions import Action
    from kiosk.services import keys, reception
    from kiosk.services.slips import CartLine, issue_slips
    from printing.printer import slip_paper_from_environment

    paper = slip_paper_from_environment()  # a bad setting stops before a slip is issued
    database = open_database(args.db)
    try:
        staff = signed_in(database, args.staff)
        customer_id = reception.resolve_code(database.unit_of_work(), args.customer)
        key = keys.unlock(database.unit_of_work(), passphrase())
        request_id = request_id_of(args)
        # The redemption gate refuses in words (what is missing, where to send the customer)
        # unless a supervisor approves the override.
        override = approval(database, args, Action.OVERRIDE_GATE) if args.override_gate else None
        slip = issue_slips(
            database.unit_of_work(),
            customer_id,
            [CartLine(args.offer, args.qty)],
            staff,
            key,
            station="cli",
            request_id=request_id,
            override=args.override_gate,
            approval=override,
        )[0]
        what = _("Slip {serial} issued: {merchant} · {offer} × {n} · {points:,} points").format(
            serial=slip.serial,
            merchant=slip.merchant,
            offer=slip.offer,
            n=slip.quantity,
            points=slip.points,
        )
        if slip.replayed:
            what += " " + _("(by request {id}'s earlier try; not issued twice)").format(
                id=request_id
            )
        if slip.replayed and slip.copies_printed:
            out(what)
            out(
                _(
                    "Its PDF was already written ({n} copies counted); kiosk slip print {serial} "
                    "writes it again."
                ).format(n=slip.copies_printed, serial=slip.serial)
            )
        else:
            problem = ""
            try:
                path = _write_slip(database, slip.serial, staff, Path(args.out), paper)
            except _PrintUnfinished as unfinished:
                path, problem = unfinished.path, str(unfinished)
            if path is None:
                out(what)
            else:
                out(_("{what}; PDF {path}").format(what=what, path=path))
            if problem:
                warn(
                    _("Slip No. {serial:06d} issued (printing not finished): {reason}").format(
                        serial=slip.serial, reason=problem
                    )
                )
    finally:
        database.dispose()
    out(slip.code)
    return 0


class _PrintUnfinished(Exception):
    """The slip stands; its PDF (``path``, None when not written) or its count did not."""

    def __init__(self, message: str, path: Path | None) -> None:
        super().__init__(message)
        self.path = path


def _write_slip(
    database: Database,
    serial: int,
    staff: StaffSession,
    path: Path,
    paper: Paper,
    approval: Approval | None = None,
    *,
    first: bool = True,
) -> Path:
    """Write the slip's PDF and count it as a printed copy (the file is the copy here), by
    the print flow the activation desk runs (``printing.flow.print_slip``).

    With ``first`` (right after issuing) nothing that fails here undoes the issue: it raises
    ``_PrintUnfinished`` saying what is left to do, for a warning."""
    from kiosk.i18n import sentences
    from kiosk.storage import file_error
    from printing.flow import print_slip

    copy = print_slip(
        database.unit_of_work,
        serial,
        staff,
        path,
        paper=paper,
        approval=approval,
        station="cli",
    )
    if copy.error is not None:
        error = file_error(copy.error, path) if isinstance(copy.error, OSError) else copy.error
        if not first:
            raise error from None
        again = _(
            "Write it again with: kiosk slip print {serial} --out {out} --staff {staff}"
        ).format(serial=serial, out=path, staff=staff.staff_no)
        raise _PrintUnfinished(sentences(str(error), again), None) from None
    if copy.uncounted:
        message = _("the PDF is written, but the copy could not be counted: {reason}").format(
            reason=copy.uncounted
        )
        if not first:
            warn(message)
        else:
            raise _PrintUnfinished(message, path)
    return path


def cmd_slip_print(args: argparse.Namespace) -> int:
    from kiosk.permissions import Action
    from printing.printer import slip_paper_from_environment

    paper = slip_paper_from_environment()
    database = open_database(args.db)
    staff = signed_in(database, args.staff)
    path = _write_slip(
        database,
        args.serial,
        staff,
        Path(args.out),
        paper,
        approval(database, args, Action.REPRINT_SLIP),
        first=False,
    )
    database.dispose()
    out(_("Slip {serial} written again to {path}.").format(serial=args.serial, path=path))
    return 0


def cmd_slip_void(args: argparse.Namespace) -> int:
    from kiosk.permissions import Action
    from kiosk.services.slips import void_slip

    database = open_database(args.db)
    staff = signed_in(database, args.staff)
    void_slip(
        database.unit_of_work(),
        args.serial,
        staff,
        reason=args.reason,
        approval=approval(database, args, Action.VOID_SLIP),
        station="cli",
    )
    database.dispose()
    out(_("Slip {serial} voided; its points are released.").format(serial=args.serial))
    return 0
