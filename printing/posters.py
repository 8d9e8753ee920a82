"""The RMs' invitation posters (issue #20): one A4 page per RM with their personal code and a
QR of the link they share on WeChat (the e-catalog's address with ``?rm=CODE``), printed for
the branch hall or sent as a picture. Without a catalog address the QR carries the code alone
and a sentence says to give it when signing up.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from kiosk.errors import KioskError
from kiosk.files import write_atomic
from kiosk.i18n import _
from kiosk.services.rm_codes import RmCode, RmCodes
from printing import text
from printing.fonts import register_fonts
from printing.slips import _draw_qr, qr_matrix

MARGIN = 20 * mm
QR_SIZE = 110 * mm


def _page(canvas: Canvas, codes: RmCodes, rm: RmCode, font: str) -> None:
    width, height = A4
    centre, room = width / 2, width - 2 * MARGIN
    top = height - MARGIN

    def block(words: str, size: float, lines: int, after: float) -> None:
        nonlocal top
        fitted = text.fit(words, font, size, room, lines)
        text.draw_fitted(canvas, centre, top - fitted.size, fitted, font, 1.3, "centre")
        top -= len(fitted.lines) * fitted.size * 1.3 + after

    block(codes.event_name, 26, 3, 10)
    block(_("Scan to see the services and sign up"), 18, 2, 16)
    matrix = qr_matrix(rm.link)
    _draw_qr(canvas, matrix, centre - QR_SIZE / 2, top, module=QR_SIZE / len(matrix), grid=0.01)
    top -= QR_SIZE + 14
    block(_("Your relationship manager's invitation code"), 16, 2, 4)
    block(rm.code, 44, 1, 10)
    if codes.catalog_url:
        block(_("Please give this code when you sign up."), 14, 2, 14)
    else:
        block(
            _("Please give this code to the bank when you sign up for the event."),
            14,
            2,
            14,
        )
    block(f"{rm.name}  {rm.branch_name or rm.branch}", 16, 2, 6)
    if codes.catalog_url:
        block(rm.link, 9, 3, 0)


def render_posters(codes: RmCodes, rms: list[RmCode], path: Path) -> Path:
    """One PDF, a page per RM (RMs without a code are refused: issue the codes first)."""
    if path.suffix.lower() != ".pdf":
        raise KioskError(_("Write the posters as .pdf, not “{name}”.").format(name=path.name))
    missing = [rm.staff_no for rm in rms if not rm.code]
    if missing:
        message = _("{staff} have no invitation code yet: kiosk rm codes --staff SUPERVISOR first.")
        raise KioskError(message.format(staff=", ".join(missing)))
    if not rms:
        raise KioskError(_("There is no relationship manager to print a poster for."))
    font = register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(_("Invitation posters"))
    for rm in rms:
        _page(canvas, codes, rm, font)
        canvas.showPage()
    canvas.save()
    return write_atomic(path, buffer.getvalue())


def poster_name(rm: RmCode) -> str:
    """The file of one RM's poster: poster-B01-RM001.pdf."""
    safe = re.sub(
        r"[^A-Za-z0-9_-]", "_", f"{rm.branch}-{rm.staff_no}" if rm.branch else rm.staff_no
    )
    return f"poster-{safe}.pdf"


def write_posters(codes: RmCodes, folder: Path) -> list[Path]:
    """Every RM's poster in ``folder``: one file each, and all of them in posters-all.pdf."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [render_posters(codes, [rm], folder / poster_name(rm)) for rm in codes.rms]
    written.append(render_posters(codes, codes.rms, folder / "posters-all.pdf"))
    return written
