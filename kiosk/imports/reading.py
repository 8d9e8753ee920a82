"""Reading a spreadsheet the way a coordinator sees it: rows numbered as Excel numbers them.

.xlsx is read with openpyxl in read-only mode (fast, low memory; values only, formulas as
their cached results). .csv comes from Chinese Excel in GB18030 as often as in UTF-8, with or
without a BOM: a BOM means UTF-8, otherwise UTF-8 is tried first (it rarely decodes
GB18030 text by accident) and GB18030 after, with the GB 18030-2022 mapping: Python's codec
follows the 2005 edition, which turns 24 codes (six of them name characters such as FE51 𠂇)
into private-use code points no font draws (``kiosk.gb18030``). The delimiter is sniffed
among comma, semicolon and tab.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.errors import KioskError
from kiosk.gb18030 import gb18030_2022
from kiosk.i18n import _

Cell = Any  # str, int, float, datetime, date, bool or None, as the file holds it


@dataclass(frozen=True)
class SheetRow:
    number: int  # the row number the coordinator sees in Excel (or the CSV line)
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Sheet:
    rows: list[SheetRow]
    encoding: str  # "xlsx", "utf-8-sig", "utf-8" or "gb18030"


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
        raise KioskError(
            _("The file is neither UTF-8 nor GB18030 text; save it from Excel as CSV again.")
        ) from None


def _read_csv(path: Path) -> Sheet:
    text, encoding = decode_csv(path.read_bytes())
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    # Excel numbers records, not lines: a quoted cell with a line break is still one row.
    rows = [SheetRow(number, tuple(record)) for number, record in enumerate(reader, start=1)]
    return Sheet(rows, encoding)


def _read_xlsx(path: Path) -> Sheet:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise KioskError(
            _("“{name}” is not an Excel .xlsx file ({error}).").format(name=path.name, error=error)
        ) from None
    try:
        sheet = book.worksheets[0]
        rows = [
            SheetRow(number, tuple(values))
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        book.close()
    return Sheet(rows, "xlsx")


def read_sheet(path: Path) -> Sheet:
    """The first sheet of an .xlsx file or the rows of a .csv file."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise KioskError(_("There is no file “{path}”.").format(path=path))
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix in (".csv", ".txt"):
        return _read_csv(path)
    if suffix == ".xls":
        raise KioskError(
            _("“{name}” is an old .xls file; save it in Excel as .xlsx or CSV.").format(
                name=path.name
            )
        )
    raise KioskError(
        _("“{name}” is not a spreadsheet; import .xlsx or .csv files.").format(name=path.name)
    )
