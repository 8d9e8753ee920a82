"""The catalog booklet (PDF, A4 or A5) and the self-contained HTML e-catalog.

Customers last time did not know what they could redeem; the booklet goes out with the
invitations. Every service has a QR code: the e-catalog's address with the service's anchor
(``URL#O101``) when ``Event.catalog_url`` is set, otherwise a text naming the service and its
price, so a scan says something useful either way. The cover QR is the e-catalog's address.
The HTML is one file with inline CSS and inline SVG codes and no external resource, so it works
from any web server or straight from a USB stick. QR codes come from zxing-cpp's C++ writer.
"""

from __future__ import annotations

import enum
import html
import io
import json
from pathlib import Path

from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from kiosk.files import write_atomic, write_text_atomic
from kiosk.i18n import _, get_language
from kiosk.labels import category_label
from kiosk.services.activation import CatalogOffer
from kiosk.services.tracking import Booklet, TierTerms
from kiosk.tiers import Tier
from printing import text
from printing.fonts import register_fonts
from printing.slips import _draw_qr, qr_matrix

DESCRIPTION_LINES = 12
"""A description longer than this ends with "…" (the e-catalog has it whole)."""


class BookletPaper(enum.StrEnum):
    A4 = "a4"
    A5 = "a5"


def offer_qr_text(offer: CatalogOffer, catalog_url: str) -> str:
    """What a service's QR carries: its anchor in the e-catalog, or its name and price."""
    if catalog_url:
        return f"{catalog_url.split('#', 1)[0]}#{offer.code}"
    return _("{code} {name} {points} points").format(
        code=offer.code, name=offer.name, points=offer.points_price
    )


def _points(points: int) -> str:
    return _("{points} points").format(points=f"{points:,}")


def _by_merchant(offers: list[CatalogOffer]) -> list[list[CatalogOffer]]:
    groups: dict[str, list[CatalogOffer]] = {}
    for offer in offers:
        groups.setdefault(offer.merchant_code, []).append(offer)
    return list(groups.values())


def _merchant_title(offer: CatalogOffer) -> str:
    title = f"{offer.merchant_name}"
    if offer.booth:
        title += "  " + _("Booth {booth}").format(booth=offer.booth)
    return title


def tier_line(terms: list[TierTerms]) -> str:
    """What the tiers pay for one offer, and their places: "金卡 8,000 积分 · 钻石 6,000 积分 ·
    金卡限 20 名" ("" when every tier pays the offer's own price without a limit)."""
    return "  ·  ".join(tier_parts(terms))


def tier_parts(terms: list[TierTerms]) -> list[str]:
    prices = [
        _("{tier} {points}").format(tier=t.tier, points=_points(t.points))
        for t in terms
        if t.points is not None
    ]
    quotas = [
        _("{tier}: {n} places").format(tier=t.tier, n=t.quota) for t in terms if t.quota is not None
    ]
    return prices + quotas


def _yuan(amount: int) -> str:
    """An AUM floor as the bank says it: 5 万元 in Chinese, 50,000 yuan in English."""
    if get_language().startswith("zh") and amount >= 10_000 and amount % 10_000 == 0:
        return _("{n} ten thousand yuan").format(n=f"{amount // 10_000:,}")
    return _("{n} yuan").format(n=f"{amount:,}")


def tiers_explained(tiers: list[Tier]) -> list[str]:
    """The event's tiers once, for the cover: what decides a customer's price."""
    if not tiers:
        return []
    return [
        _("Your tier, by your assets with the bank, sets your price:"),
        # Names and bands only: a tier's ``meaning`` is written for the personal statement and
        # often says its band again.
        *(
            _("{tier}: assets from {amount}").format(tier=t.name, amount=_yuan(t.aum_floor))
            for t in tiers
        ),
    ]


def _how_points_work() -> list[str]:
    return [
        _("Points are earned every month from your assets with the bank"),
        _("and can be spent on services at the event's merchants."),
        _("Points buy services only; the slip is printed at the activation desk."),
    ]


# -- PDF -------------------------------------------------------------------------------------


class _Layout:
    """Sizes for one paper; A5 is A4 scaled down, with type kept readable for older readers."""

    def __init__(self, paper: BookletPaper) -> None:
        self.size = A4 if paper == BookletPaper.A4 else A5
        a5 = paper == BookletPaper.A5
        self.margin = (12 if a5 else 18) * mm
        self.qr = (20 if a5 else 24) * mm
        self.cover_qr = (40 if a5 else 55) * mm
        self.title = 18 if a5 else 26
        self.heading = 12 if a5 else 15
        self.name = 11 if a5 else 13
        self.body = 8.5 if a5 else 10
        self.leading = 1.35


def render_booklet(booklet: Booklet, path: Path, paper: BookletPaper = BookletPaper.A4) -> Path:
    """Write the booklet's PDF: a cover, then every merchant's services with their QR codes."""
    font = register_fonts()
    layout = _Layout(paper)
    width, height = layout.size
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=layout.size, pageCompression=1)
    canvas.setTitle(f"{booklet.event_name} {_('Points catalog')}")
    _cover(canvas, font, layout, booklet)
    canvas.showPage()

    page = [2]
    left, right = layout.margin, width - layout.margin
    text_left = left + layout.qr + 5 * mm
    text_width = right - text_left

    def new_page() -> float:
        canvas.setFillGray(0.4)
        header = text.ellipsize(booklet.event_name, font, layout.body, right - left)
        text.draw(canvas, left, height - layout.margin + 4 * mm, header, font, layout.body)
        # The page number stays 7 mm up at least: office printers lose the last 4–5 mm.
        bottom = max(layout.margin - 8 * mm, 7 * mm)
        text.draw(canvas, right, bottom, str(page[0]), font, layout.body, "right")
        canvas.setFillGray(0)
        return height - layout.margin - 4 * mm

    y = new_page()
    for offers in _by_merchant(booklet.offers):
        merchant = text.fit(
            f"{offers[0].merchant_code}  {_merchant_title(offers[0])}",
            font,
            layout.heading,
            right - left,
            2,
        )
        heading_height = layout.heading * 2.2 + (len(merchant.lines) - 1) * merchant.size * 1.25
        for index, offer in enumerate(offers):
            price = _points(offer.points_price)
            price_width = text.width(price, font, layout.name) + 4 * mm
            # The name wraps beside the price, never under it.
            name = text.fit(
                f"{offer.code}  {offer.name}", font, layout.name, text_width - price_width, 3
            )
            meta = text.fit(
                "  ·  ".join(
                    (
                        category_label(offer.category),
                        _("Redeem by {date}").format(date=offer.redeem_by.isoformat()),
                    )
                ),
                font,
                layout.body,
                text_width,
                2,
            )
            by_tier = tier_line(booklet.tier_terms.get(offer.code, []))
            tiers = text.fit(by_tier, font, layout.body, text_width, 3)
            tier_lines = tiers.lines if by_tier else []
            description = text.fit(
                offer.description,
                font,
                layout.body,
                text_width,
                DESCRIPTION_LINES,
                min_size=min(layout.body, text.MIN_SIZE),
            )
            lines = description.lines if offer.description else []
            text_height = (
                name.size * len(name.lines) + layout.body * (len(meta.lines) + 1)
            ) * layout.leading + (
                description.size * len(lines) + tiers.size * len(tier_lines)
            ) * layout.leading
            entry = max(layout.qr, text_height) + 5 * mm
            heading = heading_height if index == 0 else 0
            if y - heading - entry < layout.margin:
                canvas.showPage()
                page[0] += 1
                y = new_page()
                heading = heading_height  # the merchant again on a new page
            if heading:
                y -= layout.heading * 1.4
                y = text.draw_fitted(canvas, left, y, merchant, font) + merchant.size * 1.25
                canvas.setLineWidth(0.6)
                canvas.line(left, y - layout.heading * 0.45, right, y - layout.heading * 0.45)
                y -= layout.heading * 0.8
            top = y - 2 * mm
            matrix = qr_matrix(offer_qr_text(offer, booklet.catalog_url))
            _draw_qr(canvas, matrix, left, top, module=layout.qr / len(matrix), grid=0.01)
            line_y = top - layout.name
            text.draw(canvas, right, line_y, price, font, layout.name, "right")
            line_y = text.draw_fitted(canvas, text_left, line_y, name, font, layout.leading)
            line_y += name.size * layout.leading - layout.body * layout.leading * 1.2
            canvas.setFillGray(0.3)
            line_y = text.draw_fitted(canvas, text_left, line_y, meta, font, layout.leading)
            line_y += meta.size * layout.leading
            canvas.setFillColorRGB(0.55, 0.11, 0.07)  # the tiers' prices, as the price
            for line in tier_lines:
                line_y -= tiers.size * layout.leading
                text.draw(canvas, text_left, line_y, line, font, tiers.size)
            canvas.setFillGray(0)
            for line in lines:
                line_y -= description.size * layout.leading
                text.draw(canvas, text_left, line_y, line, font, description.size)
            y -= entry
    canvas.showPage()
    canvas.save()
    return write_atomic(path, buffer.getvalue())


def _cover(canvas: Canvas, font: str, layout: _Layout, booklet: Booklet) -> None:
    """The cover, flowed from the top: each block fitted to the width (wrapped, then smaller,
    then "…"), the next one below its last line whatever size it came out."""
    width, height = layout.size
    centre = width / 2
    room = width - 2 * layout.margin
    top = height - layout.margin - layout.title * 0.5

    def block(words: str, size: float, lines: int, after: float, leading: float = 1.3) -> None:
        nonlocal top
        fitted = text.fit(words, font, size, room, lines)
        text.draw_fitted(canvas, centre, top - fitted.size, fitted, font, leading, "centre")
        top -= len(fitted.lines) * fitted.size * leading + after

    block(booklet.event_name, layout.title, 6, layout.heading * 0.6)
    if booklet.theme_name:  # a themed session's booklet (专场)
        block(booklet.theme_name, layout.heading * 1.2, 2, layout.heading * 0.6)
    block(_("Points catalog"), layout.heading * 1.2, 1, layout.heading * 1.2)
    details = booklet.event_date.isoformat()
    if booklet.venue:
        details += "  " + booklet.venue
    block(details, layout.name, 3, layout.name * 1.7)
    if booklet.catalog_url:
        matrix = qr_matrix(booklet.catalog_url)
        size = layout.cover_qr
        _draw_qr(canvas, matrix, centre - size / 2, top, module=size / len(matrix), grid=0.01)
        top -= size + layout.name * 0.8
        block(_("Scan for the e-catalog"), layout.name, 1, layout.body * 0.4)
        block(booklet.catalog_url, layout.body, 3, layout.body * 1.6)
    for line in _how_points_work():
        block(line, layout.body, 3, 0, layout.leading)
    explained = tiers_explained(booklet.tiers)
    if explained:
        top -= layout.body
    for line in explained:
        block(line, layout.body, 3, 0, layout.leading)
    top -= layout.body * 2
    merchants = _by_merchant(booklet.offers)
    block(
        _("{merchants} merchants, {offers} services").format(
            merchants=len(merchants), offers=len(booklet.offers)
        ),
        layout.body,
        1,
        0,
    )


# -- HTML ------------------------------------------------------------------------------------


def qr_svg(text: str, size_px: int = 132) -> str:
    """An inline SVG of the QR: one path, crisp at any zoom, no external file."""
    matrix = qr_matrix(text)
    n = len(matrix)
    parts = []
    for row, cells in enumerate(matrix):
        column = 0
        while column < n:
            if not cells[column]:
                column += 1
                continue
            start = column
            while column < n and cells[column]:
                column += 1
            parts.append(f"M{start} {row}h{column - start}v1h-{column - start}z")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" width="{size_px}" '
        f'height="{size_px}" shape-rendering="crispEdges" role="img" '
        f'aria-label="{html.escape(text)}"><rect width="{n}" height="{n}" fill="#fff"/>'
        f'<path d="{"".join(parts)}" fill="#000"/></svg>'
    )


_CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",
sans-serif;margin:0;color:#222;background:#f6f6f4;line-height:1.5}
header{background:#8c1c13;color:#fff;padding:24px 16px;text-align:center}
header h1{margin:0 0 4px;font-size:1.7em}header p{margin:4px 0}
main{max-width:860px;margin:0 auto;padding:8px 12px 40px}
nav{display:flex;flex-wrap:wrap;gap:8px;margin:16px 0}
nav a{background:#fff;border:1px solid #ccc;border-radius:16px;padding:4px 12px;
color:#8c1c13;text-decoration:none}
h2{border-bottom:2px solid #8c1c13;padding-bottom:4px;margin-top:28px}
.offer{display:flex;gap:16px;background:#fff;border-radius:8px;padding:12px;margin:10px 0;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
.offer:target{outline:3px solid #e0a800}
.offer svg{flex:none}
.offer h3{margin:0;font-size:1.15em}
.price{font-size:1.3em;color:#8c1c13;font-weight:bold;margin:2px 0}
.tier{color:#8c1c13;margin:2px 0}.tier span{white-space:nowrap}
.meta{color:#666;font-size:.9em;margin:2px 0}.desc{margin:6px 0 0}
.how{font-size:.95em;opacity:.9}
@media (max-width:520px){.offer{flex-direction:column}.offer svg{width:110px;height:110px}}
.rm{background:#fff3cd;color:#5c3c00;border-radius:8px;padding:8px 12px;margin:12px auto 0;
max-width:820px;font-size:1.1em}.rm b{letter-spacing:.08em}
@media print{body{background:#fff}.offer{box-shadow:none;border:1px solid #ccc;break-inside:avoid}}
"""


# An RM's poster links here with ``?rm=CODE`` (issue #20): the page shows the code so the
# customer gives it when signing up, and keeps it on ``<html data-rm>`` for a sign-up form
# embedded later. Only a code of the RM pattern is shown, as text (never as HTML).
_RM_SCRIPT = """<script>
(function(){var c=(new URLSearchParams(location.search).get("rm")||"").trim().toUpperCase();
if(!/^R[0-9A-Z]{5}$/.test(c))return;var p=document.getElementById("rm-code");
var t=TEXT.split("{code}");p.textContent="";p.appendChild(document.createTextNode(t[0]));
var b=document.createElement("b");b.textContent=c;p.appendChild(b);
p.appendChild(document.createTextNode(t.slice(1).join(c)));p.hidden=false;
document.documentElement.setAttribute("data-rm",c);})();
</script>
"""


def _rm_banner() -> str:
    """The hidden line that shows an RM's code read from the address (``?rm=CODE``)."""
    sentence = _(
        "Your relationship manager's invitation code: {code}. Please give it when you sign up."
    )
    script = _RM_SCRIPT.replace("TEXT", json.dumps(sentence).replace("<", "\\u003c"))
    return f'<p class="rm" id="rm-code" hidden></p>\n{script}'


def render_html(booklet: Booklet, path: Path) -> Path:
    """Write the e-catalog: one HTML file, an ``id`` anchor per service matching its QR."""
    e = html.escape
    lang = "zh-CN" if get_language().startswith("zh") else "en"
    title = f"{booklet.event_name} · {_('Points catalog')}"
    merchants = _by_merchant(booklet.offers)
    out = [
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<header>\n"
        f"<h1>{e(booklet.event_name)}</h1>\n"
        + (f'<p class="theme">{e(booklet.theme_name)}</p>\n' if booklet.theme_name else "")
        + f"<p>{e(_('Points catalog'))}</p>\n"
        f"<p>{e(booklet.event_date.isoformat())} {e(booklet.venue)}</p>\n"
        f'<p class="how">{e(text.join_sentences(_how_points_work()))}</p>\n'
    ]
    explained = tiers_explained(booklet.tiers)
    if explained:
        out.append(
            f'<p class="how tiers">{e(explained[0])}<br>'
            + "<br>".join(e(line) for line in explained[1:])
            + "</p>\n"
        )
    out.append(_rm_banner())
    out.append("</header>\n<main>\n<nav>\n")
    for offers in merchants:
        first = offers[0]
        out.append(f'<a href="#m-{e(first.merchant_code)}">{e(first.merchant_name)}</a>\n')
    out.append("</nav>\n")
    for offers in merchants:
        first = offers[0]
        out.append(
            f'<section id="m-{e(first.merchant_code)}">\n<h2>{e(_merchant_title(first))}</h2>\n'
        )
        for offer in offers:
            meta = "  ·  ".join(
                (
                    category_label(offer.category),
                    _("Redeem by {date}").format(date=offer.redeem_by.isoformat()),
                )
            )
            out.append(
                f'<article class="offer" id="{e(offer.code)}">\n'
                f"{qr_svg(offer_qr_text(offer, booklet.catalog_url))}\n<div>\n"
                f"<h3>{e(offer.code)} {e(offer.name)}</h3>\n"
                f'<p class="price">{e(_points(offer.points_price))}</p>\n'
                + (
                    '<p class="tier">'
                    + " · ".join(f"<span>{e(part)}</span>" for part in by_tier)
                    + "</p>\n"
                    if (by_tier := tier_parts(booklet.tier_terms.get(offer.code, [])))
                    else ""
                )
                + f'<p class="meta">{e(meta)}</p>\n'
                + (f'<p class="desc">{e(offer.description)}</p>\n' if offer.description else "")
                + "</div>\n</article>\n"
            )
        out.append("</section>\n")
    out.append("</main>\n</body>\n</html>\n")
    return write_text_atomic(path, "".join(out))
