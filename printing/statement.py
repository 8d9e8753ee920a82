"""The printed personal points statement (个人积分说明): 80 mm roll, A4 or A5.

The same content on every paper, from the service's ``Statement``: the customer's balance,
the points that expire within three and twelve months lot by lot, their tier and what it
means, the short list with each service's price and what would be left, and how points are
earned. Nothing is cut: every text wraps onto as many lines as it needs (a long service name
included); the roll grows to fit, A4 and A5 go on to a second page, never splitting a
service. Text goes through ``printing.text``, so a rare character of a name is on the paper
and in the PDF text layer.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.units import inch, mm
from reportlab.pdfgen.canvas import Canvas

from kiosk.files import write_atomic
from kiosk.i18n import _
from printing import text
from printing.fonts import register_fonts
from printing.paper import StatementPaper

if TYPE_CHECKING:
    from kiosk.services.statement import Statement

__all__ = ["StatementPaper", "render_statement", "statement_lines"]

LEADING = 1.3
ROLL_WIDTH = 80 * mm
ROLL_MARGIN = 4 * mm  # the printable area is 4–76 mm on the 80 mm roll
ROLL_ROOM = 72 * mm - 2 * inch / 203  # what the head prints (576 dots)


@dataclass(frozen=True)
class _Layout:
    width: float
    page_height: float | None  # None: the roll, as long as the statement
    margin: float
    room: float
    scale: float


def _layout(paper: StatementPaper) -> _Layout:
    if paper == StatementPaper.A4:
        width, height = A4
        return _Layout(width, height, 18 * mm, width - 36 * mm, 1.15)
    if paper == StatementPaper.A5:
        width, height = A5
        return _Layout(width, height, 12 * mm, width - 24 * mm, 0.95)
    return _Layout(ROLL_WIDTH, None, ROLL_MARGIN, ROLL_ROOM, 1.0)


# -- what is printed, as blocks ------------------------------------------------------------------


@dataclass(frozen=True)
class _Text:
    size: float
    words: str
    before: float = 0.0  # space above, in mm at scale 1
    centred: bool = False
    grey: bool = False


@dataclass(frozen=True)
class _Row:
    """A label on the left (wrapping), a figure on the right of its first line."""

    size: float
    label: str
    figure: str
    before: float = 0.0
    indent: float = 0.0  # mm


@dataclass(frozen=True)
class _Rule:
    before: float = 2.0


_Block = _Text | _Row | _Rule


def _points(points: int) -> str:
    return _("{points:,} points").format(points=points)


def statement_lines(statement: Statement) -> list[list[_Block]]:
    """The statement as groups of blocks; a group is never split across pages."""
    s = statement
    groups: list[list[_Block]] = [
        [
            _Text(9, s.event_name, centred=True, grey=True),
            _Text(17, _("Personal points statement"), before=2, centred=True),
            _Text(
                10,
                _("{name} · customer no. {no}").format(name=s.masked_name, no=s.masked_customer_no),
                before=2,
                centred=True,
            ),
            _Text(9, _("As of {date}").format(date=s.today.isoformat()), centred=True, grey=True),
            _Rule(),
            _Row(12, _("Points you can spend today"), _points(s.balance), before=2),
        ],
    ]
    expiring: list[_Block] = [
        _Text(12, _("Points that expire soon"), before=3),
        _Row(
            10,
            _("Within 3 months (by {date})").format(date=s.soon_until.isoformat()),
            _points(s.expiring_3m),
            before=1,
        ),
        _Row(
            10,
            _("Within 12 months (by {date})").format(date=s.year_until.isoformat()),
            _points(s.expiring_12m),
        ),
    ]
    if s.lots:
        expiring.append(_Text(9, _("Lot by lot, the soonest first:"), before=1, grey=True))
        expiring.extend(
            _Row(
                10,
                _("Expires {date}").format(date=lot.expires_on.isoformat())
                + (" " + _("(within 3 months)") if lot.soon else ""),
                _points(lot.points),
                indent=3,
            )
            for lot in s.lots
        )
    else:
        expiring.append(_Text(10, _("None of your points expire within 12 months."), before=1))
    groups.append(expiring)
    groups.append(
        [
            _Rule(),
            _Text(12, _("Your tier: {tier}").format(tier=s.tier_name or _("none")), before=2),
            _Text(10, s.tier_meaning, before=1),
        ]
    )
    offers_head: list[_Block] = [
        _Rule(),
        _Text(12, _("Services that fit your points"), before=2),
    ]
    if not s.offers:
        offers_head.append(_Text(10, _("No service fits your points today."), before=1))
    groups.append(offers_head)
    for index, offer in enumerate(s.offers, start=1):
        group: list[_Block] = [
            _Text(11, f"{index}. {offer.merchant} · {offer.name}", before=2),
        ]
        price = _points(offer.price)
        if offer.list_price != offer.price:
            price = _("{price} (instead of {list_price:,})").format(
                price=price, list_price=offer.list_price
            )
        group.append(_Row(10, _("Your price"), price, indent=4))
        group.append(_Row(10, _("Left after it"), _points(offer.left_after), indent=4))
        notes = []
        if offer.preselected:
            notes.append(_("chosen with your invitation"))
        if offer.booth:
            notes.append(_("booth {booth}").format(booth=offer.booth))
        if offer.blocked:
            notes.append(offer.blocked)
        if notes:
            group.append(_Text(9, " · ".join(notes), grey=True))
        groups.append(group)
    groups.append(
        [
            _Rule(),
            _Text(12, _("How points are earned"), before=2),
            _Text(9, s.how_earned, before=1),
        ]
    )
    return groups


# -- measuring and drawing -------------------------------------------------------------------


Draw = Callable[[Canvas, float], None]


def _measure(block: _Block, font: str, layout: _Layout) -> tuple[float, Draw]:
    """The block's height in points at ``layout`` and how to draw it from a top ``y``."""
    k = layout.scale
    left = layout.margin
    if isinstance(block, _Rule):
        before = block.before * mm * k

        def rule(canvas: Canvas, top: float) -> None:
            canvas.setLineWidth(0.5)
            canvas.setDash(2, 2)
            canvas.line(left, top - before, left + layout.room, top - before)
            canvas.setDash()

        return before + 1 * mm, rule
    size = block.size * k
    before = block.before * mm * k
    step = size * LEADING
    if isinstance(block, _Text):
        lines = text.wrap(block.words, font, size, layout.room) if block.words else []

        def draw_text(canvas: Canvas, top: float) -> None:
            canvas.setFillGray(0.35 if block.grey else 0)
            y = top - before - size
            for line in lines:
                if block.centred:
                    text.draw(canvas, left + layout.room / 2, y, line, font, size, "centre")
                else:
                    text.draw(canvas, left, y, line, font, size)
                y -= step
            canvas.setFillGray(0)

        return before + len(lines) * step + size * (LEADING - 1), draw_text
    indent = block.indent * mm * k
    figure_width = text.width(block.figure, font, size)
    beside = layout.room - indent - figure_width - 3 * mm * k
    own_line = beside < layout.room * 0.4  # a long figure goes under its label
    label_room = layout.room - indent if own_line else beside
    lines = text.wrap(block.label, font, size, label_room)
    figure_lines = text.wrap(block.figure, font, size, layout.room - indent) if own_line else []
    count = len(lines) + len(figure_lines)

    def draw_row(canvas: Canvas, top: float) -> None:
        y = top - before - size
        right = left + layout.room
        if not own_line:
            text.draw(canvas, right, y, block.figure, font, size, "right")
        for line in lines:
            text.draw(canvas, left + indent, y, line, font, size)
            y -= step
        for line in figure_lines:
            text.draw(canvas, right, y, line, font, size, "right")
            y -= step

    return before + count * step + size * (LEADING - 1), draw_row


def render_statement(
    statement: Statement, path: Path, paper: StatementPaper = StatementPaper.ROLL_80MM
) -> Path:
    """Write the statement's PDF to ``path`` laid out for ``paper``; returns ``path``."""
    font = register_fonts()
    layout = _layout(paper)
    groups = [
        [_measure(block, font, layout) for block in group] for group in statement_lines(statement)
    ]
    buffer = io.BytesIO()  # written whole, then put in place: never half a statement
    title = f"{_('Personal points statement')} {statement.event_name}"
    if layout.page_height is None:
        height = sum(h for group in groups for h, _draw in group) + 2 * layout.margin + 6 * mm
        canvas = Canvas(buffer, pagesize=(layout.width, height))
        canvas.setTitle(title)
        y = height - layout.margin - 2 * mm
        for group in groups:
            for h, draw in group:
                draw(canvas, y)
                y -= h
        canvas.setLineWidth(0.5)
        canvas.setDash(2, 2)
        canvas.line(layout.margin, layout.margin, layout.width - layout.margin, layout.margin)
        canvas.showPage()
    else:
        pages = _paginate(groups, layout)
        canvas = Canvas(buffer, pagesize=(layout.width, layout.page_height))
        canvas.setTitle(title)
        for number, page in enumerate(pages, start=1):
            y = layout.page_height - layout.margin
            for h, draw in page:
                draw(canvas, y)
                y -= h
            if len(pages) > 1:
                canvas.setFillGray(0.35)
                text.draw(
                    canvas,
                    layout.width - layout.margin,
                    max(layout.margin - 8 * mm, 7 * mm),
                    f"{number}/{len(pages)}",
                    font,
                    8 * layout.scale,
                    "right",
                )
                canvas.setFillGray(0)
            canvas.showPage()
    canvas.save()
    return write_atomic(path, buffer.getvalue())


def _paginate(
    groups: list[list[tuple[float, Draw]]], layout: _Layout
) -> list[list[tuple[float, Draw]]]:
    """Groups onto pages, a group kept whole unless it alone is taller than a page."""
    assert layout.page_height is not None
    room = layout.page_height - 2 * layout.margin - 6 * mm  # the page number below
    pages: list[list[tuple[float, Draw]]] = [[]]
    used = 0.0
    for group in groups:
        height = sum(h for h, _draw in group)
        if used and used + height > room:
            pages.append([])
            used = 0.0
        for item in group:
            if used and used + item[0] > room:
                pages.append([])
                used = 0.0
            pages[-1].append(item)
            used += item[0]
    return pages
