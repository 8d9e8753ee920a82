"""GB 18030 as the 2022 edition reads it, and the characters no document can show.

Python's ``gb18030`` codec follows GB 18030-2005, which maps 24 two-byte codes to
private-use code points; GB 18030-2022 maps them to standard characters (six of them are
CJK Extension B characters found in names, e.g. FE51 𠂇). A name decoded the 2005 way holds
a code point no font draws and no other system agrees on, so files read as GB 18030 are
mapped the 2022 way (``kiosk.imports.reading``), and any private-use or unassigned character
left in a text is reported with its row, column and code point (``kiosk.imports.check``).
"""

from __future__ import annotations

import re
import unicodedata

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


def _plain_ideographs_end() -> int:
    """Where the run of code points from U+4E00 (the common CJK ideographs) ends that are, in
    this Python's Unicode data, assigned letters that NFKC leaves alone and that are no
    digits: text made of them and printable ASCII needs no cleaning and shows everywhere."""
    end = 0x4E00
    while (
        unicodedata.category(chr(end)) == "Lo"
        and unicodedata.normalize("NFKC", chr(end)) == chr(end)
        and unicodedata.decimal(chr(end), None) is None
    ):
        end += 1
    return end


PLAIN_IDEOGRAPHS_END = _plain_ideographs_end()
# A character that is neither printable ASCII nor a plain ideograph: where none is found, a
# cell (a Chinese name, an address) needs no character-by-character look, which an import of
# 200,000 rows would otherwise do for millions of cells.
NOT_PLAIN = re.compile("[^\\x20-\\x7e\\u4e00-" + chr(PLAIN_IDEOGRAPHS_END - 1) + "]")
_NOT_SHOWN = re.compile("[^\\x00-\\x7f\\u4e00-" + chr(PLAIN_IDEOGRAPHS_END - 1) + "]")


def undisplayable(text: str) -> list[str]:
    """The characters of ``text`` no document can show: private-use, unassigned or lone
    surrogates, each once, in order."""
    if text.isascii() or _NOT_SHOWN.search(text) is None:
        return []  # ASCII and the common ideographs are assigned (an import checks millions)
    found: dict[str, None] = {}
    for char in text:
        if is_private_use(char) or unicodedata.category(char) in ("Cn", "Cs"):
            found.setdefault(char, None)
    return list(found)
