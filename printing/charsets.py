"""The characters a customer's name may hold, which the bundled fonts must draw.

The target (issue #28) is what a Chinese bank must handle in names: every character of the
通用规范汉字表 (8,105, of which 196 lie in CJK Extensions B–E), all of CJK Extension A
(6,592), and GB 18030-2022 implementation level 2 (the whole single- and double-byte part
with the 2022 mappings, Extension A, U+9FA6–U+9FEF and the 196 above). ``scripts/
build_font.py`` subsets the shipped fonts to it and ``tests/unit/printing/test_fonts.py``
checks every character against the fonts, Qt, a PDF and a thermal raster.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from kiosk.gb18030 import gb18030_2022, is_private_use

__all__ = ["gb18030_2022", "is_private_use", "level2_target", "tongyong_guifan"]

EXTENSION_A = range(0x3400, 0x4DC0)
URO_2022_ADDITIONS = range(0x9FA6, 0x9FF0)
"""CJK Unified Ideographs GB 18030-2022 added after U+9FA5 (the 2005 end)."""


@cache
def tongyong_guifan() -> frozenset[str]:
    """The 8,105 characters of the 通用规范汉字表 (2013), shipped as a list in assets/fonts."""
    text = (resources.files("assets") / "fonts" / "tongyong-guifan-8105.txt").read_text("utf-8")
    chars = frozenset(
        line.split("\t")[1] for line in text.splitlines() if line and not line.startswith("#")
    )
    if len(chars) != 8105:  # a damaged list must not shrink the font silently
        raise ValueError(f"tongyong-guifan-8105.txt holds {len(chars)} characters, not 8105")
    return chars


@cache
def gb18030_double_byte() -> frozenset[str]:
    """Every character of GB 18030's single- and double-byte part (2022 mapping), computed
    from the codec rather than copied: lead bytes 0x81–0xFE, trail bytes 0x40–0xFE."""
    chars: set[str] = {chr(c) for c in range(0x20, 0x7F)}
    for lead in range(0x81, 0xFF):
        for trail in range(0x40, 0xFF):
            if trail == 0x7F:
                continue
            char = gb18030_2022(bytes((lead, trail)).decode("gb18030"))
            if not is_private_use(char):  # user-defined areas (AAA1–AFFE, F8A1–FEFE, A140–A7A0)
                chars.add(char)
    return frozenset(chars)


@cache
def level2_target() -> frozenset[str]:
    """The characters every name on screen, paper and in a PDF must show with a real glyph."""
    return frozenset(
        gb18030_double_byte()
        | {chr(c) for c in EXTENSION_A}
        | {chr(c) for c in URO_2022_ADDITIONS}
        | tongyong_guifan()
    )
