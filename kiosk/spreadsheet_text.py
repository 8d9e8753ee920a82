"""Text from data stays text in every spreadsheet the app writes (CWE-1236, OWASP "CSV
injection").

A customer's or an RM's name typed as ``=HYPERLINK("http://…","经理")`` becomes a live formula
when a workbook stores it as one: the RM who opens the export clicks a link, or Excel runs
``=cmd|…``. Excel and WPS start a formula from a cell beginning with ``=``, ``+``, ``-`` or
``@``, and a leading tab or carriage return hides such a start.

- **.xlsx**: every text cell is stored as a string (openpyxl makes a value beginning with
  ``=`` a formula; ``keep_as_text`` sets it back) and, when it begins with one of those
  characters, gets Excel's quote prefix: the value shows exactly as written, and editing the
  cell in Excel keeps it text. Nothing is added to the value itself.
- **.csv**: CSV has no types, so ``csv_text`` follows OWASP and puts a single quote before
  such a value (``'=HYPERLINK(…)``); Excel shows the quote's text as typed. The app writes no
  CSV today; whatever writes one uses ``csv_text`` on every field.
"""

from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def risky(value: object) -> bool:
    """Whether a spreadsheet could read this text as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_START)


def keep_as_text(sheet: Any) -> int:
    """Make every text cell of an openpyxl sheet a string, never a formula; the count of
    cells that began like a formula (for tests and logs)."""
    found = 0
    for row in sheet.iter_rows():
        for cell in row:
            value = cell.value
            if isinstance(value, str) and risky(value):
                cell.data_type = "s"
                cell.quotePrefix = True
                found += 1
    return found


def csv_text(value: object) -> str:
    """A field for a CSV file: a text that could start a formula gets a leading ``'``."""
    text = "" if value is None else str(value)
    return "'" + text if risky(text) else text
