"""The bundled fonts, registered with Qt so every character of a name is drawn, never a box.

Noto Sans CJK SC (subset, ``assets/fonts``, SIL OFL 1.1) covers Latin too, so the whole UI
uses one face on any machine, fonts installed or not; the eleven characters of the target it
lacks (``printing.charsets``: Extension A U+4DB6–U+4DBF, ≒) come from the small BabelStone Han
fallback, listed second in the application font's families so Qt falls back to it before any
system font. ``printing`` registers the same files with reportlab, so screens and slips match.
"""

from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QFont, QFontDatabase

FONT_FILE = "NotoSansCJKsc-subset.ttf"
FALLBACK_FILE = "BabelStoneHan-fallback.ttf"
_families: list[str] | None = None


def font_path(name: str = FONT_FILE) -> str:
    return str(resources.files("assets") / "fonts" / name)


def _register(name: str) -> str | None:
    font_id = QFontDatabase.addApplicationFont(font_path(name))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    return families[0] if families else None


def families() -> list[str]:
    """Register the bundled fonts once (needs a QGuiApplication); their family names, the
    main one first."""
    global _families
    if _families is None:
        _families = [f for f in (_register(FONT_FILE), _register(FALLBACK_FILE)) if f]
    return _families


def cjk_family() -> str:
    """The main bundled family's name (registered on first use)."""
    return (families() or ["sans-serif"])[0]


def app_font() -> QFont:
    """The application font: the bundled family, then its fallback."""
    font = QFont(cjk_family())
    font.setFamilies(families() or ["sans-serif"])
    return font
