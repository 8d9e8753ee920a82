"""The print flows both faces run: a copy of a slip, a queue ticket, a points statement.

The activation desk and ``kiosk slip issue`` / ``kiosk slip print`` print a slip the same way,
the reception desk and ``kiosk checkin`` a ticket; only what each face says about the outcome
is its own. A slip's copy is checked before anything is rendered (a refused reprint never
reaches paper or disk uncounted), rendered from the service's ``SlipDocument``, sent, and
counted, or its failure audited. Nothing that fails here undoes the issue or the check-in:
the outcome says what became of the printout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.permissions import Approval
from kiosk.services import reception, slips, statement
from kiosk.services.auth import StaffSession
from kiosk.services.reception import CheckInResult
from kiosk.uow import UnitOfWork
from printing.paper import Paper, StatementPaper
from printing.printer import (
    Printer,
    PrinterSettingError,
    PrintOutcome,
    PrintProblem,
    failed,
    not_saved,
    slip_paper_from_environment,
)
from printing.slips import render_slip
from printing.statement import render_statement
from printing.tickets import render_queue_ticket


@dataclass(frozen=True)
class SlipCopy:
    """What became of one copy of a slip."""

    outcome: PrintOutcome
    # Why no PDF was made: the service refused the copy, or the PDF could not be written.
    error: KioskError | OSError | None = None
    # The copy came out (or its PDF stands for it) but could not be counted: why, in words.
    uncounted: str = ""


def print_slip(
    uow: Callable[[], UnitOfWork],
    serial: int,
    staff: StaffSession,
    to: Printer | Path,
    *,
    paper: Paper | None = None,
    approval: Approval | None = None,
    clock: Clock | None = None,
    station: str = "activation",
) -> SlipCopy:
    """Print one copy of slip ``serial`` and count it; a copy after the first carries the
    supervisor's ``approval`` to the service.

    ``to`` is a printer (the PDF is spooled, then sent; with no printer set up the kept PDF
    is the copy) or a file, which is the copy itself (the command line). ``paper`` defaults
    to ``KIOSK_SLIP_PAPER``.
    """
    printer = to if isinstance(to, Printer) else None
    path = printer.path_for(f"slip-{serial:06d}.pdf") if printer is not None else Path(to)
    try:
        slips.check_print(uow(), serial, staff, approval=approval)
    except KioskError as error:
        return SlipCopy(failed(path, PrintProblem.FAILED, str(error)), error)
    error: KioskError | OSError
    try:
        document = slips.slip_document(uow(), serial)
        render_slip(document, path, paper or slip_paper_from_environment())
    except PrinterSettingError as setting:
        error, outcome = setting, failed(path, PrintProblem.SETTING, str(setting))
    except (KioskError, OSError) as unwritten:
        error, outcome = unwritten, not_saved(path, unwritten)
    else:
        if printer is None:
            outcome = PrintOutcome(path, False, _("Written to {path}.").format(path=path))
        else:
            outcome = printer.send(path)
        made = outcome.printed or printer is None or printer.spool_only
        uncounted = _count(uow, serial, staff, made, outcome.message, approval, clock, station)
        return SlipCopy(outcome, uncounted=uncounted if made else "")
    _count(uow, serial, staff, False, outcome.message, approval, clock, station)
    return SlipCopy(outcome, error)


def _count(
    uow: Callable[[], UnitOfWork],
    serial: int,
    staff: StaffSession,
    printed: bool,
    detail: str,
    approval: Approval | None,
    clock: Clock | None,
    station: str,
) -> str:
    """Count the copy (or audit the failure); what went wrong, "" when recorded. Never an
    error of the issue: the slip is issued whatever happens to this write."""
    try:
        slips.record_print(
            uow(),
            serial,
            staff,
            printed=printed,
            detail=detail,
            approval=approval,
            clock=clock,
            station=station,
        )
    except KioskError as error:
        return str(error)
    return ""


def print_ticket(
    uow: Callable[[], UnitOfWork], result: CheckInResult, printer: Printer
) -> PrintOutcome:
    """Save and send the queue ticket of a check-in. The check-in stands whatever happens
    here: a PDF that could not be written is the outcome ``PrintProblem.NOT_SAVED``."""
    path = printer.spool_dir / f"ticket-{result.ticket}.pdf"
    try:
        path = printer.path_for(path.name)
        render_queue_ticket(reception.queue_ticket(uow(), result), path)
    except (OSError, KioskError) as error:
        return not_saved(path, error)
    return printer.send(path)


def print_statement(
    uow: Callable[[], UnitOfWork],
    customer_id: int,
    staff: StaffSession,
    to: Printer | Path,
    *,
    paper: StatementPaper = StatementPaper.ROLL_80MM,
    clock: Clock | None = None,
    station: str = "",
) -> PrintOutcome:
    """Print a customer's points statement and audit it (or its failure).

    ``to`` is a printer (the PDF is spooled, then sent; with no printer set up the kept PDF
    is the printout) or a file, which is the printout itself (the command line). A refusal
    (the role, an unknown customer) raises before anything is written; a printer failure is
    the outcome's, never shown as printed.
    """
    printer = to if isinstance(to, Printer) else None
    document = statement.statement(uow(), customer_id, staff, clock=clock)
    now = (clock or Clock()).now()
    name = f"statement-{customer_id}-{now:%Y%m%d%H%M%S}.pdf"
    try:
        path = printer.path_for(name) if printer is not None else Path(to)
        render_statement(document, path, paper)
    except (KioskError, OSError) as error:
        path = printer.spool_dir / name if printer is not None else Path(to)
        outcome = not_saved(path, error)
    else:
        if printer is None:
            outcome = PrintOutcome(path, False, _("Written to {path}.").format(path=path))
        else:
            outcome = printer.send(path)
    made = not outcome.failed
    statement.record_statement_print(
        uow(),
        customer_id,
        staff,
        printed=made,
        paper=str(paper),
        detail=outcome.reason,
        clock=clock,
        station=station,
    )
    return outcome
