"""Every character of a name, everywhere (issue #28): the glyph test over the target set.

The target (``printing.charsets.level2_target``: GB 18030-2022 level 2, all of CJK Extension
A, the 通用规范汉字表) must have a real glyph in the shipped fonts (their cmaps, read with
fontTools), Qt must find a bundled family for it, and a PDF and a 203 dpi thermal raster of a
sample must keep it (the text layer read back, ink where each glyph is).
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

import pdfplumber
import pytest
from fontTools.ttLib import TTFont
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from printing import charsets, escpos, text
from printing.fonts import FALLBACK, FALLBACK_FILE, FONT_FILE, font_for, font_path, register_fonts

RARE_NAMES = ["䶮小龙", "欧阳䶮", "赵孟𫖯", "𬌗", "𠂇", "㐀", "䶵", "䶶", "䶿", "龘", "鿯"]


@cache
def _cmaps() -> tuple[dict[int, str], dict[int, str]]:
    return TTFont(font_path(FONT_FILE)).getBestCmap(), TTFont(
        font_path(FALLBACK_FILE)
    ).getBestCmap()


def _sample() -> list[str]:
    """Every 60th character of the target, all beyond the BMP, and the fallback's."""
    target = sorted(charsets.level2_target())
    chosen = set(target[::60]) | {c for c in target if ord(c) > 0xFFFF}
    chosen |= {chr(c) for c in _cmaps()[1]}
    return sorted(c for c in chosen if not c.isspace())


def test_the_target_is_what_the_issue_names() -> None:
    target = charsets.level2_target()
    assert len(charsets.tongyong_guifan()) == 8105
    assert sum(1 for c in charsets.tongyong_guifan() if ord(c) > 0xFFFF) == 196
    assert {chr(c) for c in charsets.EXTENSION_A} <= target  # all 6,592
    assert {chr(c) for c in charsets.URO_2022_ADDITIONS} <= target
    assert "\U00020087" in target and "\u9fb4" in target  # FE51 and FE59 in the 2022 mapping
    assert not any(charsets.is_private_use(c) for c in target)
    assert len(target) == 28793


def test_every_target_character_has_a_real_glyph() -> None:
    main, fallback = _cmaps()
    glyf = TTFont(font_path(FONT_FILE))["glyf"]
    fallback_glyf = TTFont(font_path(FALLBACK_FILE))["glyf"]
    missing, empty = [], []
    for char in charsets.level2_target():
        code = ord(char)
        name, table = (main[code], glyf) if code in main else (fallback.get(code), fallback_glyf)
        if name is None:
            missing.append(f"U+{code:04X}")
        elif not char.isspace() and table[name].numberOfContours == 0:
            empty.append(f"U+{code:04X}")
    assert missing == []
    assert empty == []
    # The fallback is only for what the main font lacks.
    assert set(fallback) == {0x2252, *range(0x4DB6, 0x4DC0)}
    assert not set(fallback) & set(main)


def test_the_main_font_is_truetype_for_reportlab() -> None:
    font = TTFont(font_path(FONT_FILE))
    assert "glyf" in font and "CFF " not in font
    assert font["name"].getDebugName(1) == "Noto Sans CJK SC"
    assert Path(font_path(FONT_FILE)).stat().st_size < 12_000_000  # a subset, not the 16 MB face


def test_each_character_is_drawn_in_the_font_that_has_it() -> None:
    register_fonts()
    assert font_for("䶶") == FALLBACK
    assert [face for face, _chunk in text.runs("欧阳䶶A𫖯", "NotoSansCJKsc")] == [
        "NotoSansCJKsc",
        FALLBACK,
        "NotoSansCJKsc",
    ]


def _sample_pdf(path: Path, chars: list[str], per_line: int = 12) -> list[tuple[str, float, float]]:
    """The characters on an 80 mm roll page, 12 a line at 14 pt; returns (char, x, baseline)."""
    font = register_fonts()
    size, step = 14, 5.5 * mm
    lines = [chars[i : i + per_line] for i in range(0, len(chars), per_line)]
    height = (len(lines) + 2) * step
    canvas = Canvas(str(path), pagesize=(80 * mm, height))
    placed = []
    for row, line in enumerate(lines):
        y = height - (row + 1.5) * step
        for column, char in enumerate(line):
            x = 6 * mm + column * step
            text.draw(canvas, x, y, char, font, size)
            placed.append((char, x, y))
    canvas.save()
    return placed


def test_a_pdf_keeps_every_sampled_character_in_its_text_layer(tmp_path: Path) -> None:
    chars = _sample()
    assert len(chars) > 600
    pdf = tmp_path / "sample.pdf"
    _sample_pdf(pdf, chars)
    with pdfplumber.open(pdf) as document:
        read = [c["text"] for page in document.pages for c in page.chars]
    assert read == chars
    extracted = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for char in chars:
        assert char in extracted, f"U+{ord(char):04X}"


def test_names_with_rare_characters_keep_every_character_in_a_pdf(tmp_path: Path) -> None:
    pdf = tmp_path / "names.pdf"
    font = register_fonts()
    canvas = Canvas(str(pdf), pagesize=(80 * mm, 100 * mm))
    for index, name in enumerate(RARE_NAMES):
        text.draw(canvas, 5 * mm, 90 * mm - index * 7 * mm, f"客户：{name}", font, 12)
    canvas.save()
    with pdfplumber.open(pdf) as document:
        lines = document.pages[0].extract_text().splitlines()
    assert lines == [f"客户：{name}" for name in RARE_NAMES]


@pytest.mark.parametrize("dpi", [escpos.DPI])
def test_a_thermal_raster_has_ink_where_each_glyph_is(tmp_path: Path, dpi: int) -> None:
    chars = _sample()
    pdf = tmp_path / "raster.pdf"
    placed = _sample_pdf(pdf, chars)
    (page,) = escpos.rasterise(pdf)
    width, height = page.size
    points = 80 * mm
    scale = width / points
    blank = []
    for char, x, y in placed:
        # The glyph's em box: from the baseline up 14 pt, 14 pt wide (in dots, y downwards).
        left, right = int(x * scale), int((x + 14) * scale)
        top, bottom = int(height - (y + 12) * scale), int(height - (y - 2) * scale)
        box = page.crop((left, top, right, bottom))
        if box.getextrema()[0] != 0:  # "1" mode: 0 is ink
            blank.append(f"U+{ord(char):04X}")
    assert blank == []


@pytest.mark.ui
def test_qt_draws_every_target_character_with_a_bundled_family(qtbot: object) -> None:
    from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QRawFont

    from ui.fonts import app_font, families

    main_family, fallback_family = families()
    assert main_family == "Noto Sans CJK SC"
    main, fallback = QRawFont(font_path(FONT_FILE), 20), QRawFont(font_path(FALLBACK_FILE), 20)
    assert main.isValid() and fallback.isValid()
    lacking = [
        f"U+{ord(c):04X}"
        for c in charsets.level2_target()
        if not (main.supportsCharacter(ord(c)) or fallback.supportsCharacter(ord(c)))
    ]
    assert lacking == []
    assert fallback_family in app_font().families()

    def ink(string: str) -> QImage:
        image = QImage(120, 60, QImage.Format.Format_Grayscale8)
        image.fill(QColor("white"))
        painter = QPainter(image)
        font = app_font()
        font.setPixelSize(40)
        painter.setFont(font)
        painter.setPen(QColor("black"))
        painter.drawText(10, 45, string)
        painter.end()
        return image

    box = ink("\ue000")  # a private-use code point: no font has it, Qt draws a box or nothing
    metrics = QFontMetrics(app_font())
    for name in RARE_NAMES:
        for char in name:
            assert metrics.inFontUcs4(ord(char)), f"U+{ord(char):04X}"
            image = ink(char)
            assert image != box, f"U+{ord(char):04X} is drawn as a missing glyph"
            assert image != ink(" "), f"U+{ord(char):04X} is drawn blank"


def test_a_kept_subset_is_the_one_reportlab_makes(tmp_path: Path) -> None:
    """Slips reuse the font subset of their characters (issue #23): what is kept is byte for
    byte what reportlab makes, and a second PDF with the same characters, rare ones included,
    keeps every character."""
    from reportlab.pdfbase import pdfmetrics

    from printing import fonts

    font = register_fonts()
    face = pdfmetrics.getFont(font).face
    subset = [ord(c) for c in "客户王**积分兑换券0123456789"]
    kept = face.makeSubset(subset)
    assert kept == fonts._reportlab_make_subset(face, subset)
    assert face.makeSubset(list(subset)) is kept  # made once
    for copy in range(2):
        pdf = tmp_path / f"names-{copy}.pdf"
        canvas = Canvas(str(pdf), pagesize=(80 * mm, 100 * mm))
        for index, name in enumerate(RARE_NAMES):
            text.draw(canvas, 5 * mm, 90 * mm - index * 7 * mm, f"客户：{name}", font, 12)
        canvas.save()
        with pdfplumber.open(pdf) as document:
            lines = document.pages[0].extract_text().splitlines()
        assert lines == [f"客户：{name}" for name in RARE_NAMES]


# Characters in the sources that are never drawn: other scripts' digits the spreadsheet
# reader understands (kiosk/imports/cells.py), not text on a screen or on paper.
_NOT_DRAWN = {"kiosk/imports/cells.py"}


def test_every_sign_and_word_the_app_shows_has_a_glyph_in_the_bundled_fonts() -> None:
    """A sign in the code (✓, ⚠, ×, ◀…) or a character of a translation missing from the
    bundled fonts is drawn from whatever the laptop has, or as a box where it has none: the
    booth's ✗ and the dashboard's ⛔ were such. Every non-ASCII character in the sources of
    what is shown (ui, kiosk, printing) and in the translations must be in the fonts."""
    main, fallback = _cmaps()
    root = Path(__file__).resolve().parents[3]
    files = [
        *(root / "ui").rglob("*.py"),
        *(root / "kiosk").rglob("*.py"),
        *(root / "printing").rglob("*.py"),
        *(root / "assets" / "translations").glob("*.json"),
    ]
    missing: dict[str, set[str]] = {}
    for path in files:
        where = path.relative_to(root).as_posix()
        if where in _NOT_DRAWN:
            continue
        for char in set(path.read_text(encoding="utf-8")):
            if ord(char) > 127 and ord(char) not in main and ord(char) not in fallback:
                missing.setdefault(f"{char} U+{ord(char):04X}", set()).add(where)
    assert missing == {}
