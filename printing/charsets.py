"""The characters a customer's name may hold, which the bundled fonts must draw.

The target (issue #28) is what a Chinese bank must handle in names: every character of the
通用规范汉字表 (8,105, of which 196 lie in CJK Extensions B–E), all of CJK Extension A
(6,592), and GB 18030-2022 implementation level 2 (the whole single- and double-byte part
with the 2022 mappings, Extension A, U+9FA6–U+9FEF and the 196 above). ``scripts/
build_font.py`` subsets the shipped fonts to it and ``tests/unit/test_fonts.py`` checks every
character against the fonts, Qt, a PDF and a thermal raster.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

EXTENSION_A = range(0x3400, 0x4DC0)
URO_2022_ADDITIONS = range(0x9FA6, 0x9FF0)
"""CJK Unified Ideographs GB 18030-2022 added after U+9FA5 (the 2005 end)."""

GB18030_2022_REMAPPED = {
    # Two-byte codes that GB 18030-2005 (and Python's ``gb18030`` codec) maps to private-use
    # code points, which GB 18030-2022 maps to standard characters. The first six are
    # characters of CJK Extension B (2005 already listed them as such in a note); the rest
    # were added to Unicode later (vertical forms, U+9FB4–U+9FBB).
    0xE816: 0x20087,  # FE51 𠂇
    0xE817: 0x20089,  # FE52 𠂉
    0xE818: 0x200CC,  # FE53 𠃌
    0xE831: 0x215D7,  # FE6C 𡗗
    0xE83B: 0x2298F,  # FE76 𢦏
    0xE855: 0x241FE,  # FE91 𤇾
    0xE81E: 0x9FB4,  # FE59
    0xE826: 0x9FB5,  # FE61
    0xE82B: 0x9FB6,  # FE66
    0xE82C: 0x9FB7,  # FE67
    0xE832: 0x9FB8,  # FE6D
    0xE843: 0x9FB9,  # FE7E
    0xE854: 0x9FBA,  # FE90
    0xE864: 0x9FBB,  # FEA0
    0xE78D: 0xFE10,  # A6D9 vertical forms
    0xE78E: 0xFE12,  # A6DA
    0xE78F: 0xFE11,  # A6DB
    0xE790: 0xFE13,  # A6DC
    0xE791: 0xFE14,  # A6DD
    0xE792: 0xFE15,  # A6DE
    0xE793: 0xFE16,  # A6DF
    0xE794: 0xFE17,  # A6EC
    0xE795: 0xFE18,  # A6ED
    0xE796: 0xFE19,  # A6F3
}
"""Private-use code point (2005 mapping) -> its GB 18030-2022 character."""

_REMAP_TABLE = {pua: chr(cp) for pua, cp in GB18030_2022_REMAPPED.items()}


def gb18030_2022(text: str) -> str:
    """``text`` decoded with the 2005 mapping, with the 2022 characters in place of the
    private-use code points GB 18030-2022 gave a standard character."""
    return text.translate(_REMAP_TABLE)


def is_private_use(char: str) -> bool:
    """True for a private-use code point: no font of ours draws it and no other system
    agrees what it means."""
    code = ord(char)
    return 0xE000 <= code <= 0xF8FF or 0xF0000 <= code <= 0x10FFFD


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
