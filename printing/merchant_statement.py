"""The merchant statement (商户结算单): one A4 PDF per merchant, signed by both sides.

What the bank pays one merchant for the event: the event, the merchant, the period, a table
of its services (slips, quantity, points, rate or price, amount), the total in figures and
in words (人民币大写, ``kiosk.money.capital_amount``), and lines for the merchant's and the
bank's signatures and the date. The figures are the settlement's
(``kiosk.services.settlement.settlement_statement``): the same as the settlement report.
No customer appears on it. A statement with a service of unknown amount (no rate nor
price in the catalog) says it must not be signed and writes no amount in words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.units import mm

from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.money import capital_amount, format_yuan
from kiosk.services.reports import EventHeading, heading
from kiosk.services.settlement import MerchantSettlement, settlement_statement
from kiosk.uow import UnitOfWork
from printing import text as paper_text
from printing.reports import Report, Yuan, _Pdf, rate_text, unknown_text


@dataclass(frozen=True)
class StatementHeading:
    """What every merchant's statement of one run shares: the event, the period, when."""

    event: EventHeading
    period_from: date
    period_to: date
    as_of: str


def statement_heading(event: EventHeading) -> StatementHeading:
    """The period runs from the event day to the close (or to today, before it)."""
    from printing.event_reports import _statement_as_of

    zone = ZoneInfo(event.timezone)
    end = (event.closed_at or event.at).astimezone(zone).date()
    return StatementHeading(event, event.event_date, end, _statement_as_of(event))


def statement_rows(merchant: MerchantSettlement) -> list[list[object]]:
    """The services table: one row per service with redeemed slips, and the total."""
    rows: list[list[object]] = [
        [
            _("Service"),
            _("Slips"),
            _("Quantity"),
            _("Points"),
            _("Rate or price"),
            _("Amount"),
        ]
    ]
    for line in merchant.lines:
        rows.append(
            [
                f"{line.offer_code} {line.offer_name}",
                line.slips,
                line.quantity,
                line.points,
                rate_text(line.rate_micro, line.price_fen),
                Yuan(line.amount_fen) if line.amount_fen is not None else unknown_text(),
            ]
        )
    rows.append(
        [
            _("Total"),
            merchant.slips,
            merchant.quantity,
            merchant.points,
            "",
            Yuan(merchant.amount_fen) if not merchant.unknown else unknown_text(),
        ]
    )
    return rows


def _lines(pdf: _Pdf, texts: list[str], size: float = 10, gap: float = 1.6 * mm) -> None:
    room = pdf.right - pdf.left
    for words in texts:
        for line in paper_text.wrap(words, pdf.font, size, room):
            pdf.need(size * 1.4)
            paper_text.draw(pdf.canvas, pdf.left, pdf.y, line, pdf.font, size)
            pdf.y -= size * 1.4
        pdf.y -= gap


def write_merchant_statement(
    merchant: MerchantSettlement, head: StatementHeading, path: Path
) -> Path:
    """One merchant's statement as an A4 PDF at ``path``."""
    event = head.event
    title = _("Merchant settlement statement")
    report = Report(
        title,
        _("{name} · {date} · {venue} · event code {code}").format(
            name=event.name, date=event.event_date, venue=event.venue, code=event.code
        ),
        [],
        head.as_of,
    )
    pdf = _Pdf(path, report)
    booth = _(" · booth {booth}").format(booth=merchant.booth) if merchant.booth else ""
    _lines(
        pdf,
        [
            _("Merchant: {code} {name}").format(code=merchant.code, name=merchant.name) + booth,
            _("Period: {start} to {end}").format(
                start=head.period_from.isoformat(), end=head.period_to.isoformat()
            ),
        ],
        11,
    )
    pdf.y -= 2 * mm
    if merchant.lines:
        pdf.table(statement_rows(merchant))
    else:
        _lines(pdf, [_("No slip of this merchant was redeemed: nothing is owed.")])
    if merchant.unknown:
        pdf.canvas.setFillColor(colors.HexColor("#8a1c1c"))
        _lines(
            pdf,
            [
                _(
                    "{n} service(s) have no settlement rate nor price in the catalog: the "
                    "amount is incomplete. Import the rates, then print this statement again "
                    "before signing."
                ).format(n=merchant.unknown)
            ],
        )
        pdf.canvas.setFillColor(colors.black)
    else:
        _lines(
            pdf,
            [
                _("Total amount: {amount}").format(amount=format_yuan(merchant.amount_fen)),
                _("In words: RMB {words}").format(words=capital_amount(merchant.amount_fen)),
            ],
            12,
        )
    note = _(
        "Amounts: a service's price × quantity, else the merchant's rate × points rounded "
        "half up to the fen per service. Redeemed slips only; voided, released and open "
        "slips are not paid."
    )
    _lines(pdf, [note], 8)
    _signatures(pdf)
    pdf.save()
    return path


def _signatures(pdf: _Pdf) -> None:
    """Two blocks side by side: the merchant's and the bank's signature, stamp and date."""
    pdf.need(42 * mm)
    pdf.y -= 8 * mm
    c = pdf.canvas
    half = (pdf.right - pdf.left) / 2
    for index, who in enumerate(
        (_("Merchant (signature and stamp)"), _("Bank (signature and stamp)"))
    ):
        x = pdf.left + index * half
        y = pdf.y
        paper_text.draw(c, x, y, who, pdf.font, 10)
        c.setLineWidth(0.6)
        c.line(x, y - 16 * mm, x + half - 10 * mm, y - 16 * mm)
        paper_text.draw(c, x, y - 26 * mm, _("Date:"), pdf.font, 10)
        c.line(x + 12 * mm, y - 26 * mm - 1, x + half - 10 * mm, y - 26 * mm - 1)
    pdf.y -= 32 * mm


def statement_file(merchant_code: str) -> str:
    """``statement-M01.pdf``: the code alone (letters, digits, - and _), safe on any disk."""
    return f"statement-{merchant_code}.pdf"


def write_merchant_statements(
    uow_factory: Callable[[], UnitOfWork], folder: Path, clock: Clock | None = None
) -> list[Path]:
    """One statement per merchant of the event into ``folder``; the paths written."""
    if not folder.is_dir():
        raise KioskError(_("The folder {folder} does not exist.").format(folder=folder))
    head = statement_heading(heading(uow_factory(), clock))
    figures = settlement_statement(uow_factory())
    return [
        write_merchant_statement(m, head, folder / statement_file(m.code))
        for m in figures.merchants
    ]
