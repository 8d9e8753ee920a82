"""The satisfaction call list (满意度回访): one row per redeemed slip for the callers, with
empty columns they fill in, read back by the import kind ``feedback``.

The customer columns are masked (the callers dial from the bank's own system, which has the
numbers); the columns read back carry the headers of ``kiosk.imports.kinds.CALL_FIELDS``, so
the filled-in file imports as it is. The category is a drop-down of the Chinese labels the
import reads.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from kiosk.errors import KioskError
from kiosk.files import write_atomic
from kiosk.i18n import _
from kiosk.imports.kinds import CALL_FIELDS, FEEDBACK_CATEGORY_ZH
from kiosk.services.feedback import CallRow
from kiosk.spreadsheet_text import keep_as_text

_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
_FILL_IN = PatternFill("solid", fgColor="FFF2CC")  # the caller's columns


def _field(name: str) -> str:
    return _(next(f.header for f in CALL_FIELDS if f.name == name))


def write_call_list(rows: Sequence[CallRow], path: Path, timezone: str) -> Path:
    """Write the call list as .xlsx; the path written."""
    if path.suffix.lower() != ".xlsx":
        raise KioskError(_("Write the call list as .xlsx, not “{name}”.").format(name=path.name))
    zone = ZoneInfo(timezone)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Satisfaction calls")
    given = [
        _field("slip"),
        _("Customer"),
        _("Mobile phone"),
        _("Merchant"),
        _("Service"),
        _("Redeemed at"),
        _("Delivered at"),
    ]
    to_fill = [_field(name) for name in ("score", "category", "complaint", "called_on")]
    widths = [14, 10, 14, 18, 24, 17, 17, 12, 14, 40, 17]
    for column, header in enumerate(given + to_fill, start=1):
        cell = sheet.cell(row=1, column=column, value=header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(column)].width = widths[column - 1]

    def local(at: object) -> str:
        return at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if at else ""  # type: ignore[attr-defined]

    for index, r in enumerate(rows, start=2):
        values = [
            r.number,
            r.masked_name,
            r.masked_phone,
            f"{r.merchant_code} {r.merchant_name}",
            r.offer_name,
            local(r.redeemed_at),
            local(r.delivered_at),
        ]
        for column, value in enumerate(values, start=1):
            sheet.cell(row=index, column=column, value=value)
        for column in range(len(given) + 1, len(given) + len(to_fill) + 1):
            sheet.cell(row=index, column=column).fill = _FILL_IN
    last = max(len(rows) + 1, 2)
    first_fill = len(given) + 1
    score = DataValidation(
        type="whole",
        operator="between",
        formula1="1",
        formula2="5",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=to_fill[0],
        error=_("A score is 1 to 5."),
    )
    score.add(f"{get_column_letter(first_fill)}2:{get_column_letter(first_fill)}{last}")
    sheet.add_data_validation(score)
    labels = ",".join(FEEDBACK_CATEGORY_ZH.values())
    category = DataValidation(
        type="list",
        formula1=f'"{labels}"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=to_fill[1],
        error=labels,
    )
    letter = get_column_letter(first_fill + 1)
    category.add(f"{letter}2:{letter}{last}")
    sheet.add_data_validation(category)
    sheet.freeze_panes = "B2"
    keep_as_text(sheet)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()  # into memory first: a failed write leaves no half file
    book.save(buffer)
    return write_atomic(path, buffer.getvalue())
