"""The bundled CJK font for reportlab: the same face as on screen, embedded in every PDF."""

from __future__ import annotations

from functools import cache
from importlib import resources

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT = "WenQuanYiMicroHei"


@cache
def register_fonts() -> str:
    """Register the font once and return its reportlab name."""
    path = str(resources.files("assets") / "fonts" / "wqy-microhei.ttc")
    pdfmetrics.registerFont(TTFont(FONT, path, subfontIndex=0))
    return FONT
