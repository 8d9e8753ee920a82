"""Draw the large-print signs: a spin box's steps, ``assets/icons/minus.png`` and ``plus.png``,
and a drop-down's opener, ``down.png``.

Run once when the signs change (``python scripts/make_icons.py``); the PNGs are committed.
PNG, not SVG: the frozen builds then need no SVG image plugin (as for the header's tick).
Each is drawn at 36 px and at 72 px (``@2x``) for a screen scaled ×2, in the theme's ink.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QLineF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPen

ROOT = Path(__file__).resolve().parent.parent
SIZE = 36
INK = "#1b1f24"  # ui.theme.INK


def draw(sign: str, scale: int) -> QImage:
    """A bold sign centred in a transparent square: a thick stroke reads from a distance."""
    side = SIZE * scale
    image = QImage(side, side, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(INK), 5 * scale, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    margin = 7 * scale
    middle = side / 2
    if sign == "down":  # a chevron, as Qt's own arrow but bold
        painter.drawLine(QLineF(margin, side * 0.36, middle, side * 0.64))
        painter.drawLine(QLineF(middle, side * 0.64, side - margin, side * 0.36))
    else:
        painter.drawLine(QLineF(margin, middle, side - margin, middle))
    if sign == "plus":
        painter.drawLine(QLineF(middle, margin, middle, side - margin))
    painter.end()
    return image


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    folder = ROOT / "assets" / "icons"
    for name in ("minus", "plus", "down"):
        for scale, suffix in ((1, ""), (2, "@2x")):
            path = folder / f"{name}{suffix}.png"
            if not draw(name, scale).save(str(path)):
                print(f"could not write {path}", file=sys.stderr)
                return 1
            print(path.relative_to(ROOT))
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
