"""The printed redemption slip (80 mm thermal roll): what the customer carries to a merchant.

The QR is drawn as vector squares, each exactly 4 dots of a 203 dpi thermal printer and
placed on the printer's dot grid, so no module is smeared across dots; error correction M
survives a crease. Beside it: the short slip number, merchant, service, quantity, points,
redeem-by date, the masked name, and how points are earned (customers asked last time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.units import inch, mm
from reportlab.pdfgen.canvas import Canvas

from kiosk.i18n import _
from printing.fonts import register_fonts

PRINTER_DPI = 203
DOTS_PER_MODULE = 4
DOT = inch / PRINTER_DPI  # one printer dot in PDF points
WIDTH = 80 * mm
MARGIN = 4 * mm


@dataclass(frozen=True)
class SlipPrint:
    event_name: str
    serial: int
    code: str
    merchant: str
    offer: str
    quantity: int
    points: int
    redeem_by: date
    masked_name: str


def slip_number(serial: int) -> str:
    return f"No. {serial:06d}"


def _snap(value: float) -> float:
    """Round a position to the printer's dot grid."""
    return round(value / DOT) * DOT


def qr_matrix(text: str) -> list[list[bool]]:
    """The QR's modules, the 4-module quiet zone included."""
    # A fixed mask: every decoder reads any of the eight, and scoring them all in pure Python
    # cost 17 ms of the 20 it took to build the code.
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=1, border=4, mask_pattern=0)
    qr.add_data(text, optimize=0)
    qr.make(fit=True)
    return qr.get_matrix()


def _draw_qr(canvas: Canvas, matrix: list[list[bool]], x: float, y_top: float) -> float:
    """Draw the QR with its top-left corner at (x, y_top); returns its height in points."""
    module = DOTS_PER_MODULE * DOT
    x, y_top = _snap(x), _snap(y_top)
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


def render_slip(slip: SlipPrint, path: Path) -> Path:
    font = register_fonts()
    matrix = qr_matrix(slip.code)
    qr_side = len(matrix) * DOTS_PER_MODULE * DOT
    height = qr_side + 92 * mm  # header, five lines and three lines of explanation
    canvas = Canvas(str(path), pagesize=(WIDTH, height))
    canvas.setTitle(f"{slip_number(slip.serial)} {slip.merchant}")
    center = WIDTH / 2
    y = height - MARGIN - 4 * mm
    canvas.setFont(font, 9)
    canvas.drawCentredString(center, y, slip.event_name)
    y -= 8 * mm
    canvas.setFont(font, 16)
    canvas.drawCentredString(center, y, _("Points redemption slip"))
    y -= 6 * mm
    canvas.setFont(font, 12)
    canvas.drawCentredString(center, y, slip_number(slip.serial))
    y -= 3 * mm
    drawn = _draw_qr(canvas, matrix, center - qr_side / 2, y)
    y -= drawn + 5 * mm
    lines = [
        (13, _("Merchant: {name}").format(name=slip.merchant)),
        (13, _("Service: {name} × {n}").format(name=slip.offer, n=slip.quantity)),
        (11, _("Points: {points:,}").format(points=slip.points)),
        (11, _("Redeem by: {date}").format(date=slip.redeem_by.isoformat())),
        (11, _("Customer: {name}").format(name=slip.masked_name)),
    ]
    for size, text in lines:
        canvas.setFont(font, size)
        canvas.drawString(MARGIN, y, text)
        y -= size * 0.5 * mm + 3 * mm
    y -= 2 * mm
    canvas.setFont(font, 8)
    for text in (
        _("Points are earned every month from your assets with the bank"),
        _("and can be spent on services at the event's merchants."),
        _("Show this slip at the merchant's booth; it is valid once."),
    ):
        canvas.drawString(MARGIN, y, text)
        y -= 4 * mm
    canvas.showPage()
    canvas.save()
    return path
