"""A streaming .xlsx reader that gives, cell for cell, what openpyxl's read-only mode gives.

Why not openpyxl: its read-only iteration is the floor of every import (3,600-4,000 rows/s on
the event machine, before the app does anything) and it keeps the shared-strings table as
Python strings (442 MiB for the 414,000-row file). This reader parses the sheet with expat
straight from the zip stream, a chunk at a time, and keeps the shared strings as one UTF-8
buffer with offsets (a string is decoded when a cell asks for it).

What it gives is openpyxl's ``load_workbook(path, read_only=True, data_only=True)`` followed
by ``worksheet.iter_rows(values_only=True)``, quirks included, so that an import reads exactly
what it read before: numbers are ``int`` unless their text has ``.`` or an exponent; a number
whose cell style has a date format (openpyxl's ``is_date_format``: built-in formats 14-22 and
45-47, custom formats with date codes) is a ``datetime``/``time`` (``timedelta`` for ``[h]``
formats), in the 1900 or 1904 system; booleans are ``bool``; errors (``#N/A``) and ``t="str"``
formula results are their text; shared strings join their plain and rich-text runs, ignore
phonetic runs and drop ``x005F_`` as openpyxl does; a row is as wide as the sheet's
``<dimension>`` says (or as its last cell when there is none), missing rows inside the
dimension come as empty rows, and rows past it are not read.
"""

from __future__ import annotations

import datetime
import posixpath
import re
import warnings
import zipfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree
from xml.parsers import expat

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
WORKBOOK_TYPES = (
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
)
SHARED_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
CHUNK = 1 << 16

# openpyxl.styles.numbers: the built-in formats that can be dates, and its date test.
BUILTIN_FORMATS = {
    0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00",
    5: '"$"#,##0_);("$"#,##0)', 6: '"$"#,##0_);[Red]("$"#,##0)',
    7: '"$"#,##0.00_);("$"#,##0.00)', 8: '"$"#,##0.00_);[Red]("$"#,##0.00)',
    9: "0%", 10: "0.00%", 11: "0.00E+00", 12: "# ?/?", 13: "# ??/??",
    14: "mm-dd-yy", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss", 22: "m/d/yy h:mm",
    37: "#,##0_);(#,##0)", 38: "#,##0_);[Red](#,##0)", 39: "#,##0.00_);(#,##0.00)",
    40: "#,##0.00_);[Red](#,##0.00)",
    41: r'_(* #,##0_);_(* \(#,##0\);_(* "-"_);_(@_)',
    42: r'_("$"* #,##0_);_("$"* \(#,##0\);_("$"* "-"_);_(@_)',
    43: r'_(* #,##0.00_);_(* \(#,##0.00\);_(* "-"??_);_(@_)',
    44: r'_("$"* #,##0.00_)_("$"* \(#,##0.00\)_("$"* "-"??_)_(@_)',
    45: "mm:ss", 46: "[h]:mm:ss", 47: "mmss.0", 48: "##0.0E+0", 49: "@",
}  # fmt: skip
STRIP_RE = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')
DATE_RE = re.compile(r"(?<![_\\])[dmhysDMHYS]")
TIMEDELTA_RE = re.compile(r"\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?", re.I)
RANGE_RE = re.compile(
    r"^[$]?(?P<min_col>[A-Za-z]{1,3})?[$]?(?P<min_row>\d+)?"
    r"(:[$]?(?P<max_col>[A-Za-z]{1,3})?[$]?(?P<max_row>\d+)?)?$"
)
ISO_RE = re.compile(
    r"(?P<date>(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2}))?T?"
    r"(?P<time>(?P<hour>\d{2}):(?P<minute>\d{2})(:(?P<second>\d{2})"
    r"(?P<microsecond>\.\d{1,3})?)?)?Z?"
)
ISO_DURATION = re.compile(
    r"PT((?P<hours>\d+)H)?((?P<minutes>\d+)M)?((?P<seconds>\d+(\.\d{1,3})?)S)?"
)
WINDOWS_EPOCH = datetime.datetime(1899, 12, 30)
MAC_EPOCH = datetime.datetime(1904, 1, 1)


def is_date_format(fmt: str | None) -> bool:
    """openpyxl's test: a date code outside quotes and locale brackets, in the first part."""
    if fmt is None:
        return False
    return DATE_RE.search(STRIP_RE.sub("", fmt.split(";")[0])) is not None


def is_timedelta_format(fmt: str | None) -> bool:
    if fmt is None:
        return False
    return TIMEDELTA_RE.search(fmt.split(";")[0]) is not None


def column_index(letters: str) -> int:
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index


def range_boundaries(ref: str) -> tuple[int | None, int | None, int | None, int | None]:
    """openpyxl.utils.cell.range_boundaries: (min_col, min_row, max_col, max_row)."""
    match = RANGE_RE.match(ref)
    if not match:
        raise ValueError(f"{ref} is not a valid coordinate or range")
    min_col, min_row, max_col, max_row = match.group("min_col", "min_row", "max_col", "max_row")
    if match.group(3):
        cols, rows = (min_col, max_col), (min_row, max_row)
        if not (all(cols + rows) or (all(cols) and not any(rows)) or (all(rows) and not any(cols))):
            raise ValueError(f"{ref} is not a valid coordinate or range")
    c1 = column_index(min_col) if min_col is not None else None
    r1 = int(min_row) if min_row is not None else None
    c2 = column_index(max_col) if max_col is not None else c1
    r2 = int(max_row) if max_row is not None else r1
    return c1, r1, c2, r2


def from_excel(value: float, epoch: datetime.datetime, timedelta: bool = False) -> Any:
    """openpyxl.utils.datetime.from_excel."""
    if timedelta:
        span = datetime.timedelta(days=value)
        if span.microseconds:
            span = datetime.timedelta(
                seconds=span.total_seconds() // 1, microseconds=round(span.microseconds, -3)
            )
        return span
    day, fraction = divmod(value, 1)
    diff = datetime.timedelta(milliseconds=round(fraction * 86400 * 1000))
    if 0 <= value < 1 and diff.days == 0:
        minutes, seconds = divmod(diff.seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return datetime.time(hours, minutes, seconds, diff.microseconds)
    if 0 < value < 60 and epoch == WINDOWS_EPOCH:
        day += 1
    return epoch + datetime.timedelta(days=day) + diff


def from_iso8601(text: str) -> Any:
    """openpyxl.utils.datetime.from_ISO8601 (cells with ``t="d"``)."""
    if not text:
        return None
    match = ISO_RE.match(text)
    if match and any(match.groups()):
        parts: dict[str, Any] = match.groupdict(0)
        for key in ("year", "month", "day", "hour", "minute", "second"):
            if parts[key]:
                parts[key] = int(parts[key])
        if parts["microsecond"]:
            parts["microsecond"] = int(float(parts["microsecond"]) * 1_000_000)
        if not parts["date"]:
            return datetime.time(
                parts["hour"], parts["minute"], parts["second"], parts["microsecond"]
            )
        if not parts["time"]:
            return datetime.date(parts["year"], parts["month"], parts["day"])
        del parts["time"], parts["date"]
        return datetime.datetime(**parts)
    match = ISO_DURATION.match(text)
    if match and any(match.groups()):
        spans = {k: float(v) for k, v in match.groupdict(0).items() if v}
        return datetime.timedelta(**spans)
    raise ValueError(f"Invalid datetime value {text}")


class SharedStrings:
    """The shared-strings table as one UTF-8 buffer and offsets: a few bytes per string
    instead of a Python object each (the 414,000-row file has about 1.6 million)."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = array("Q")

    def append(self, text: str) -> None:
        self._data += text.encode("utf-8", "surrogatepass")
        self._ends.append(len(self._data))

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, index: int) -> str:
        ends = self._ends
        if index < 0:  # as a list would (openpyxl kept a list)
            index += len(ends)
            if index < 0:
                raise IndexError(index)
        end = ends[index]
        start = ends[index - 1] if index > 0 else 0
        return self._data[start:end].decode("utf-8", "surrogatepass")


def _parse_stream(parser: Any, source: IO[bytes]) -> None:
    while True:
        chunk = source.read(CHUNK)
        if not chunk:
            break
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


def read_shared_strings(source: IO[bytes]) -> SharedStrings:
    """openpyxl.reader.strings.read_string_table: each <si>'s plain <t> then its runs' <t>,
    phonetic runs ignored, ``x005F_`` dropped."""
    strings = SharedStrings()
    si, t, r = f"{MAIN}}}si", f"{MAIN}}}t", f"{MAIN}}}r"
    depth_path: list[str] = []
    plain: list[str] | None = None
    runs: list[str] = []
    buffer: list[str] | None = None
    plain_seen = False

    def start(name: str, _attrs: Any) -> None:
        nonlocal plain, buffer, runs, plain_seen
        parent = depth_path[-1] if depth_path else ""
        depth_path.append(name)
        if name == si:
            plain, runs, plain_seen = None, [], False
        elif name == t and (parent in (si, r)) and len(depth_path) >= 2:
            buffer = []

    def end(name: str) -> None:
        nonlocal plain, buffer, plain_seen
        depth_path.pop()
        parent = depth_path[-1] if depth_path else ""
        if name == t and buffer is not None:
            text = "".join(buffer)
            buffer = None
            if parent == si:
                if not plain_seen:  # openpyxl keeps the first plain <t>'s text
                    plain = text
                    plain_seen = True
            else:
                runs.append(text)
        elif name == si:
            parts = ([plain] if plain else []) + runs
            strings.append("".join(parts).replace("x005F_", ""))

    def data(text: str) -> None:
        if buffer is not None:
            buffer.append(text)

    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    _parse_stream(parser, source)
    return strings


@dataclass(eq=False)
class SheetEntry:
    """A sheet of the workbook as workbook.xml names it."""

    title: str
    path: str  # inside the zip
    sheet_state: str  # "visible", "hidden" or "veryHidden"
    chart: bool = False


def _rels(archive: zipfile.ZipFile, name: str) -> dict[str, tuple[str, str]]:
    """Relationship id → (normalised target inside the zip, type), as openpyxl resolves them."""
    root = ElementTree.fromstring(archive.read(name))
    parent = posixpath.split(posixpath.dirname(name))[0]
    found = {}
    for rel in root.iter(f"{{{PKG_REL}}}Relationship"):
        target = rel.get("Target", "")
        if rel.get("TargetMode") != "External":
            if target.startswith("/"):
                target = target[1:]
            else:
                target = posixpath.normpath(posixpath.join(parent, target))
        found[rel.get("Id", "")] = (target, rel.get("Type", ""))
    return found


class Workbook:
    """An open .xlsx: its sheets, the active one, and each worksheet's rows on demand."""

    def __init__(self, path: Path | str) -> None:
        self.archive = zipfile.ZipFile(path)
        try:
            self._load()
        except BaseException:
            self.archive.close()
            raise

    def _load(self) -> None:
        archive = self.archive
        valid = set(archive.namelist())
        types = ElementTree.fromstring(archive.read("[Content_Types].xml"))
        overrides = [
            (o.get("PartName", ""), o.get("ContentType"))
            for o in types.iter(f"{{{CT_NS}}}Override")
        ]
        workbook_part = None
        for kind in WORKBOOK_TYPES:
            workbook_part = next((p for p, t in overrides if t == kind), None)
            if workbook_part:
                break
        if not workbook_part:
            defaults = {d.get("ContentType") for d in types.iter(f"{{{CT_NS}}}Default")}
            if not defaults & set(WORKBOOK_TYPES):
                raise OSError("File contains no valid workbook part")
            workbook_part = "/xl/workbook.xml"
        strings_part = next((p for p, t in overrides if t == SHARED_STRINGS), None)
        self.shared_strings: Any = SharedStrings()
        if strings_part is not None:
            with archive.open(strings_part[1:]) as source:
                self.shared_strings = read_shared_strings(source)

        workbook_name = workbook_part[1:]
        root = ElementTree.fromstring(archive.read(workbook_name))
        self.epoch = WINDOWS_EPOCH
        properties = root.find(f"{{{MAIN}}}workbookPr")
        if properties is not None:
            date1904 = properties.get("date1904")
            if date1904 is not None and date1904 not in ("false", "f", "0"):
                self.epoch = MAC_EPOCH
        active = 0
        for view in root.iter(f"{{{MAIN}}}workbookView"):
            tab = view.get("activeTab")
            if tab is not None:
                active = int(tab)
                break
        folder, obj = posixpath.split(workbook_name)
        rels_name = posixpath.join(folder, "_rels", f"{obj}.rels")
        rels: dict[str, tuple[str, str]] | None = None
        self.sheets: list[SheetEntry] = []
        sheets = root.find(f"{{{MAIN}}}sheets")
        for sheet in sheets.iter(f"{{{MAIN}}}sheet") if sheets is not None else ():
            rel_id = sheet.get(f"{{{REL_NS}}}id")
            if not rel_id:
                warnings.warn(
                    f"File contains an invalid specification for {sheet.get('name')}", stacklevel=2
                )
                continue
            if rels is None:
                rels = _rels(archive, rels_name)
            target, kind = rels[rel_id]
            if target not in valid:
                continue
            self.sheets.append(
                SheetEntry(
                    sheet.get("name", ""),
                    target,
                    sheet.get("state", "visible"),
                    chart="chartsheet" in kind,
                )
            )
        self.worksheets = [s for s in self.sheets if not s.chart]
        self.active = self.sheets[active] if 0 <= active < len(self.sheets) else None
        if active < 0 and -len(self.sheets) <= active:
            self.active = self.sheets[active]
        self.date_styles, self.timedelta_styles = self._styles(valid)

    def _styles(self, valid: set[str]) -> tuple[frozenset[int], frozenset[int]]:
        """The cell styles (indexes into cellXfs) whose number format is a date or a span."""
        if "xl/styles.xml" not in valid:
            return frozenset(), frozenset()
        root = ElementTree.fromstring(self.archive.read("xl/styles.xml"))
        custom = {}
        numfmts = root.find(f"{{{MAIN}}}numFmts")
        if numfmts is not None:
            for fmt in numfmts.iter(f"{{{MAIN}}}numFmt"):
                custom[int(fmt.get("numFmtId", "0"))] = fmt.get("formatCode")
        xfs = root.find(f"{{{MAIN}}}cellXfs")
        dates, spans = set(), set()
        for index, xf in enumerate(xfs.iter(f"{{{MAIN}}}xf") if xfs is not None else ()):
            number = int(xf.get("numFmtId", "0"))
            fmt = custom[number] if number in custom else BUILTIN_FORMATS.get(number)
            if is_date_format(fmt):
                dates.add(index)
            if is_timedelta_format(fmt):
                spans.add(index)
        return frozenset(dates), frozenset(spans)

    def close(self) -> None:
        self.archive.close()

    def rows(self, sheet: SheetEntry) -> Iterator[tuple[Any, ...]]:
        """openpyxl's ``iter_rows(values_only=True)`` of a read-only worksheet."""
        with self.archive.open(sheet.path) as source:
            yield from _SheetReader(self, source).rows()


class _SheetReader:
    """One pass of expat over a worksheet; rows are handed out as each chunk is parsed."""

    def __init__(self, book: Workbook, source: IO[bytes]) -> None:
        self.book = book
        self.source = source
        self.done: list[tuple[int, list[tuple[int, Any]]]] = []
        self.dimension: tuple[int | None, int | None, int | None, int | None] | None = None
        self.dimension_closed = False  # the end of <sheetData> passed: no dimension after

    def parsed(self) -> Iterator[tuple[int, list[tuple[int, Any]]]]:
        """(row number, [(column, value)]) as openpyxl's WorkSheetParser.parse gives them.

        The handlers run for every element of a file of millions of cells, so they keep their
        state in plain local variables and tell elements apart by name and depth (a cell is a
        child of a row, a value a child of a cell, ...) rather than by a stack."""
        book = self.book
        strings = book.shared_strings
        dates, spans, epoch = book.date_styles, book.timedelta_styles, book.epoch
        done = self.done
        tag_c, tag_v, tag_row = f"{MAIN}}}c", f"{MAIN}}}v", f"{MAIN}}}row"
        tag_is, tag_t, tag_r = f"{MAIN}}}is", f"{MAIN}}}t", f"{MAIN}}}r"
        tag_dim, tag_data = f"{MAIN}}}dimension", f"{MAIN}}}sheetData"
        columns: dict[str, int] = {}
        cells: list[tuple[int, Any]] = []
        depth = row_depth = cell_depth = is_depth = run_depth = 0
        row_number = col = 0
        kind: str = "n"
        style: str | None = None
        text: str | None = None  # the cell's <v>
        plain: str | None = None  # an inline string's own <t>
        runs: list[str] = []  # an inline string's runs' <t>
        inline = False  # the cell has <is>
        buffer: list[str] | None = None
        target = 0  # what the text being gathered is: 1 <v>, 2 plain <t>, 3 a run's <t>

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal depth, row_depth, cell_depth, is_depth, run_depth, row_number, col
            nonlocal kind, style, text, plain, runs, inline, buffer, target, cells
            depth += 1
            if name == tag_c:
                if depth != row_depth + 1 or not row_depth:
                    return
                cell_depth = depth
                ref = attrs.get("r")
                if ref:
                    found = columns.get(ref)
                    if found is None:
                        letters = ref.rstrip("0123456789")
                        found = columns.get(letters)
                        if found is None:
                            found = columns[letters] = column_index(letters)
                    col = found
                else:
                    col += 1
                kind = attrs.get("t", "n")
                style = attrs.get("s")
                text = plain = None
                inline = False
                if runs:
                    runs = []
            elif name == tag_t:
                if is_depth:
                    if depth == is_depth + 1:
                        if plain is None:
                            buffer, target = [], 2
                    elif run_depth and depth == run_depth + 1:
                        buffer, target = [], 3
            elif name == tag_v:
                if cell_depth and depth == cell_depth + 1 and text is None:
                    buffer, target = [], 1
            elif name == tag_is:
                if cell_depth and depth == cell_depth + 1 and not inline:
                    inline = True
                    is_depth = depth
            elif name == tag_r:
                if is_depth and depth == is_depth + 1:
                    run_depth = depth
            elif name == tag_row:
                ref = attrs.get("r")
                if ref is not None:
                    try:
                        row_number = int(ref)
                    except ValueError:
                        number = float(ref)
                        if not number.is_integer():
                            raise ValueError(f"{ref} is not a valid row number") from None
                        row_number = int(number)
                else:
                    row_number += 1
                col = 0
                cells = []
                row_depth = depth
            elif name == tag_dim and self.dimension is None and not self.dimension_closed:
                self.dimension = range_boundaries(attrs.get("ref", ""))

        def end(name: str) -> None:
            nonlocal depth, row_depth, cell_depth, is_depth, run_depth
            nonlocal text, plain, buffer, target
            if buffer is not None and (name in (tag_v, tag_t)):
                gathered = "".join(buffer)
                if target == 1:
                    text = gathered
                elif target == 2:
                    plain = gathered
                else:
                    runs.append(gathered)
                buffer = None
            elif name == tag_c:
                if depth == cell_depth:
                    cell_depth = 0
                    if kind == "inlineStr":
                        if not inline:
                            value: Any = None
                        elif runs:
                            value = (plain or "") + "".join(runs)
                        else:
                            value = plain or ""
                    elif not text:
                        value = None
                    elif kind == "s":
                        value = strings[int(text)]
                    elif kind == "n":
                        value = _number(text, style, dates, spans, epoch)
                    elif kind == "b":
                        value = bool(int(text))
                    elif kind == "d":
                        value = from_iso8601(text)
                    else:
                        value = text  # "str" (a formula's text), "e" (an error: #N/A), other
                    cells.append((col, value))
            elif name == tag_is:
                if depth == is_depth:
                    is_depth = 0
            elif name == tag_r:
                if depth == run_depth:
                    run_depth = 0
            elif name == tag_row:
                if depth == row_depth:
                    row_depth = 0
                    done.append((row_number, cells))
            elif name == tag_data:
                self.dimension_closed = True
            depth -= 1

        def data(chunk: str) -> None:
            if buffer is not None:
                buffer.append(chunk)

        parser = expat.ParserCreate(namespace_separator="}")
        parser.buffer_text = True
        for tag in (tag_c, tag_v, tag_row, tag_is, tag_t, tag_r, tag_dim, tag_data):
            parser.intern[tag] = tag  # names arrive as these very strings: == is identity
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = data
        read = self.source.read
        while True:
            chunk = read(CHUNK)
            parser.Parse(chunk, not chunk)
            if done:
                yield from done
                done.clear()
            if not chunk:
                break

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """openpyxl's ReadOnlyWorksheet._cells_by_row(1, 1, max_col, max_row, values_only)."""
        parsed = self.parsed()
        first = next(parsed, None)
        # the dimension comes before <sheetData>, so it is known once the first row is read
        # (without rows, the whole sheet was parsed to find none).
        max_col = max_row = None
        if self.dimension is not None:
            _c1, _r1, max_col, max_row = self.dimension
        empty: tuple[Any, ...] = (None,) * (max_col + 1 - 1) if max_col is not None else ()
        counter = 1
        idx = 1
        if first is not None:
            for idx, cells in _chain(first, parsed):
                if max_row is not None and idx > max_row:
                    break
                while counter < idx:
                    counter += 1
                    yield empty
                if counter <= idx:
                    counter += 1
                    if not cells and not max_col:
                        yield ()
                        continue
                    width = max_col or cells[-1][0]
                    row = [None] * width
                    for col, value in cells:
                        if 1 <= col <= width:
                            row[col - 1] = value
                    yield tuple(row)
        if max_row is not None and max_row < idx:
            for _ in range(counter, max_row + 1):
                yield empty


def _number(
    text: str,
    style: str | None,
    dates: frozenset[int],
    spans: frozenset[int],
    epoch: datetime.datetime,
) -> Any:
    """A number cell as openpyxl gives it: int unless written with "." or an exponent, a
    date or time when its style's number format is one."""
    number: Any = float(text) if "." in text or "E" in text or "e" in text else int(text)
    if style:
        style_id = int(style)
        if style_id in dates:
            try:
                return from_excel(number, epoch, timedelta=style_id in spans)
            except (OverflowError, ValueError):
                warnings.warn(
                    f"A cell is marked as a date but the serial value {number} is "
                    "outside the limits for dates. The cell will be treated as an error.",
                    stacklevel=2,
                )
                return "#VALUE!"
    return number


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest
