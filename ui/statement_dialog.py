"""The personal points statement on screen (积分说明), with a button that prints the 80 mm copy.

Reception and the activation desk open it for the customer in front of them; the figures and
the short list are the service's (``kiosk.services.statement``), printing is the same flow
as the queue ticket's (``printing.flow.print_statement``: spooled, sent, audited). What
became of the printout is said in words in the dialog: a printer that failed is amber, never
"printed". The text scrolls and wraps, so nothing is cut at large print on a 1366×768 screen.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import ClassVar

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.services.statement import Statement, statement
from printing import flow
from printing.printer import Printer, PrintOutcome
from ui.context import StationContext
from ui.theme import CUSTOMER, is_large_print
from ui.widgets import PrintBanner, Tone


def _points(points: int) -> str:
    return escape(_("{points:,} points").format(points=points))


def statement_html(s: Statement) -> str:
    """The statement as the dialog shows it: the printed statement's content, in rows."""

    def row(label: str, figure: str, indent: bool = False) -> str:
        pad = "padding-left: 1.5em;" if indent else ""
        return (
            f'<tr><td style="{pad}">{escape(label)}</td>'
            f'<td align="right" style="padding-left: 1em; white-space: nowrap;">{figure}</td></tr>'
        )

    parts = [
        f"<p style='color: #555;'>{escape(s.event_name)}</p>",
        f"<h2>{escape(_('Personal points statement'))}</h2>",
        "<p>"
        + escape(
            _("{name} · customer no. {no}").format(name=s.masked_name, no=s.masked_customer_no)
        )
        + " · "
        + escape(_("As of {date}").format(date=s.today.isoformat()))
        + "</p>",
        "<table width='100%' cellspacing='0' cellpadding='3'>",
        row(_("Points you can spend today"), f"<b>{_points(s.balance)}</b>"),
        "</table>",
        f"<h3>{escape(_('Points that expire soon'))}</h3>",
        "<table width='100%' cellspacing='0' cellpadding='3'>",
        row(
            _("Within 3 months (by {date})").format(date=s.soon_until.isoformat()),
            _points(s.expiring_3m),
        ),
        row(
            _("Within 12 months (by {date})").format(date=s.year_until.isoformat()),
            _points(s.expiring_12m),
        ),
    ]
    for lot in s.lots:
        label = _("Expires {date}").format(date=lot.expires_on.isoformat())
        if lot.soon:
            label += " " + _("(within 3 months)")
        parts.append(row(label, _points(lot.points), indent=True))
    parts.append("</table>")
    if not s.lots:
        parts.append(f"<p>{escape(_('None of your points expire within 12 months.'))}</p>")
    parts += [
        f"<h3>{escape(_('Your tier: {tier}').format(tier=s.tier_name or _('none')))}</h3>",
        f"<p>{escape(s.tier_meaning)}</p>",
        f"<h3>{escape(_('Services that fit your points'))}</h3>",
    ]
    if not s.offers:
        parts.append(f"<p>{escape(_('No service fits your points today.'))}</p>")
    for index, offer in enumerate(s.offers, start=1):
        price = _points(offer.price)
        if offer.list_price != offer.price:
            price = escape(
                _("{price} (instead of {list_price:,})").format(
                    price=_("{points:,} points").format(points=offer.price),
                    list_price=offer.list_price,
                )
            )
        notes = []
        if offer.preselected:
            notes.append(_("chosen with your invitation"))
        if offer.booth:
            notes.append(_("booth {booth}").format(booth=offer.booth))
        if offer.blocked:
            notes.append(offer.blocked)
        parts += [
            f"<p style='margin-bottom: 0;'><b>{index}. {escape(offer.merchant)} · "
            f"{escape(offer.name)}</b></p>",
            "<table width='100%' cellspacing='0' cellpadding='2'>",
            row(_("Your price"), price, indent=True),
            row(_("Left after it"), _points(offer.left_after), indent=True),
            "</table>",
        ]
        if notes:
            parts.append(f"<p style='color: #555; margin-top: 0;'>{escape(' · '.join(notes))}</p>")
    parts += [
        f"<h3>{escape(_('How points are earned'))}</h3>",
        f"<p>{escape(s.how_earned)}</p>",
    ]
    return "\n".join(parts)


class StatementDialog(QDialog):
    """One customer's statement; Print sends the 80 mm copy and says what became of it."""

    # Tests set this to drive the dialog (click its buttons with qtbot) instead of ``exec()``.
    answer: ClassVar[Callable[[StatementDialog], None] | None] = None

    def __init__(
        self,
        context: StationContext,
        document: Statement,
        printer: Printer,
        station: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.document = document
        self.printer = printer
        self.station = station
        self.outcome: PrintOutcome | None = None
        self.setWindowTitle(_("Points statement"))
        self.setObjectName("statement_dialog")
        self.setProperty(CUSTOMER, True)  # the customer reads it: large type in both modes
        large = is_large_print()
        self.resize(860 if large else 680, 680 if large else 600)
        self.banner = PrintBanner(_("Print again"))
        self.banner.retry.connect(self.print_statement)
        self.text = QTextBrowser()
        self.text.setObjectName("statement_text")
        self.text.setHtml(statement_html(document))
        self.print_button = QPushButton(_("Print"))
        self.print_button.setObjectName("statement_print")
        self.print_button.setProperty("role", "primary")
        self.print_button.clicked.connect(self.print_statement)
        self.close_button = QPushButton(_("Close"))
        self.close_button.setObjectName("statement_close")
        self.close_button.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)

    def print_statement(self) -> None:
        """The 80 mm copy through the tickets' printing path; the outcome in words."""
        self.banner.printing(_("Printing the points statement…"))
        try:
            outcome = flow.print_statement(
                self.context.uow,
                self.document.customer_id,
                self.context.staff,
                self.printer,
                clock=self.context.app.clock,
                station=self.station,
            )
        except KioskError as error:
            self.outcome = None
            self.banner.outcome(Tone.ERROR, _("Not printed"), str(error), retry=True)
            return
        self.outcome = outcome
        if outcome.failed:
            self.banner.outcome(
                Tone.WARN,
                outcome.title,
                _("{reason} The statement was not printed: fix the printer and print again.")
                .format(reason=outcome.sentence)
                .strip(),
                retry=True,
            )
        elif outcome.printed:
            self.banner.outcome(Tone.OK, _("Points statement printed."), retry=False)
        else:  # no printer set up on purpose: the PDF is the printout
            self.banner.outcome(
                Tone.INFO, _("Points statement saved as PDF: no printer is set up."), retry=False
            )
            self.banner.setToolTip(str(outcome.path))

    def run(self) -> None:
        if StatementDialog.answer is not None:
            StatementDialog.answer(self)
        else:
            self.exec()


def open_statement(
    parent: QWidget,
    context: StationContext,
    customer_id: int,
    printer: Printer,
    station: str,
) -> None:
    """Read the statement (the service checks the role) and show it; raises ``KioskError``
    with the service's sentence when it cannot be read."""
    document = statement(context.uow(), customer_id, context.staff, clock=context.app.clock)
    dialog = StatementDialog(context, document, printer, station, parent)
    try:
        dialog.run()
    finally:
        # Gone with its text when closed: a desk opens one per customer all day, and a closed
        # dialog kept as the station's child would pile up (and stay Qt's active window).
        dialog.deleteLater()
        QApplication.sendPostedEvents(dialog, QEvent.Type.DeferredDelete)
