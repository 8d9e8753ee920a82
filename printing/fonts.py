"""The bundled fonts for reportlab: the same faces as on screen, embedded in every PDF.

``NotoSansCJKsc-subset.ttf`` (Noto Sans CJK SC, subset and converted to TrueType outlines by
``scripts/build_font.py``) draws every character of the target in ``printing.charsets``
but eleven; ``BabelStoneHan-fallback.ttf`` draws those (CJK Extension A U+4DB6–U+4DBF, added
in Unicode 13, and the symbol ≒). Text
is drawn through ``printing.text``, which sets each run of characters in the font that has
them, so the PDF text layer and the paper keep every character of a name.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import cache
from importlib import resources
from typing import Any, ClassVar

from reportlab.pdfbase import pdfdoc, pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont

FONT_FILE = "NotoSansCJKsc-subset.ttf"
FALLBACK_FILE = "BabelStoneHan-fallback.ttf"
FONT = "NotoSansCJKsc"
FALLBACK = "BabelStoneHan"


def font_path(name: str = FONT_FILE) -> str:
    return str(resources.files("assets") / "fonts" / name)


_reportlab_to_unicode = ttfonts.makeToUnicodeCMap


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap with every code point written as UTF-16BE.

    reportlab writes ``<%04X>``, so a character beyond U+FFFF (CJK Extension B–F: 𫖯, 𬌗)
    comes out as five hex digits, which PDF readers cut to a wrong BMP character: the paper
    showed the name and the text layer (search, copy, the tests' extractor) lost it.
    """
    cmap = _reportlab_to_unicode(fontname, subset)
    for code in subset:
        if code > 0xFFFF:
            utf16 = chr(code).encode("utf-16-be").hex().upper()
            cmap = cmap.replace(f"> <{code:04X}>\n", f"> <{utf16}>\n", 1)
    return cmap


_reportlab_make_subset = ttfonts.TTFontFile.makeSubset
_reportlab_add_subset_objects = ttfonts.TTFontFace.addSubsetObjects
SUBSETS_KEPT = 64  # per font; a subset of the slip's characters is some 30 kB


def _make_subset(face: ttfonts.TTFontFile, subset: list[int]) -> bytes:
    """reportlab's subset of the font for ``subset`` (the code points of one PDF's subset, in
    its order), made once and kept: every slip uses the same few dozen characters, and
    cutting the CJK font down again for each took a sixth of the slip's PDF (issue #23).
    The bytes depend only on the font file and the list, so a kept one is the same PDF."""
    kept: OrderedDict[tuple[int, ...], bytes] = face.__dict__.setdefault(
        "_kiosk_subsets", OrderedDict()
    )
    key = tuple(subset)
    data = kept.get(key)
    if data is None:
        data = _reportlab_make_subset(face, subset)
        kept[key] = data
        if len(kept) > SUBSETS_KEPT:
            _KeptFlate.forget(kept.popitem(last=False)[1])
    else:
        kept.move_to_end(key)
    return data


class _KeptFlate(pdfdoc.PDFStreamFilterZCompress):
    """reportlab's Flate filter for the embedded font subsets: a subset kept by
    ``_make_subset`` is compressed once, not again for every PDF that embeds it (a slip's
    subset is some 24 kB, and compressing it was a tenth of the slip's PDF, issue #23 item 5).
    Deflate gives the same bytes for the same input, so the PDF is the same as before."""

    _packed: ClassVar[dict[bytes, bytes]] = {}  # a kept subset's bytes -> compressed

    def encode(self, text: Any) -> bytes:
        if not isinstance(text, bytes):
            return super().encode(text)  # type: ignore[no-any-return]
        packed = self._packed.get(text)  # the kept object itself: its hash is cached
        if packed is None:
            packed = self._packed[text] = super().encode(text)
        return packed

    @classmethod
    def forget(cls, data: bytes) -> None:
        """A subset no longer kept is no longer compressed in advance either."""
        cls._packed.pop(data, None)


_KEPT_FLATE = _KeptFlate()


def _add_subset_objects(
    face: ttfonts.TTFontFace, doc: pdfdoc.PDFDocument, fontname: str, subset: list[int]
) -> Any:
    """reportlab's font descriptor and font file for one subset, the file compressed by
    ``_KeptFlate``. reportlab names the font file stream ``fontFile:<file>(<font>)``; should
    a later version name it otherwise, the stream is compressed as before, only slower."""
    reference = _reportlab_add_subset_objects(face, doc, fontname, subset)
    stream = doc.idToObject.get(f"fontFile:{face.filename}({fontname})")
    if isinstance(stream, pdfdoc.PDFStream) and stream.filters == [pdfdoc.PDFZCompress]:
        stream.filters = [_KEPT_FLATE]
    return reference


@cache
def register_fonts() -> str:
    """Register both fonts once and return the main one's reportlab name."""
    ttfonts.makeToUnicodeCMap = _to_unicode_cmap
    ttfonts.TTFontFile.makeSubset = _make_subset  # type: ignore[method-assign]
    ttfonts.TTFontFace.addSubsetObjects = _add_subset_objects  # type: ignore[method-assign]
    pdfmetrics.registerFont(TTFont(FONT, font_path(FONT_FILE)))
    pdfmetrics.registerFont(TTFont(FALLBACK, font_path(FALLBACK_FILE)))
    return FONT


@cache
def _fallback_chars() -> frozenset[int]:
    register_fonts()
    return frozenset(pdfmetrics.getFont(FALLBACK).face.charToGlyph) - frozenset(
        pdfmetrics.getFont(FONT).face.charToGlyph
    )


def font_for(char: str, font: str = FONT) -> str:
    """The font that draws ``char``: ``font`` unless only the fallback has it."""
    return FALLBACK if ord(char) in _fallback_chars() else font
