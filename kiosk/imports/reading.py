"""Reading a spreadsheet the way a coordinator sees it: rows numbered as Excel numbers them.

.xlsx is streamed by ``kiosk.imports.xlsx`` (values only, formulas as their cached results;
one row at a time, so a 50 MB file never sits in memory whole), which gives what openpyxl's
read-only mode gave, cell for cell, several times faster. The sheet is the one the coordinator
sees: hidden sheets (an old list kept by the branch, the drop-down sources of a
template) are skipped; among the visible sheets the one whose first rows hold the header of
the import is used, and when several do the coordinator is asked (``SheetChoice``).

.csv comes from Chinese Excel in GB18030 as often as in UTF-8, with or without a BOM: a BOM
means UTF-8, otherwise UTF-8 is tried first (it rarely decodes GB18030 text by accident) and
GB18030 after, with the GB 18030-2022 mapping: Python's codec follows the 2005 edition, which
turns 24 codes (six of them name characters such as FE51 𠂇) into private-use code points no
font draws (``kiosk.gb18030``). The delimiter is sniffed among comma, semicolon and tab.

A file the app cannot read at all (an .ods or .xls, a renamed Word document, a workbook with a
password, a zip bomb) is one sentence, by what the bytes are rather than by the name.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.parsers.expat import ExpatError

from kiosk.errors import KioskError
from kiosk.gb18030 import gb18030_2022
from kiosk.i18n import _
from kiosk.imports.xlsx import SheetEntry, Workbook

Cell = Any  # str, int, float, datetime, date, bool or None, as the file holds it
HEAD_ROWS = 10  # the header row is looked for among the first rows of a sheet
# Unpacked, a real 414,000-row workbook is about 300 MB; far more is a zip bomb.
MAX_UNPACKED = 2 * 1024**3
MAX_RATIO = 200
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class SheetRow:
    number: int  # the row number the coordinator sees in Excel (or the CSV line)
    cells: tuple[Cell, ...]


@dataclass
class Sheet:
    """One sheet's rows, read once, front to back (``rows`` is an iterator for .xlsx)."""

    rows: Iterable[SheetRow]
    encoding: str  # "xlsx", "utf-8-sig", "utf-8" or "gb18030"
    name: str = ""  # the sheet's name in the workbook ("" for a CSV)
    skipped: list[str] = field(default_factory=list)  # hidden sheets that were not read
    close: Callable[[], None] = lambda: None


class SheetChoice(KioskError):
    """Several visible sheets hold data: the coordinator says which (``sheets``)."""

    def __init__(self, sheets: list[str]) -> None:
        super().__init__(
            _(
                "The workbook has {n} sheets with data ({names}); say which one to import "
                "(on the command line: --sheet NAME)."
            ).format(n=len(sheets), names="、".join(f"“{s}”" for s in sheets))
        )
        self.sheets = sheets


class Unreadable(KioskError):
    """The file is no spreadsheet the app reads; nothing was imported."""


def decode_csv(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was in."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return gb18030_2022(data.decode("gb18030")), "gb18030"
    except UnicodeDecodeError:
        raise Unreadable(
            _("The file is neither UTF-8 nor GB18030 text; save it from Excel as CSV again.")
        ) from None


def _read_csv(path: Path) -> Sheet:
    text, encoding = decode_csv(path.read_bytes())
    if "\x00" in text[:4096]:
        raise Unreadable(
            _("“{name}” is not a text file; save it from Excel as .xlsx or CSV.").format(
                name=path.name
            )
        )
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    # Excel numbers records, not lines: a quoted cell with a line break is still one row.
    rows = (SheetRow(number, tuple(record)) for number, record in enumerate(reader, start=1))
    return Sheet(rows, encoding)


def _refuse_unreadable_zip(path: Path) -> None:
    """One sentence for a file that is not an .xlsx workbook, whatever its name says."""
    with path.open("rb") as handle:
        head = handle.read(8)
    if head == OLE_MAGIC:
        raise Unreadable(
            _(
                "“{name}” has a password or is an old .xls file: open it in Excel, remove the "
                "password (File › Info › Protect Workbook) and save it as .xlsx."
            ).format(name=path.name)
        )
    if not zipfile.is_zipfile(path):
        raise Unreadable(
            _("“{name}” is not an Excel workbook; save it in Excel as .xlsx or CSV.").format(
                name=path.name
            )
        )
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        infos = archive.infolist()
        mimetype = (
            archive.read("mimetype").decode("ascii", "replace") if "mimetype" in names else ""
        )
    if "opendocument.spreadsheet" in mimetype:
        raise Unreadable(
            _(
                "“{name}” is an OpenDocument (.ods) spreadsheet; save it as .xlsx "
                "(Excel 2007-365) and import that."
            ).format(name=path.name)
        )
    if "xl/workbook.xml" not in names:
        what = _("a Word document") if "word/document.xml" in names else _("another kind of file")
        raise Unreadable(
            _("“{name}” is {what}, not an Excel workbook; import .xlsx or CSV.").format(
                name=path.name, what=what
            )
        )
    unpacked = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos) or 1
    if unpacked > MAX_UNPACKED or (unpacked > 100 * 1024**2 and unpacked / packed > MAX_RATIO):
        raise Unreadable(
            _(
                "“{name}” unpacks to {size:,} MB, far more than any list of customers; it is "
                "damaged or not a real workbook."
            ).format(name=path.name, size=unpacked // 1024**2)
        )


def _sheet_rows(book: Workbook, sheet: SheetEntry) -> Iterator[SheetRow]:
    for number, values in enumerate(book.rows(sheet), start=1):
        yield SheetRow(number, values)


def _head(book: Workbook, sheet: SheetEntry) -> list[SheetRow]:
    rows = _sheet_rows(book, sheet)
    try:
        return list(islice(rows, HEAD_ROWS))
    finally:
        rows.close()


def _has_data(rows: Sequence[SheetRow]) -> bool:
    return any(c is not None and str(c).strip() for row in rows for c in row.cells)


def _read_xlsx(
    path: Path, sheet_name: str | None, has_header: Callable[[list[SheetRow]], bool] | None
) -> Sheet:
    _refuse_unreadable_zip(path)
    try:
        book = Workbook(path)
    except (
        zipfile.BadZipFile,
        KeyError,
        OSError,
        ValueError,
        TypeError,
        ElementTree.ParseError,
        ExpatError,
    ) as error:
        raise Unreadable(
            _("“{name}” is not an Excel .xlsx file ({error}).").format(name=path.name, error=error)
        ) from None
    try:
        visible = [s for s in book.worksheets if getattr(s, "sheet_state", "visible") == "visible"]
        hidden = [s.title for s in book.worksheets if s not in visible]
        if sheet_name is not None:
            chosen = next((s for s in book.worksheets if s.title == sheet_name), None)
            if chosen is None:
                raise KioskError(
                    _("The workbook has no sheet “{sheet}”; its sheets: {names}.").format(
                        sheet=sheet_name, names="、".join(s.title for s in book.worksheets)
                    )
                )
        else:
            chosen = _choose(book, visible, has_header)
    except BaseException:
        book.close()
        raise
    return Sheet(
        _sheet_rows(book, chosen),
        "xlsx",
        chosen.title,
        [h for h in hidden if h != chosen.title],
        book.close,
    )


def _choose(
    book: Workbook,
    visible: list[SheetEntry],
    has_header: Callable[[list[SheetRow]], bool] | None,
) -> SheetEntry:
    """The visible sheet with the import's header; several: ask; none: the active one."""
    if not visible:
        raise Unreadable(_("Every sheet of the workbook is hidden; show the one to import."))
    if len(visible) == 1:
        return visible[0]
    heads = {s.title: _head(book, s) for s in visible}
    with_data = [s for s in visible if _has_data(heads[s.title])]
    if has_header is not None:
        headed = [s for s in with_data if has_header(heads[s.title])]
        if len(headed) == 1:
            return headed[0]
        if len(headed) > 1:
            raise SheetChoice([s.title for s in headed])
    if len(with_data) > 1:
        raise SheetChoice([s.title for s in with_data])
    if with_data:
        return with_data[0]
    active = book.active
    return active if active in visible else visible[0]


def read_sheet(
    path: Path,
    sheet: str | None = None,
    has_header: Callable[[list[SheetRow]], bool] | None = None,
) -> Sheet:
    """The rows of the sheet to import of an .xlsx file, or of a .csv file.

    ``sheet`` names the sheet (the coordinator's choice); ``has_header`` tells whether a
    sheet's first rows hold the import's header, to find the one sheet with the data."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise KioskError(_("There is no file “{path}”.").format(path=path))
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet, has_header)
    if suffix in (".csv", ".txt"):
        with path.open("rb") as handle:
            head = handle.read(8)
        if head == OLE_MAGIC or head.startswith(b"PK\x03\x04"):
            raise Unreadable(
                _("“{name}” is a workbook, not CSV text; name it .xlsx or save it as CSV.").format(
                    name=path.name
                )
            )
        return _read_csv(path)
    if suffix == ".xls":
        raise Unreadable(
            _("“{name}” is an old .xls file; save it in Excel as .xlsx or CSV.").format(
                name=path.name
            )
        )
    if suffix == ".ods":
        raise Unreadable(
            _(
                "“{name}” is an OpenDocument (.ods) spreadsheet; save it as .xlsx "
                "(Excel 2007-365) and import that."
            ).format(name=path.name)
        )
    raise Unreadable(
        _("“{name}” is not a spreadsheet; import .xlsx or .csv files.").format(name=path.name)
    )
