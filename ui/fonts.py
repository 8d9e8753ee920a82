"""The bundled CJK font, registered with Qt so Chinese never renders as boxes.

WenQuanYi Micro Hei ships in ``assets/fonts`` (Apache-2.0) and covers Latin too, so the whole
UI uses one face on any machine, fonts installed or not. ``printing`` registers the same file
with reportlab, so screens and slips match.
"""

from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QFontDatabase

FONT_FILE = "wqy-microhei.ttc"
_family: str | None = None


def font_path() -> str:
    return str(resources.files("assets") / "fonts" / FONT_FILE)


def cjk_family() -> str:
    """Register the bundled font once (needs a QGuiApplication) and return its family name."""
    global _family
    if _family is None:
        font_id = QFontDatabase.addApplicationFont(font_path())
        families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
        _family = families[0] if families else "sans-serif"
    return _family
