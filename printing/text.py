"""Text on paper that never loses a character: measuring, drawing, wrapping and fitting.

Every document draws its text through here (issue #28):

* each run of characters is set in the bundled font that draws it (``printing.fonts``), so a
  rare character of a name is on the paper and in the PDF text layer;
* ``fit`` puts a text into a box: on one line at the wanted size, else wrapped onto up to
  ``max_lines`` lines, else smaller, down to ``MIN_SIZE`` (8 pt, the smallest type a customer
  reads on a slip); only when even that cannot hold it does the last line end with "…";
* ``wrap`` breaks Chinese between characters but never inside a Latin word or a number,
  never before closing punctuation (，。、）…) and never after opening punctuation (（《“).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from printing.fonts import font_for

MIN_SIZE = 8.0
ELLIPSIS = "…"

# Closing punctuation may not start a line; opening punctuation may not end one.
NO_LINE_START = frozenset("，。、；：？！）》」』】〕〉”’…—·,.;:?!)]}%、‰℃")
NO_LINE_END = frozenset("（《「『【〔〈“‘([{")
# A token that is never broken: a Latin word or number with what clings to it, or one other
# character (Han, kana, punctuation), or a run of spaces.
_TOKEN = re.compile(r"[A-Za-z0-9\u00C0-\u024F@#&_'\-+./:]+|\s+|.", re.DOTALL)


def join_sentences(parts: list[str]) -> str:
    """Sentences run together as their language writes them: Chinese without a space
    between them (a space there is a stray gap on paper and on a phone), English with one."""
    out = ""
    for part in parts:
        if out and part and out[-1].isascii() and part[0].isascii():
            out += " "
        out += part
    return out


def runs(text: str, font: str) -> list[tuple[str, str]]:
    """``text`` cut into (font, chunk) runs, each in the font that draws it."""
    out: list[tuple[str, str]] = []
    for char in text:
        face = font_for(char, font)
        if out and out[-1][0] == face:
            out[-1] = (face, out[-1][1] + char)
        else:
            out.append((face, char))
    return out


def width(text: str, font: str, size: float) -> float:
    """The width of ``text`` in points, each run measured in its own font."""
    return sum(stringWidth(chunk, face, size) for face, chunk in runs(text, font))


def draw(
    canvas: Canvas, x: float, y: float, text: str, font: str, size: float, align: str = "left"
) -> None:
    """Draw one line with its baseline at ``y``: left from ``x``, centred on it, or ending at
    it (``align`` "left", "centre", "right"); leaves the canvas in ``font`` at ``size``."""
    if align != "left":
        total = width(text, font, size)
        x -= total / 2 if align == "centre" else total
    for face, chunk in runs(text, font):
        canvas.setFont(face, size)
        canvas.drawString(x, y, chunk)
        x += stringWidth(chunk, face, size)
    canvas.setFont(font, size)


def _tokens(text: str, font: str, size: float, room: float) -> list[str]:
    """The unbreakable pieces of ``text``; a piece wider than ``room`` (a long Latin word, a
    URL) is cut into characters so that nothing runs past the edge."""
    out: list[str] = []
    for token in _TOKEN.findall(text):
        if len(token) > 1 and not token.isspace() and width(token, font, size) > room:
            out.extend(token)
        else:
            out.append(token)
    return out


def wrap(text: str, font: str, size: float, room: float) -> list[str]:
    """Break ``text`` into lines no wider than ``room`` points (CJK line-breaking rules; an
    explicit newline starts a new line)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph, font, size, room))
    return lines or [""]


def _wrap_paragraph(text: str, font: str, size: float, room: float) -> list[str]:
    if width(text, font, size) <= room:
        return [text]
    lines: list[str] = []
    line: list[str] = []  # the tokens of the line being filled
    for token in _tokens(text, font, size, room):
        if not line and token.isspace():
            continue
        candidate = "".join(line) + token
        if not line or token.isspace() or width(candidate.rstrip(), font, size) <= room:
            line.append(token)
            continue
        # The token does not fit: break before it, moving along what may not be parted from
        # it (the word before closing punctuation, opening punctuation before it).
        carry = [token]
        if token[0] in NO_LINE_START and len(line) > 1:
            carry.insert(0, line.pop())
        while len(line) > 1 and line[-1][-1] in NO_LINE_END:
            carry.insert(0, line.pop())
        lines.append("".join(line).rstrip())
        line = carry
    if "".join(line).strip():
        lines.append("".join(line).rstrip())
    return lines


def ellipsize(text: str, font: str, size: float, room: float) -> str:
    """``text`` cut to ``room`` points, ending with "…" when anything was cut."""
    if width(text, font, size) <= room:
        return text
    cut = text.rstrip()
    while cut and width(cut + ELLIPSIS, font, size) > room:
        cut = cut[:-1]
    return cut.rstrip() + ELLIPSIS


@dataclass(frozen=True)
class Fitted:
    """A text fitted to a box: its type size and lines (the last may end with "…")."""

    size: float
    lines: list[str]

    @property
    def cut(self) -> bool:
        return bool(self.lines) and self.lines[-1].endswith(ELLIPSIS)


def fit(
    text: str,
    font: str,
    size: float,
    room: float,
    max_lines: int = 1,
    min_size: float = MIN_SIZE,
) -> Fitted:
    """``text`` in a box ``room`` points wide and ``max_lines`` lines high: wrapped at
    ``size``, else at a smaller size (half-point steps, never below ``min_size``), else at
    ``min_size`` with the last line ending in "…"."""
    current = size
    while True:
        lines = wrap(text, font, current, room)
        if len(lines) <= max_lines:
            return Fitted(current, lines)
        if current <= min_size:
            break
        current = max(min_size, current - 0.5)
    kept = lines[: max_lines - 1]
    rest = _after(text.replace("\n", " "), sum(len("".join(x.split())) for x in kept))
    return Fitted(current, [*kept, ellipsize(rest, font, current, room)])


def _after(text: str, visible: int) -> str:
    """``text`` after its first ``visible`` non-space characters (what the kept lines hold:
    wrapping drops only the spaces where it breaks)."""
    seen = 0
    for index, char in enumerate(text):
        if seen == visible:
            return text[index:].lstrip()
        if not char.isspace():
            seen += 1
    return ""


def draw_fitted(
    canvas: Canvas,
    x: float,
    y: float,
    fitted: Fitted,
    font: str,
    leading: float = 1.25,
    align: str = "left",
) -> float:
    """Draw ``fitted`` with its first baseline at ``y``; returns the baseline below the last
    line (``y`` minus the lines' height)."""
    for line in fitted.lines:
        draw(canvas, x, y, line, font, fitted.size, align)
        y -= fitted.size * leading
    return y
