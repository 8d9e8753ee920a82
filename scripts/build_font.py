"""Rebuild the bundled fonts in assets/fonts from Debian's font packages (issue #28).

    .venv/bin/python scripts/build_font.py --download     # fetch the two .deb files, build
    .venv/bin/python scripts/build_font.py --noto FILE.ttc --babelstone FILE.ttf

Why these fonts: Noto Sans CJK SC (Adobe/Google, SIL OFL 1.1, Debian's fonts-noto-cjk) is a
sans face made for Simplified Chinese whose makers state GB 18030-2022 implementation level 2;
it draws every character of the 通用规范汉字表, the whole GB 18030 double-byte part and 6,582
of the 6,592 characters of CJK Extension A. The eleven of the target it lacks (U+4DB6–U+4DBF,
added to Extension A in Unicode 13, and the double-byte symbol ≒ U+2252) come from BabelStone
Han (Arphic Public License, Debian's fonts-babelstone-han) as a separate eleven-glyph
fallback font: the two licences forbid merging the glyphs into one file.

What is kept (``printing.charsets``): every character of the target, every other Han
character Noto Sans CJK SC draws (its 2,108 Extension B and 198 Extension C–F characters cost
about a megabyte and print many more names), and the Latin, Greek, Cyrillic, symbols,
punctuation and kana; Hangul, the Japanese/Korean/Traditional regional variants and the
vertical-writing tables are dropped. reportlab embeds only TrueType outlines, so the CFF
outlines are converted to quadratic curves (cu2qu, at most 1 unit of 1,000 off). Hinting is
dropped (CFF hints do not convert; screens and 203 dpi paper render well unhinted). The line
height is set to the 1.17 em the screens were laid out with (``set_line_metrics``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from printing import charsets  # noqa: E402
from printing.fonts import FALLBACK_FILE, FONT_FILE  # noqa: E402

NOTO_DEB = "fonts-noto-cjk"
NOTO_PATH = "usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
NOTO_FAMILY = "Noto Sans CJK SC"
BABELSTONE_DEB = "fonts-babelstone-han"
BABELSTONE_PATH = "usr/share/fonts/truetype/babelstone/BabelStoneHan.ttf"

HANGUL = (
    range(0x1100, 0x1200),
    range(0x3130, 0x3190),
    range(0xA960, 0xA980),
    range(0xAC00, 0xD7B0),
    range(0xD7B0, 0xD800),
    range(0xFFA0, 0xFFDD),
)


def download(folder: Path) -> tuple[Path, Path]:
    """``apt-get download`` both packages into ``folder`` and unpack them there."""
    for package in (NOTO_DEB, BABELSTONE_DEB):
        subprocess.run(["apt-get", "download", package], cwd=folder, check=True)
    for deb in folder.glob("*.deb"):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(folder / "root")], check=True)
    return folder / "root" / NOTO_PATH, folder / "root" / BABELSTONE_PATH


def to_truetype(font: TTFont) -> None:
    """Replace the CFF outlines with TrueType (quadratic) ones in place."""
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(None)
        # CFF contours run the other way round from TrueType's.
        glyphs[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    font["head"].glyphDataFormat = 0
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for field in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, field, 1 if field == "maxZones" else 0)
    maxp.maxComponentDepth = 0
    post = font["post"]
    post.formatType = 3.0  # no glyph names: smaller, and nothing reads them
    post.extraNames, post.mapping = [], {}
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    font.sfntVersion = "\x00\x01\x00\x00"


LINE_ASCENT, LINE_DESCENT = 937, 236
"""Line metrics in 1/1000 em: 1.17 em from line to line, as the WenQuanYi Micro Hei face the
screens were laid out with. Noto Sans CJK's own 1.16 + 0.29 em made every line of every
1366x768 screen 24 % taller; ideographs (0.88 / -0.12 em) and Latin descenders fit well
within the new box."""


def set_line_metrics(font: TTFont) -> None:
    hhea, os2 = font["hhea"], font["OS/2"]
    hhea.ascent, hhea.descent, hhea.lineGap = LINE_ASCENT, -LINE_DESCENT, 0
    os2.usWinAscent, os2.usWinDescent = LINE_ASCENT, LINE_DESCENT


def mark_subset(font: TTFont, note: str) -> None:
    """Say in the name table that this is a subset, and by what."""
    for record in font["name"].names:
        if record.nameID in (3, 5):
            record.string = f"{record.toUnicode()}; {note}"


def build_noto(source: Path, target: Path) -> tuple[dict[str, int], set[int]]:
    """Subset Noto Sans CJK SC to ``target``; returns its figures and the target's code
    points it has no glyph for."""
    collection = TTCollection(str(source))
    font = next(f for f in collection.fonts if f["name"].getDebugName(1) == NOTO_FAMILY)
    font.recalcTimestamp = False  # the source's date: the same input builds the same bytes
    cmap = font.getBestCmap()
    wanted = {ord(c) for c in charsets.level2_target()}
    hangul = {c for r in HANGUL for c in r}
    keep = {c for c in cmap if c not in hangul}  # the target, every other Han, the rest
    options = subset.Options()
    options.layout_features = ["kern"]  # 'locl' and 'vert' pull in JP/KR/TC and vertical forms
    options.drop_tables += ["vhea", "vmtx", "VORG", "BASE"]
    options.hinting = False
    options.glyph_names = False
    options.name_languages = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=keep)
    subsetter.subset(font)
    to_truetype(font)
    set_line_metrics(font)
    mark_subset(font, "subset for kiosk (scripts/build_font.py)")
    font.save(str(target))
    kept = TTFont(str(target)).getBestCmap()
    figures = {
        "code points": len(kept),
        "glyphs": len(font.getGlyphOrder()),
        "Extension A": sum(1 for c in charsets.EXTENSION_A if c in kept),
        "Extension B-F": sum(1 for c in kept if c >= 0x20000),
        "target": len(wanted),
        "target in Noto": len(wanted & set(kept)),
    }
    return figures, wanted - set(kept)


def build_fallback(source: Path, target: Path, unicodes: set[int]) -> set[int]:
    """Subset BabelStone Han to ``unicodes``; returns the ones it draws."""
    font = TTFont(str(source), recalcTimestamp=False)
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.glyph_names = False
    options.name_languages = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(unicodes))
    subsetter.subset(font)
    mark_subset(font, "fallback subset for kiosk (scripts/build_font.py)")
    font.save(str(target))
    return set(TTFont(str(target)).getBestCmap())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--noto", type=Path, help=f"NotoSansCJK-Regular.ttc ({NOTO_DEB})")
    parser.add_argument("--babelstone", type=Path, help=f"BabelStoneHan.ttf ({BABELSTONE_DEB})")
    parser.add_argument("--download", action="store_true", help="apt-get download both")
    parser.add_argument("--out", type=Path, default=ROOT / "assets" / "fonts")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temp:
        noto, babelstone = args.noto, args.babelstone
        if args.download:
            noto, babelstone = download(Path(temp))
        noto = noto or Path("/") / NOTO_PATH
        babelstone = babelstone or Path("/") / BABELSTONE_PATH
        for path, package in ((noto, NOTO_DEB), (babelstone, BABELSTONE_DEB)):
            if not path.exists():
                hint = f"apt-get install {package}, or --download"
                print(f"{path} is missing: {hint}", file=sys.stderr)
                return 1
        figures, lacking = build_noto(noto, args.out / FONT_FILE)
        fallback = build_fallback(babelstone, args.out / FALLBACK_FILE, lacking)
    missing = lacking - fallback
    for name, value in figures.items():
        print(f"{name:>16}: {value:,}")
    listed = " ".join(f"U+{c:04X}" for c in sorted(fallback))
    print(f"{'fallback':>16}: {len(fallback)} code points ({listed})")
    for name in (FONT_FILE, FALLBACK_FILE):
        print(f"{name:>16}: {(args.out / name).stat().st_size:,} bytes")
    if missing:
        listed = " ".join(f"U+{c:04X}" for c in sorted(missing))
        print(f"no glyph for {len(missing)} characters of the target: {listed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
