"""The printed redemption slip: what the customer carries to a merchant.

Two layouts with the same content. The 80 mm thermal roll (the default): the QR is drawn as
vector squares, each exactly 4 dots of a 203 dpi thermal printer and placed on the printer's
dot grid, so no module is smeared across dots; error correction M survives a crease. A6 for an
office laser or inkjet printer (``Paper.A6``): larger type for elderly customers, the QR on a
300/600 dpi grid (see ``A6_MODULE``). Beside the QR: the short slip number, merchant, service,
quantity, points, redeem-by date, the masked name, and how points are earned (customers asked
last time).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import zxingcpp
from reportlab.lib.units import inch, mm
from reportlab.pdfgen.canvas import Canvas

from kiosk.files import write_atomic
from kiosk.i18n import _
from printing import text
from printing.fonts import register_fonts
from printing.paper import Paper

if TYPE_CHECKING:
    from kiosk.services.slips import SlipDocument

__all__ = ["Paper", "qr_matrix", "render_slip", "slip_number"]

PRINTER_DPI = 203
DOTS_PER_MODULE = 4
DOT = inch / PRINTER_DPI  # one printer dot in PDF points
WIDTH = 80 * mm
MARGIN = 4 * mm  # the printable area is 4–76 mm on the 80 mm roll
ROLL_TEXT_WIDTH = 72 * mm - 2 * DOT  # what the head prints (576 dots), centred on the paper


def slip_number(serial: int) -> str:
    return f"No. {serial:06d}"


def qr_matrix(text: str) -> list[list[bool]]:
    """The QR's modules (True = dark), the 4-module quiet zone included."""
    # zxing-cpp's C++ writer builds the code in 0.4 ms; the pure-Python qrcode package took
    # 6.5 ms of a slip's 30 ms budget. Error correction M survives a crease.
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = memoryview(code.to_image(scale=1, add_quiet_zones=True))
    rows, columns = image.shape
    return [[image[r, c] == 0 for c in range(columns)] for r in range(rows)]


def _draw_qr(
    canvas: Canvas,
    matrix: list[list[bool]],
    x: float,
    y_top: float,
    module: float = DOTS_PER_MODULE * DOT,
    grid: float = DOT,
) -> float:
    """Draw the QR with its top-left corner at (x, y_top) snapped to ``grid``; returns its
    height in points (the booklet's and the posters'; a slip's goes by ``_fill_runs``)."""
    x, y_top = round(x / grid) * grid, round(y_top / grid) * grid
    for row, cells in enumerate(matrix):
        y = y_top - (row + 1) * module
        column = 0
        while column < len(cells):  # one rectangle per run of dark modules
            if not cells[column]:
                column += 1
                continue
            start = column
            while column < len(cells) and cells[column]:
                column += 1
            canvas.rect(x + start * module, y, (column - start) * module, module, stroke=0, fill=1)
    return len(matrix) * module


_DARK = re.compile(b"\x00+")  # a run of dark modules in a row of the encoder's image


def _qr_runs(text: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The QR of ``text`` as ``qr_matrix`` draws it (error correction M, the quiet zone
    included): its size in modules and its dark runs (row, start, end), read from the
    encoder's image row by row without a Python object per module."""
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = memoryview(code.to_image(scale=1, add_quiet_zones=True))
    rows, columns = image.shape
    pixels = image.tobytes()
    runs = [
        (row, match.start() - row * columns, match.end() - row * columns)
        for row in range(rows)
        for match in _DARK.finditer(pixels, row * columns, (row + 1) * columns)
    ]
    return rows, runs


def _fill_runs(
    canvas: Canvas,
    size: int,
    runs: list[tuple[int, int, int]],
    x: float,
    y_top: float,
    module: float,
    grid: float,
) -> float:
    """Fill a QR of ``size`` modules given as dark runs, its top-left corner at (x, y_top)
    snapped to ``grid``; returns its height in points.

    The rectangles are written in module units, whole numbers, under one scaling to
    ``module`` points, so every edge falls on a module boundary and the page's content is a
    third the size; a rectangle each through ``Canvas.rect`` (five rounded numbers formatted
    per run) took a fifth of the slip's PDF (issue #23 item 5). Each run stays a path of its
    own, filled on its own, as ``Canvas.rect`` drew it: rasterisers snap a lone rectangle to
    whole dots (poppler's ``pdftoppm`` for the thermal printer does), whereas one path of
    all the runs came out a dot wider per run at 203 dpi. The raster is the same, dot for
    dot, as before."""
    x, y_top = round(x / grid) * grid, round(y_top / grid) * grid
    path = "".join(f"{start} {size - 1 - row} {end - start} 1 re f\n" for row, start, end in runs)
    canvas.saveState()
    canvas.transform(module, 0, 0, module, x, y_top - size * module)
    canvas.addLiteral(path)
    canvas.restoreState()
    return size * module


def render_slip(slip: SlipDocument, path: Path, paper: Paper = Paper.ROLL_80MM) -> Path:
    """Write the slip's PDF to ``path`` laid out for ``paper``; returns ``path``. ``slip`` is
    the service's document (``kiosk.services.slips.slip_document``), the same for every copy;
    ``printing.flow.print_slip`` is the whole flow around it (check, render, send, count)."""
    if paper == Paper.A6:
        return _render_a6(slip, path)
    return _render_roll(slip, path)


def _how_points_work() -> tuple[str, str, str]:
    return (
        _("Points are earned every month from your assets with the bank"),
        _("and can be spent on services at the event's merchants."),
        _("Show this slip at the merchant's booth; it is valid once."),
    )


def _roll_fit(size: float, words: str, lines: int = 2) -> text.Fitted:
    """One line of the roll slip fitted to the head's printable width: wrapped onto up to
    ``lines`` lines, then smaller down to 8 pt, then ending with "…"."""
    return text.fit(words, register_fonts(), size, ROLL_TEXT_WIDTH, lines, min(size, 8))


def _render_roll(slip: SlipDocument, path: Path) -> Path:
    font = register_fonts()
    size, runs = _qr_runs(slip.code)
    qr_side = size * DOTS_PER_MODULE * DOT
    event_name = _roll_fit(9, slip.event_name)
    title = _roll_fit(16, _("Points redemption slip"), 1)
    # (the line's nominal size, which sets the gap after it; the fitted text)
    body = [
        (13, _roll_fit(13, _("Merchant: {name}").format(name=slip.merchant))),
        (13, _roll_fit(13, _("Service: {name} × {n}").format(name=slip.offer, n=slip.quantity), 3)),
        (11, _roll_fit(11, _("Points: {points:,}").format(points=slip.points))),
        (11, _roll_fit(11, _("Redeem by: {date}").format(date=slip.redeem_by.isoformat()))),
        (11, _roll_fit(11, _("Customer: {name}").format(name=slip.masked_name))),
    ]
    foot = [_roll_fit(8, line) for line in _how_points_work()]
    fitted = [event_name, title, *(f for _size, f in body), *foot]
    # A wrapped line adds its height to the slip (the roll is endless).
    extra = sum((len(f.lines) - 1) * f.size * LEADING for f in fitted)
    height = qr_side + 92 * mm + extra  # header, five lines and three lines of explanation
    # Written whole, then put in place: never half a slip. Not fsynced: the PDF is spooled and
    # printed at once, and a copy lost to a power cut is printed again from the database
    # (``kiosk slip print``); the fsyncs were a fifth of the slip's time (issue #23).
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(WIDTH, height))
    canvas.setTitle(f"{slip_number(slip.serial)} {slip.merchant}")
    center = WIDTH / 2
    y = height - MARGIN - 4 * mm
    y = _lines(canvas, center, y, event_name, "centre") - 8 * mm
    y = _lines(canvas, center, y, title, "centre") - 6 * mm
    text.draw(canvas, center, y, slip_number(slip.serial), font, 12, "centre")
    y -= 3 * mm
    drawn = _fill_runs(canvas, size, runs, center - qr_side / 2, y, DOTS_PER_MODULE * DOT, DOT)
    y -= drawn + 5 * mm
    for size, fit in body:
        y = _lines(canvas, MARGIN, y, fit) - (size * 0.5 * mm + 3 * mm)
    y -= 2 * mm
    for fit in foot:
        y = _lines(canvas, MARGIN, y, fit) - 4 * mm
    canvas.showPage()
    canvas.save()
    return write_atomic(path, buffer.getvalue(), durable=False)


LEADING = 1.2


def _lines(canvas: Canvas, x: float, y: float, fit: text.Fitted, align: str = "left") -> float:
    """Draw ``fit`` from the baseline ``y``; returns its last line's baseline."""
    text.draw_fitted(canvas, x, y, fit, register_fonts(), LEADING, align)
    return y - (len(fit.lines) - 1) * fit.size * LEADING


# -- A6 (105 x 148 mm) for an office printer ----------------------------------------------------

A6_WIDTH, A6_HEIGHT = 105 * mm, 148 * mm
A6_MARGIN = 9 * mm
A6_GRID = inch / 300
"""Positions on A6 snap to 1/300 inch: whole dots at 300, 600 and 1200 dpi."""
A6_MODULE = 6 * A6_GRID
"""0.508 mm (0.02 in): 6 dots at 300 dpi, 12 at 600, 24 at 1200.

Office printers are 300, 600 or 1200 dpi, and no module size is a whole number of dots at
those and at the roll's 203 dpi too (203 shares no useful factor with 300), so the A6 grid
serves the printers A6 is for: every module edge falls on a dot boundary, no module is a dot
wider than its neighbour, and toner or ink spreads evenly. 0.508 mm is the roll slip's module
(4 dots at 203 dpi = 0.500 mm) within 2 %, so the booth scanners read both alike; a QR of this
size (about 30 mm with its quiet zone) is small enough to leave room for large type.
"""

# (type size in points, text, space after in points, centred, lines at most)
_Block = tuple[float, str, float, bool, int]


def _flow(canvas: Canvas | None, font: str, blocks: list[_Block], y: float, scale: float) -> float:
    """Draw ``blocks`` downwards from ``y`` (or only measure, without a canvas); returns the
    new ``y``. A block wraps onto its lines at most and ends with "…" beyond them."""
    width = A6_WIDTH - 2 * A6_MARGIN
    for size, words, after, centred, most in blocks:
        size *= scale
        for line in text.fit(words, font, size, width, most, min_size=size).lines:
            y -= size * (1.05 if centred else 1.35)
            if canvas is None:
                continue
            if centred:
                text.draw(canvas, A6_WIDTH / 2, y, line, font, size, "centre")
            else:
                text.draw(canvas, A6_MARGIN, y + size * 0.3, line, font, size)
        y -= after * scale
    return y


def _render_a6(slip: SlipDocument, path: Path) -> Path:
    """A6 portrait: the roll slip's content in type about 1.5 times larger.

    Long merchant or service names wrap; when the text would run off the page, all of it
    shrinks a little (the footnote never below 8 pt) rather than losing a line; a name longer
    than its lines allow ends with "…".
    """
    font = register_fonts()
    size, runs = _qr_runs(slip.code)
    qr_side = size * A6_MODULE
    earned, spent, show = _how_points_work()
    # The roll's first two lines are one sentence; on A6 they flow as one paragraph.
    head: list[_Block] = [
        (13, slip.event_name, 3 * mm, True, 2),
        (24, _("Points redemption slip"), 2.5 * mm, True, 1),
        (20, slip_number(slip.serial), 2 * mm, True, 1),
    ]
    service = _("Service: {name} × {n}").format(name=slip.offer, n=slip.quantity)
    body: list[_Block] = [
        (18, _("Merchant: {name}").format(name=slip.merchant), 0, False, 2),
        (18, service, 0, False, 3),
        (17, _("Points: {points:,}").format(points=slip.points), 0, False, 1),
        (17, _("Redeem by: {date}").format(date=slip.redeem_by.isoformat()), 0, False, 1),
        (17, _("Customer: {name}").format(name=slip.masked_name), 3 * mm, False, 2),
    ]
    foot: list[_Block] = [
        (12.5, text.join_sentences([earned, spent]), 1 * mm, False, 3),
        (12.5, show, 0, False, 2),
    ]
    room = A6_HEIGHT - 2 * A6_MARGIN - qr_side - 2 * mm  # the gap below the QR and the rule
    scale = 1.0
    smallest = text.MIN_SIZE / 12.5  # the footnote stays at 8 pt or more
    while scale - 0.05 >= smallest and -_flow(None, font, head + body + foot, 0, scale) > room:
        scale -= 0.05
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(A6_WIDTH, A6_HEIGHT))
    canvas.setTitle(f"{slip_number(slip.serial)} {slip.merchant}")
    y = _flow(canvas, font, head, A6_HEIGHT - A6_MARGIN, scale)
    # The quiet zone (4 modules, 2 mm) adds to the gaps around the QR.
    y -= _fill_runs(canvas, size, runs, (A6_WIDTH - qr_side) / 2, y, A6_MODULE, A6_GRID) + 1 * mm
    y = _flow(canvas, font, body, y, scale)
    canvas.setLineWidth(0.5)
    canvas.line(A6_MARGIN, y, A6_WIDTH - A6_MARGIN, y)
    _flow(canvas, font, foot, y - 1 * mm, scale)
    canvas.showPage()
    canvas.save()
    return write_atomic(path, buffer.getvalue(), durable=False)  # see _render_roll
