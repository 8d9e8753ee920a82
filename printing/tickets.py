"""The small queue ticket printed at check-in (80 mm thermal roll).

Big ticket number, where to wait and how many are ahead, in Chinese first: the customer reads
it, not the staff. Only the masked name is printed. Every line fits the head's printable
width (4–76 mm on the roll, ``printing.text.fit``): a long event name wraps onto two lines or
gets smaller, and the ticket grows by what it needs.
"""

from __future__ import annotations

import io
from pathlib import Path
from zoneinfo import ZoneInfo

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from kiosk.files import write_atomic
from kiosk.i18n import _
from kiosk.labels import queue_label
from kiosk.services.reception import QueueTicket
from printing import text
from printing.fonts import register_fonts

WIDTH = 80 * mm
MARGIN = 4 * mm  # the printable area is 4–76 mm on the 80 mm roll
ROOM = WIDTH - 2 * MARGIN


def render_queue_ticket(ticket: QueueTicket, path: Path) -> Path:
    font = register_fonts()
    local = ticket.checked_in_at.astimezone(ZoneInfo(ticket.timezone))
    # (size, text, lines at most, space before the line's baseline)
    blocks = [
        (10, ticket.event_name, 2, 5 * mm),
        (12, _("Your number"), 1, 9 * mm),
        (56, ticket.ticket, 1, 20 * mm),
        (14, _("Please wait at: {place}").format(place=queue_label(ticket.queue)), 2, 11 * mm),
        (12, _("{n} waiting ahead of you").format(n=ticket.waiting_ahead), 1, 8 * mm),
        (10, f"{ticket.masked_name}  {local:%Y-%m-%d %H:%M}", 2, 10 * mm),
    ]
    fitted = [
        (text.fit(words, font, size, ROOM, lines, min_size=min(size, 8)), before)
        for size, words, lines, before in blocks
    ]
    extra = sum((len(f.lines) - 1) * f.size * 1.25 for f, _before in fitted)
    height = 82 * mm + extra
    buffer = io.BytesIO()  # written whole, then put in place: never half a ticket
    canvas = Canvas(buffer, pagesize=(WIDTH, height))
    canvas.setTitle(f"{ticket.ticket} {ticket.event_name}")
    y = height - MARGIN - 1 * mm
    for fit, before in fitted:
        y -= before
        text.draw_fitted(canvas, WIDTH / 2, y, fit, font, align="centre")
        y -= fit.size * 1.25 * (len(fit.lines) - 1)
    canvas.setLineWidth(0.5)
    canvas.setDash(2, 2)
    canvas.line(MARGIN, MARGIN, WIDTH - MARGIN, MARGIN)
    canvas.showPage()
    canvas.save()
    return write_atomic(path, buffer.getvalue())
