"""Reports as .xlsx (the bank's staff live in Excel) and PDF (to print and sign), with charts.

A report is a title and sections; each section is a table (header row first) and optionally
a bar chart of some of its columns. The .xlsx has one sheet per section with the header in
row 1 and a native Excel chart beside the table; the PDF flows the sections over A4 pages
(landscape when a table is wide), tables repeat their header on a new page, and charts are
reportlab.graphics drawings, so both are vector and use the bundled CJK font. Settlement and
reconciliation (``kiosk.services.settlement``) and the event reports
(``printing.event_reports``) are all laid out here.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.pagebreak import Break
from reportlab.graphics import renderPDF
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from kiosk import audit
from kiosk.errors import KioskError
from kiosk.files import write_atomic
from kiosk.i18n import _
from kiosk.money import format_rate, format_yuan
from kiosk.services.settlement import Reconciliation, Settlement
from kiosk.spreadsheet_text import keep_as_text
from printing import text as paper_text
from printing.fonts import register_fonts


class Percent(float):
    """A share (0.25 is 25%): formatted as a percentage in both files, a number in Excel."""


class Minutes(float):
    """A duration in minutes, shown with one decimal."""


class Yuan(int):
    """An amount in fen, shown as yuan: ¥1,234.56 in the PDF, a number with two decimals
    and the ¥ format in Excel (exact: the cell is the decimal yuan, never fen as a float
    sum)."""


@dataclass(frozen=True)
class Chart:
    """Bars of some columns of a section's table, one bar per data row.

    ``kind`` "bar" draws horizontal bars (long labels: stages, RMs, services), "column"
    vertical ones (branches, slots, times of day). ``skip_last`` leaves a total row out.
    """

    title: str
    values: tuple[int, ...]  # columns plotted, one series each
    labels: int = 0  # the column naming each bar
    kind: str = "bar"
    skip_last: bool = False


@dataclass(frozen=True)
class Section:
    title: str
    rows: list[list[object]]  # header first
    chart: Chart | None = None
    note: str = ""


@dataclass(frozen=True)
class Report:
    title: str
    subtitle: str = ""
    sections: list[Section] = field(default_factory=list)
    as_of: str = ""
    """When the figures were taken and the event's state ("数据截至 2026-12-06 16:40 · 活动
    进行中"): on the first page and every page's foot of the PDF, below every sheet's table
    and in its printed header, so two versions of a report never look the same."""

    @classmethod
    def single(
        cls, rows: list[list[object]], title: str, subtitle: str = "", as_of: str = ""
    ) -> Report:
        """A report of one table (settlement, reconciliation)."""
        return cls(title, subtitle, [Section(title, rows)], as_of)


SERIES = ["#0b4f8a", "#e0a526", "#1e7b34", "#8a1c1c", "#6b4fa0"]


def text_of(value: object) -> str:
    """A cell as the PDF and the CLI print it."""
    if value is None:
        return ""
    if isinstance(value, Percent):
        if 0 < abs(value) < 0.0005:  # points redeemed of the bank's whole stock: not "0.0%"
            return f"{100 * value:.2g}%"
        return f"{100 * value:.1f}%"
    if isinstance(value, Minutes):
        return f"{value:.1f}"
    if isinstance(value, Yuan):
        return format_yuan(value)
    if isinstance(value, datetime):  # local time of the event, with the year
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def rate_text(rate_micro: int | None, price_fen: int | None) -> str:
    """What a line is paid by: "¥35.00 / unit" (the service's price) or "0.008 yuan/point"
    (the merchant's rate), or "" (neither)."""
    if price_fen is not None:
        return _("{price} per unit").format(price=format_yuan(price_fen))
    if rate_micro is not None:
        return _("{rate} yuan/point").format(rate=format_rate(rate_micro))
    return ""


def unknown_text() -> str:
    return _("unknown")


def settlement_rows(figures: Settlement) -> list[list[object]]:
    """Header, one row per merchant and service, a subtotal per merchant and the grand total,
    in points and yuan. A line with no rate nor price says "unknown" (never ¥0.00) and the
    subtotals and total say how many such lines they leave out."""
    rows: list[list[object]] = [
        [
            _("Merchant"),
            _("Service"),
            _("Slips"),
            _("Quantity"),
            _("Points"),
            _("Rate or price"),
            _("Amount"),
            _("Remark"),
        ]
    ]

    def left_out(unknown: int) -> str:
        if not unknown:
            return ""
        return _("{n} line(s) of unknown amount not included").format(n=unknown)

    for m in figures.merchants:
        if not m.lines:
            continue
        merchant = f"{m.code} {m.name}"
        for line in m.lines:
            known = line.amount_fen is not None
            rows.append(
                [
                    merchant,
                    f"{line.offer_code} {line.offer_name}",
                    line.slips,
                    line.quantity,
                    line.points,
                    rate_text(line.rate_micro, line.price_fen),
                    Yuan(line.amount_fen) if line.amount_fen is not None else unknown_text(),
                    "" if known else _("no rate or price in the catalog"),
                ]
            )
        rows.append(
            [
                merchant,
                _("Subtotal"),
                m.slips,
                m.quantity,
                m.points,
                "",
                Yuan(m.amount_fen),
                left_out(m.unknown),
            ]
        )
    rows.append(
        [
            _("Total"),
            "",
            figures.slips,
            figures.quantity,
            figures.points,
            "",
            Yuan(figures.amount_fen),
            left_out(figures.unknown),
        ]
    )
    return rows


def returned_rows(settlement: Settlement) -> list[list[object]]:
    """Per merchant, the slips not paid for and their points, which go back to the customers
    and the ledger: released at close, voided, still open (released at close unless
    redeemed first); a total row."""
    rows: list[list[object]] = [
        [
            _("Merchant"),
            _("Released at close"),
            _("Points released"),
            _("Voided"),
            _("Points voided"),
            _("Still open"),
            _("Points still open"),
            _("Slips returned"),
            _("Points returned"),
        ]
    ]
    for r in [*settlement.returned, settlement.returned_total]:
        rows.append(
            [
                f"{r.merchant_code} {r.merchant_name}" if r.merchant_code else _("Total"),
                r.released.slips,
                r.released.points,
                r.voided.slips,
                r.voided.points,
                r.open.slips,
                r.open.points,
                r.total.slips,
                r.total.points,
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
    rows.append(
        [
            _("Rows not accounted for by the audit chain"),
            len(report.unaccounted),
            _("none") if report.accounted else _("NO: see the rows below"),
        ]
    )
    for problem in report.unaccounted:
        rows.append([audit.table_words(problem.table), problem.row_id, problem.reason])
    return rows


def _as_report(report: Report | list[list[object]], title: str, subtitle: str) -> Report:
    if isinstance(report, Report):
        return report
    return Report.single(report, title, subtitle)


# -- xlsx -------------------------------------------------------------------------------------


def _sheet_title(title: str, used: set[str]) -> str:
    """Excel allows 31 characters and no []:*?/\\ in a sheet name, each name once."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in title)[:31] or "Sheet"
    name, n = clean, 2
    while name in used:
        suffix = f" ({n})"
        name, n = clean[: 31 - len(suffix)] + suffix, n + 1
    used.add(name)
    return name


def write_xlsx(report: Report | list[list[object]], path: Path, title: str = "") -> Path:
    """One sheet per section, the header in row 1, figures as numbers (shares as %), times as
    dates with the year; the as-of line below the table; printed landscape, one page wide,
    the header row repeated, the chart on a page of its own."""
    report = _as_report(report, title, "")
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    book.properties.title = report.title
    book.properties.subject = report.subtitle
    used: set[str] = set()
    header_fill = PatternFill("solid", fgColor="E7EAEE")
    for section in report.sections:
        sheet = book.create_sheet(_sheet_title(section.title, used))
        for row in section.rows:
            sheet.append([_cell(v) for v in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for r, row in enumerate(section.rows[1:], start=2):
            for c, value in enumerate(row, start=1):
                if isinstance(value, Percent):
                    tiny = 0 < abs(value) < 0.0005
                    sheet.cell(r, c).number_format = "0.0000%" if tiny else "0.0%"
                elif isinstance(value, Minutes):
                    sheet.cell(r, c).number_format = "0.0"
                elif isinstance(value, Yuan):
                    sheet.cell(r, c).number_format = '"¥"#,##0.00'

                elif isinstance(value, datetime):
                    sheet.cell(r, c).number_format = "yyyy-mm-dd hh:mm"
                elif isinstance(value, date):
                    sheet.cell(r, c).number_format = "yyyy-mm-dd"
                elif _is_number(value):
                    sheet.cell(r, c).number_format = "#,##0"
        for column in sheet.columns:
            width = max(len(text_of(c.value)) * (2 if _wide(c.value) else 1) for c in column)
            letter = column[0].column_letter
            sheet.column_dimensions[letter].width = min(max(9, width * 1.2 + 2), 50)
        sheet.freeze_panes = "A2"
        below = len(section.rows) + 2
        if section.note:
            sheet.cell(below, 1, section.note).font = Font(italic=True)
            below += 1
        if report.as_of:
            sheet.cell(below, 1, report.as_of).font = Font(italic=True)
            below += 1
        print_setup(sheet, report.title, report.as_of)
        if section.chart is not None and len(section.rows) > 1:
            _xlsx_chart(sheet, section, below + 1)
        keep_as_text(sheet)  # a name typed as =HYPERLINK(…) stays text
    # Into memory first: openpyxl leaves its zip file open when a write fails mid-way.
    buffer = io.BytesIO()
    book.save(buffer)
    return write_atomic(path, buffer.getvalue())


def _cell(value: object) -> object:
    """A value as Excel stores it: floats plain, times without a zone (local to the event:
    reports pass them so), anything else as it is."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, Yuan):
        return Decimal(int(value)).scaleb(-2)
    if isinstance(value, float):
        return float(value)
    return value


def print_setup(sheet: object, title: str, as_of: str) -> None:
    """Landscape A4, one page wide, the header row on every page, title and as-of in the
    page header: the merchants report printed on 16 pages with its charts cut before."""
    setup = sheet.page_setup  # type: ignore[attr-defined]
    setup.orientation = "landscape"
    setup.paperSize = 9  # A4
    setup.fitToWidth = 1
    setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[attr-defined]
    sheet.print_title_rows = "1:1"  # type: ignore[attr-defined]
    sheet.oddHeader.left.text = title[:80]  # type: ignore[attr-defined]
    sheet.oddHeader.right.text = as_of[:120]  # type: ignore[attr-defined]
    sheet.oddFooter.right.text = "&P / &N"  # type: ignore[attr-defined]


def _wide(value: object) -> bool:
    """Chinese characters are two columns wide in Excel."""
    return isinstance(value, str) and any(ord(ch) > 0x2E80 for ch in value)


def _xlsx_chart(sheet: object, section: Section, row: int) -> None:
    """The section's chart below the table from ``row``, on a printed page of its own."""
    chart_spec = section.chart
    assert chart_spec is not None
    last = len(section.rows) - (1 if chart_spec.skip_last else 0)
    if last < 2:
        return
    chart = BarChart()
    chart.type = "bar" if chart_spec.kind == "bar" else "col"
    chart.title = chart_spec.title
    chart.style = 10
    chart.height = max(7.5, 0.5 * (last - 1) * len(chart_spec.values) + 3)
    chart.width = 18
    if chart_spec.kind == "bar":
        chart.y_axis.scaling.orientation = "minMax"
        chart.x_axis.scaling.orientation = "maxMin"  # first row on top, as in the table
    for column in chart_spec.values:
        data = Reference(sheet, min_col=column + 1, min_row=1, max_row=last)
        chart.add_data(data, titles_from_data=True)
    labels = Reference(sheet, min_col=chart_spec.labels + 1, min_row=2, max_row=last)
    chart.set_categories(labels)
    for index, series in enumerate(chart.series):
        series.graphicalProperties.solidFill = SERIES[index % len(SERIES)].lstrip("#")
        series.graphicalProperties.line.noFill = True
    if len(chart_spec.values) == 1:
        chart.legend = None
    sheet.row_breaks.append(Break(id=row - 1))  # type: ignore[attr-defined]
    sheet.add_chart(chart, f"A{row}")  # type: ignore[attr-defined]


# -- pdf --------------------------------------------------------------------------------------

ROW = 5.6 * mm
MARGIN = 14 * mm
CHART_TYPE = 8  # the smallest type on paper (printing.text.MIN_SIZE): labels, legends, values


def _wrap(text: str, width: float, font: str, size: float) -> list[str]:
    """Wrap with the CJK line-breaking rules (``printing.text.wrap``): never inside a word,
    never before closing punctuation, so a header reads "中位数" / "（分钟）"."""
    return paper_text.wrap(text, font, size, width)


def _nice_step(top: float) -> float:
    """A whole, round axis step giving at most about five gridlines."""
    if top <= 5:
        return 1
    raw = top / 5
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def _axis_label(value: float) -> str:
    return f"{value:,.0f}"


def _fit(text: str, width: float, font: str, size: float) -> str:
    """Cut a text to its column, with an ellipsis, instead of running into the next."""
    return paper_text.ellipsize(text, font, size, width)


def _water_level(widths: list[float], room: float) -> float:
    """The width ``cap`` at which ``sum(min(w, cap))`` fills ``room``: short columns (codes,
    branch numbers) keep their natural width and only the widest ones give way."""
    low, high = 0.0, max(widths, default=0.0)
    for _step in range(40):
        middle = (low + high) / 2
        if sum(min(w, middle) for w in widths) > room:
            high = middle
        else:
            low = middle
    return low


@dataclass(frozen=True)
class _Table:
    rows: list[list[object]]
    widths: list[float]
    numeric: set[int]
    size: float
    header_lines: list[list[str]]
    header_height: float


class _Pdf:
    """Flows titles, tables and charts down the pages."""

    def __init__(self, path: Path, report: Report) -> None:
        self.font = register_fonts()
        self.report = report
        wide = any(len(s.rows[0]) > 8 for s in report.sections if s.rows)
        self.size = landscape(A4) if wide else A4
        self.path = path
        self.buffer = io.BytesIO()
        self.canvas = Canvas(self.buffer, pagesize=self.size)
        self.canvas.setTitle(report.title)
        self.canvas.setAuthor("kiosk")
        self.width, self.height = self.size
        self.left, self.right = MARGIN, self.width - MARGIN
        self.page = 0
        self.y = 0.0
        self._new_page()

    def _new_page(self) -> None:
        if self.page:
            self.canvas.showPage()
        self.page += 1
        c = self.canvas
        room = self.right - self.left
        c.setFillColor(colors.HexColor("#8a1c1c"))
        top = self.height - MARGIN - 4 * mm
        # The whole title on the first page (two lines at most); later pages repeat it on one.
        title = paper_text.fit(
            self.report.title,
            self.font,
            15 if self.page == 1 else 10,
            room,
            2 if self.page == 1 else 1,
        )
        y = paper_text.draw_fitted(c, self.left, top, title, self.font)
        c.setFillColor(colors.black)
        foot = MARGIN - 6 * mm
        paper_text.draw(c, self.right, foot, f"{self.page}", self.font, 8, "right")
        if self.report.as_of:  # every page says when its figures were taken
            as_of = paper_text.ellipsize(self.report.as_of, self.font, 8, room - 15 * mm)
            paper_text.draw(c, self.left, foot, as_of, self.font, 8)
        first = [self.report.subtitle, self.report.as_of] if self.page == 1 else []
        lines = [line for line in first if line]
        if lines:
            y += title.size * 1.25 - 6 * mm
            for line in lines:
                fitted = paper_text.fit(line, self.font, 9, room, 3)
                y = paper_text.draw_fitted(c, self.left, y, fitted, self.font)
            self.y = y + 9 * 1.25 - 8 * mm
        else:
            self.y = y + title.size * 1.25 - 9 * mm

    def need(self, height: float) -> None:
        if self.y - height < MARGIN:
            self._new_page()

    def section_title(self, title: str) -> None:
        fitted = paper_text.fit(title, self.font, 12, self.right - self.left, 2)
        extra = (len(fitted.lines) - 1) * fitted.size * 1.25
        self.need(8 * mm + 3 * ROW + extra)
        self.canvas.setFillColor(colors.HexColor("#0b4f8a"))
        paper_text.draw_fitted(self.canvas, self.left, self.y, fitted, self.font)
        self.canvas.setFillColor(colors.black)
        self.y -= 7 * mm + extra

    def note(self, text: str) -> None:
        for line in _wrap(text, self.right - self.left, self.font, 8):
            self.need(4 * mm)
            paper_text.draw(self.canvas, self.left, self.y, line, self.font, 8)
            self.y -= 4 * mm
        self.y -= 2 * mm

    def _layout(self, rows: list[list[object]], room: float) -> _Table:
        size = 8.5 if len(rows[0]) > 8 else 9.5
        columns = len(rows[0])
        numeric = {c for row in rows[1:] for c, v in enumerate(row) if _is_number(v)}
        pad = 3 * mm
        natural = []
        for c in range(columns):
            values = [stringWidth(text_of(row[c]), self.font, size) for row in rows[1:]]
            header = str(rows[0][c])
            if " " in header:  # English: wrap between words
                head = max(stringWidth(w, self.font, size) for w in header.split(" "))
            elif _wide(header) and len(header) > 4:  # Chinese: two lines at most
                head = stringWidth(header[: (len(header) + 1) // 2], self.font, size)
            else:
                head = stringWidth(header, self.font, size)
            natural.append(max([head, *values, 8 * mm]) + pad)
        total = sum(natural)
        text = [c for c in range(columns) if c not in numeric]
        if total <= room:
            # Text columns get some air, but a short table stays short: figures belong
            # next to their names, not across the page.
            extra = min((room - total) / len(text), 30 * mm) if text else 0
            widths = [w + extra if c in text else w for c, w in enumerate(natural)]
        else:  # too wide: narrow the widest text columns (they get "…"), never the figures
            fixed = sum(w for c, w in enumerate(natural) if c in numeric)
            cap = _water_level([natural[c] for c in text], max(room - fixed, 20 * mm * len(text)))
            widths = [w if c in numeric else min(w, cap) for c, w in enumerate(natural)]
        header_lines = [
            _wrap(str(h), w - 2 * 1.5 * mm, self.font, size)
            for h, w in zip(rows[0], widths, strict=True)
        ]
        header_height = max(len(x) for x in header_lines) * (size + 1.5) + 2.5 * mm
        return _Table(rows, widths, numeric, size, header_lines, header_height)

    def table(self, rows: list[list[object]], layout: _Table | None = None) -> float:
        """Draw the table from the current height; returns its width."""
        if not rows:
            return 0.0
        t = layout or self._layout(rows, self.right - self.left)
        width = sum(t.widths)
        xs = [self.left + sum(t.widths[:c]) for c in range(len(t.widths))]
        pad = 1.5 * mm
        c = self.canvas
        size = t.size

        def header() -> None:
            self.need(t.header_height + ROW)
            c.setFillColor(colors.HexColor("#e7eaee"))
            c.rect(self.left, self.y - t.header_height + size, width, t.header_height, 0, 1)
            c.setFillColor(colors.black)
            c.setFont(self.font, size)
            for col, parts in enumerate(t.header_lines):
                for k, part in enumerate(parts):
                    y = self.y - k * (size + 1.5)
                    if col in t.numeric:
                        paper_text.draw(
                            c, xs[col] + t.widths[col] - pad, y, part, self.font, size, "right"
                        )
                    else:
                        paper_text.draw(c, xs[col] + pad, y, part, self.font, size)
            self.y -= t.header_height

        header()
        for index, row in enumerate(rows[1:]):
            if self.y - ROW < MARGIN:
                self._new_page()
                header()
            if index % 2:
                c.setFillColor(colors.HexColor("#f5f6f8"))
                c.rect(self.left, self.y - 1.6 * mm, width, ROW, 0, 1)
                c.setFillColor(colors.black)
            for col, value in enumerate(row):
                # Smaller down to 8 pt, then "…" (the full text is in the .xlsx).
                cell = paper_text.fit(
                    text_of(value),
                    self.font,
                    size,
                    t.widths[col] - 2 * pad,
                    1,
                    min(size, paper_text.MIN_SIZE),
                )
                if col in t.numeric:
                    right = xs[col] + t.widths[col] - pad
                    paper_text.draw(c, right, self.y, cell.lines[0], self.font, cell.size, "right")
                else:
                    paper_text.draw(c, xs[col] + pad, self.y, cell.lines[0], self.font, cell.size)
            self.y -= ROW
        self.y -= 4 * mm
        return width

    def chart_height(self, section: Section) -> float:
        spec = section.chart
        assert spec is not None
        n = len(section.rows) - 1 - (1 if spec.skip_last else 0)
        if spec.kind == "bar":
            plot = 4.2 * mm * n * max(1.0, len(spec.values) * 0.75)
            return min(plot + 18 * mm, self.height - 2 * MARGIN - 30 * mm)
        return 58 * mm

    def chart(self, section: Section, x: float, top: float, width: float, height: float) -> None:
        """Draw the section's chart with its top left corner at (x, top)."""
        spec = section.chart
        assert spec is not None
        data_rows = section.rows[1 : len(section.rows) - (1 if spec.skip_last else 0)]
        if not data_rows:
            return
        names_of_bars = [str(r[spec.labels]) for r in data_rows]
        labels = [_fit(n, 40 * mm, self.font, CHART_TYPE) for n in names_of_bars]
        # A blank figure (a branch without a target) draws no bar, never a zero bar.
        data = [
            [float(r[col]) if _is_number(r[col]) else None for r in data_rows]
            for col in spec.values
        ]
        names = [str(section.rows[0][col]) for col in spec.values]
        drawing = Drawing(width, height)
        drawing.add(String(0, height - 9, spec.title, fontName=self.font, fontSize=9))
        legend_width = (
            max(stringWidth(n, self.font, CHART_TYPE) for n in names) + 12 * mm
            if len(data) > 1
            else 0
        )
        chart: HorizontalBarChart | VerticalBarChart
        if spec.kind == "bar":
            label_width = max(stringWidth(x, self.font, CHART_TYPE) for x in labels) + 3 * mm
            chart = HorizontalBarChart()
            chart.x = label_width
            chart.y = 6 * mm
            chart.width = max(30 * mm, width - label_width - legend_width - 10 * mm)
            chart.height = height - 20 * mm
            chart.categoryAxis.reverseDirection = 1  # first row on top, as in the table
        else:
            chart = VerticalBarChart()
            chart.x = 12 * mm
            chart.y = 16 * mm
            most = width - legend_width - 16 * mm
            chart.width = min(most, max(50 * mm, 12 * mm * len(data_rows) * len(data)))
            chart.height = height - 30 * mm
            slanted = len(data_rows) > 6
            chart.categoryAxis.labels.angle = 30 if slanted else 0
            chart.categoryAxis.labels.boxAnchor = "ne" if slanted else "n"
            # An upright label stays within its own bar's width (the table has it whole);
            # a slanted one may be longer, it leans over its neighbours' space.
            room = 30 * mm if slanted else chart.width / len(data_rows) - 2 * mm
            labels = [_fit(n, room, self.font, CHART_TYPE) for n in names_of_bars]
        chart.data = data
        chart.categoryAxis.categoryNames = labels
        chart.categoryAxis.labels.fontName = self.font
        chart.categoryAxis.labels.fontSize = CHART_TYPE
        chart.valueAxis.labels.fontName = self.font
        chart.valueAxis.labels.fontSize = CHART_TYPE
        chart.valueAxis.valueMin = 0
        highest = max((v for d in data for v in d if v is not None), default=0)
        step = _nice_step(highest)
        chart.valueAxis.valueStep = step
        chart.valueAxis.valueMax = max(step, math.ceil(highest / step) * step)
        chart.valueAxis.labelTextFormat = _axis_label
        # Values on the bars only where an 8 pt figure has the room (the table has them all).
        per_bar = (chart.height if spec.kind == "bar" else chart.width) / max(
            1, len(data_rows) * len(data)
        )
        chart.barLabelFormat = "%.0f" if per_bar >= CHART_TYPE * 1.2 else None
        chart.barLabels.fontName = self.font
        chart.barLabels.fontSize = CHART_TYPE
        chart.barLabels.nudge = 6
        chart.barSpacing = 0.5
        chart.groupSpacing = 3
        for index in range(len(data)):
            chart.bars[index].fillColor = colors.HexColor(SERIES[index % len(SERIES)])
            chart.bars[index].strokeColor = None
        drawing.add(chart)
        if len(data) > 1:
            legend = Legend()
            legend.x = chart.x + chart.width + 8 * mm
            legend.y = height - 14 * mm
            legend.fontName = self.font
            legend.fontSize = CHART_TYPE
            legend.alignment = "right"
            legend.colorNamePairs = [
                (colors.HexColor(SERIES[i % len(SERIES)]), n) for i, n in enumerate(names)
            ]
            drawing.add(legend)
        renderPDF.draw(drawing, self.canvas, x, top - height)

    def section(self, section: Section, many: bool) -> None:
        """Title, table and chart: the chart beside a narrow table that fits the page, else
        below it."""
        room = self.right - self.left
        layout = self._layout(section.rows, room) if section.rows else None
        chart = section.chart is not None and len(section.rows) > 1
        table_height = (
            layout.header_height + ROW * (len(section.rows) - 1) + 4 * mm if layout else 0
        )
        beside = False
        if chart and layout is not None:
            chart_height = self.chart_height(section)
            beside = (
                sum(layout.widths) + 100 * mm <= room
                and max(table_height, chart_height) <= self.height - 2 * MARGIN - 30 * mm
            )
        if beside:
            self.need(8 * mm + max(table_height, chart_height))
        elif table_height < 80 * mm:  # a short table is not split over two pages
            self.need(8 * mm + table_height)
        if many:
            self.section_title(section.title)
        top = self.y
        width = self.table(section.rows, layout) if layout else 0.0
        if section.note:
            self.note(section.note)
        if not chart:
            return
        if beside:
            x = self.left + width + 8 * mm
            height = max(chart_height, top - self.y - 4 * mm)
            self.chart(section, x, top + 4 * mm, self.right - x, height)
            self.y = min(self.y, top + 4 * mm - height - 4 * mm)
            return
        height = self.chart_height(section)
        self.need(height)
        self.chart(section, self.left, self.y, room, height)
        self.y -= height + 4 * mm

    def save(self) -> None:
        self.canvas.showPage()
        self.canvas.save()
        write_atomic(self.path, self.buffer.getvalue())


def write_pdf(
    report: Report | list[list[object]], path: Path, title: str = "", subtitle: str = ""
) -> Path:
    """Every section: its title, the table, then its chart; numbers right-aligned."""
    report = _as_report(report, title, subtitle)
    pdf = _Pdf(path, report)
    for section in report.sections:
        pdf.section(section, len(report.sections) > 1)
    pdf.save()
    return path


def write_report(
    report: Report | list[list[object]], path: Path, title: str = "", subtitle: str = ""
) -> Path:
    """By the file's extension: .xlsx or .pdf."""
    if path.suffix.lower() == ".xlsx":
        return write_xlsx(report, path, title)
    if path.suffix.lower() == ".pdf":
        return write_pdf(report, path, title, subtitle)
    raise KioskError(_("Write the report as .xlsx or .pdf, not “{name}”.").format(name=path.name))
