"""The small queue ticket printed at check-in (80 mm thermal roll).

Big ticket number, where to wait and how many are ahead, in Chinese first: the customer reads
it, not the staff. Only the masked name is printed.
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
from printing.fonts import register_fonts

WIDTH = 80 * mm
HEIGHT = 82 * mm
MARGIN = 5 * mm


def render_queue_ticket(ticket: QueueTicket, path: Path) -> Path:
    font = register_fonts()
    buffer = io.BytesIO()  # written whole, then put in place: never half a ticket
    canvas = Canvas(buffer, pagesize=(WIDTH, HEIGHT))
    canvas.setTitle(f"{ticket.ticket} {ticket.event_name}")
    center = WIDTH / 2
    y = HEIGHT - MARGIN - 5 * mm
    canvas.setFont(font, 10)
    canvas.drawCentredString(center, y, ticket.event_name)
    y -= 9 * mm
    canvas.setFont(font, 12)
    canvas.drawCentredString(center, y, _("Your number"))
    y -= 20 * mm
    canvas.setFont(font, 56)
    canvas.drawCentredString(center, y, ticket.ticket)
    y -= 11 * mm
    canvas.setFont(font, 14)
    canvas.drawCentredString(
        center, y, _("Please wait at: {place}").format(place=queue_label(ticket.queue))
    )
    y -= 8 * mm
    canvas.setFont(font, 12)
    canvas.drawCentredString(
        center, y, _("{n} waiting ahead of you").format(n=ticket.waiting_ahead)
    )
    y -= 10 * mm
    canvas.setFont(font, 10)
    local = ticket.checked_in_at.astimezone(ZoneInfo(ticket.timezone))
    canvas.drawCentredString(center, y, f"{ticket.masked_name}  {local:%Y-%m-%d %H:%M}")
    canvas.setLineWidth(0.5)
    canvas.setDash(2, 2)
    canvas.line(MARGIN, MARGIN, WIDTH - MARGIN, MARGIN)
    canvas.showPage()
    canvas.save()
    return write_atomic(path, buffer.getvalue())
