"""Settlement and reconciliation reports as .xlsx (for the finance team) and PDF (to sign).

The figures come from ``kiosk.services.settlement``; this module only lays them out, with the
bundled CJK font in the PDF so merchant names print anywhere.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from kiosk.i18n import _
from kiosk.services.settlement import Reconciliation, SettlementLine
from printing.fonts import register_fonts


def settlement_rows(lines: list[SettlementLine]) -> list[list[object]]:
    """Header, one row per merchant and offer, a subtotal per merchant and the grand total."""
    rows: list[list[object]] = [
        [_("Merchant"), _("Service"), _("Slips"), _("Quantity"), _("Points")]
    ]
    merchants: dict[str, list[SettlementLine]] = {}
    for line in lines:
        merchants.setdefault(f"{line.merchant_code} {line.merchant_name}", []).append(line)
    for merchant, items in merchants.items():
        for line in items:
            rows.append(
                [
                    merchant,
                    f"{line.offer_code} {line.offer_name}",
                    line.slips,
                    line.quantity,
                    line.points,
                ]
            )
        rows.append(
            [
                merchant,
                _("Subtotal"),
                sum(i.slips for i in items),
                sum(i.quantity for i in items),
                sum(i.points for i in items),
            ]
        )
    rows.append(
        [
            _("Total"),
            "",
            sum(line.slips for line in lines),
            sum(line.quantity for line in lines),
            sum(line.points for line in lines),
        ]
    )
    return rows


def reconciliation_rows(report: Reconciliation) -> list[list[object]]:
    rows: list[list[object]] = [
        [_("Item"), _("Slips"), _("Points")],
        [_("Issued"), report.issued, report.issued_points],
        [_("Redeemed"), report.redeemed, report.redeemed_points],
        [_("Voided"), report.voided, report.voided_points],
        [_("Released at close"), report.released, report.released_points],
        [_("Still open"), report.open, report.open_points],
        [_("Redeemed at two booths (conflict)"), report.double_redemptions, ""],
        *[
            [_("Redemption conflict: {kind}").format(kind=kind), count, ""]
            for kind, count in report.redemption_conflicts
            if kind != "redeemed_twice"
        ],
        *[
            [
                _("Missing redemptions of booth {booth}").format(booth=booth),
                len(seqs),
                ", ".join(str(n) for n in seqs[:20]),
            ]
            for booth, seqs in report.missing
        ],
        [_("Entries not yet pushed"), report.pending, ""],
        [_("Entries rejected by the ledger (conflict)"), report.rejected, ""],
        [
            _("Balanced"),
            _("yes") if report.balanced else _("NO: issued ≠ redeemed + voided + released + open"),
            "",
        ],
    ]
    for kind, key, reason in report.rejected_reasons:
        rows.append([_("Rejected: {kind}").format(kind=kind), key, reason])
    return rows


def write_xlsx(rows: list[list[object]], path: Path, title: str) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in sheet.columns:
        width = max(len(str(c.value or "")) for c in column)
        sheet.column_dimensions[column[0].column_letter].width = min(max(10, width * 1.6), 60)
    book.save(path)
    return path


def write_pdf(rows: list[list[object]], path: Path, title: str, subtitle: str = "") -> Path:
    """A plain A4 table; numbers right-aligned, long reports continue on the next page."""
    font = register_fonts()
    canvas = Canvas(str(path), pagesize=A4)
    canvas.setTitle(title)
    width, height = A4
    columns = len(rows[0])
    left, right = 15 * mm, width - 15 * mm
    # Figures get a fixed narrow column; names share what is left.
    numeric = {c for row in rows[1:] for c, value in enumerate(row) if isinstance(value, int)}
    figure = 26 * mm
    text_width = (right - left - figure * len(numeric)) / max(columns - len(numeric), 1)
    widths = [figure if c in numeric else text_width for c in range(columns)]
    x_positions = [left + sum(widths[:c]) for c in range(columns)]

    def header() -> float:
        canvas.setFont(font, 15)
        canvas.drawString(left, height - 20 * mm, title)
        canvas.setFont(font, 9)
        canvas.drawString(left, height - 26 * mm, subtitle)
        return height - 36 * mm

    def fit(text: str, width: float, size: float) -> str:
        """Cut a text to its column, with an ellipsis, instead of running into the next."""
        if stringWidth(text, font, size) <= width:
            return text
        while text and stringWidth(text + "…", font, size) > width:
            text = text[:-1]
        return text + "…"

    y = header()
    for index, row in enumerate(rows):
        if y < 20 * mm:
            canvas.showPage()
            y = header()
        size = 10 if index else 10.5
        canvas.setFont(font, size)
        for column, value in enumerate(row):
            text = f"{value:,}" if isinstance(value, int) else str(value)
            text = fit(text, widths[column] - 3 * mm, size)
            if column in numeric and (index == 0 or isinstance(value, int)):
                canvas.drawRightString(x_positions[column] + widths[column] - 3 * mm, y, text)
            else:
                canvas.drawString(x_positions[column], y, text)
        y -= 6.5 * mm
        if index == 0:
            canvas.line(left, y + 4 * mm, right, y + 4 * mm)
    canvas.showPage()
    canvas.save()
    return path


def write_report(rows: list[list[object]], path: Path, title: str, subtitle: str = "") -> Path:
    """By the file's extension: .xlsx or .pdf."""
    if path.suffix.lower() == ".xlsx":
        return write_xlsx(rows, path, title)
    if path.suffix.lower() == ".pdf":
        return write_pdf(rows, path, title, subtitle)
    from kiosk.errors import KioskError

    raise KioskError(_("Write the report as .xlsx or .pdf, not “{name}”.").format(name=path.name))
