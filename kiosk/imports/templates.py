"""Import templates: one .xlsx per kind that a coordinator fills in and imports back.

Row 1 names the columns (in the current language; both languages are accepted back), row 2
says what goes in each (the import skips it), and the cells below carry Excel data
validation: drop-downs for fixed values (and the event's branches and slots when known),
date cells for dates, and Text format for IDs, phones and every code column (branch, RM,
merchant, service, customer numbers) so Excel never rounds them nor drops a leading zero
(0101 stays 0101). Drop-downs offer values in the template's language (健康体检, 金卡 under a
Chinese note), each one a spelling the import takes back.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from kiosk.files import write_atomic
from kiosk.i18n import _
from kiosk.imports.kinds import CATEGORY_OPTIONS, KINDS, ORDER, TIER_OPTIONS, Field
from kiosk.labels import category_label, tier_label
from kiosk.spreadsheet_text import keep_as_text

ROWS = 1000  # rows prepared with formats and validation
_HEADER_FILL = PatternFill("solid", fgColor="8A1C1C")
_NOTE_FILL = PatternFill("solid", fgColor="FFF4D6")


CODE_FIELDS = frozenset(
    {"code", "merchant_code", "staff_no", "rm", "branch", "customer_no", "occupation_code", "booth"}
)
"""Columns of codes: Text format, or a spreadsheet turns 0101 into 101."""

# Fixed values shown in the template's language, where the import takes that spelling back.
_LABELS = {
    "category": (category_label, CATEGORY_OPTIONS),
    "tier": (tier_label, TIER_OPTIONS),
}


def choice_label(field: Field, value: str) -> str:
    """A drop-down value as the template's reader says it (金卡 for gold in Chinese), or the
    value itself when the import would not take the label back."""
    label, options = _LABELS.get(field.name, (None, None))
    if label is None or options is None:
        return value
    text = label(value)
    return text if options.get(text.lower().replace(" ", "")) == value else value


def is_text_column(field: Field) -> bool:
    return field.text_column or field.name in CODE_FIELDS


def template_name(kind: str) -> str:
    return f"{ORDER.index(kind) + 1}-{kind}.xlsx"


def _list_validation(values: list[str], sheet_lists: dict[str, int], book: Workbook) -> str:
    """An Excel list formula; long lists go to a hidden sheet (inline lists max 255 chars)."""
    inline = ",".join(values)
    if len(inline) <= 250 and not any("," in v or '"' in v for v in values):
        return f'"{inline}"'
    lists = book["lists"] if "lists" in book.sheetnames else book.create_sheet("lists")
    lists.sheet_state = "hidden"
    column = len(sheet_lists) + 1
    key = inline
    sheet_lists[key] = column
    letter = get_column_letter(column)
    for row, value in enumerate(values, start=1):
        lists.cell(row=row, column=column, value=value)
    return f"lists!${letter}$1:${letter}${len(values)}"


def write_template(
    kind: str, path: Path, *, branches: Sequence[str] = (), slots: Sequence[str] = ()
) -> Path:
    """Write the template of one kind; ``branches`` and ``slots`` feed its drop-downs."""
    spec = KINDS[kind]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = kind
    sheet_lists: dict[str, int] = {}
    dynamic = {"branch": list(branches), "slot": list(slots)}
    for column, field in enumerate(spec.fields, start=1):
        letter = get_column_letter(column)
        head = sheet.cell(row=1, column=column, value=_header(field))
        head.font = Font(bold=True, color="FFFFFF")
        head.fill = _HEADER_FILL
        note = sheet.cell(row=2, column=column, value=_(field.description))
        note.font = Font(italic=True, color="4A5360")
        note.fill = _NOTE_FILL
        note.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[letter].width = _width(field)
        cells = f"{letter}3:{letter}{ROWS + 2}"
        choices = [choice_label(field, c) for c in field.choices] or (
            dynamic.get(field.name, []) if kind in ("customers", "invitees", "staff") else []
        )
        if choices:
            rule = DataValidation(
                type="list",
                formula1=_list_validation(choices, sheet_lists, book),
                allow_blank=not field.required,
                # A warning, not a stop: the import also takes names and other spellings.
                showErrorMessage=True,
                errorStyle="warning",
                errorTitle=_header(field),
                error=_(field.description),
            )
            rule.add(cells)
            sheet.add_data_validation(rule)
        elif field.date_column:
            rule = DataValidation(
                type="date",
                operator="greaterThan",
                formula1="1",
                allow_blank=True,
                showErrorMessage=True,
                errorStyle="warning",  # 长期 (long-term) is text
                errorTitle=_header(field),
                error=_(field.description),
            )
            rule.add(cells)
            sheet.add_data_validation(rule)
        if is_text_column(field) or field.date_column:
            for row in range(3, ROWS + 3):
                sheet.cell(row=row, column=column).number_format = (
                    "@" if is_text_column(field) else "yyyy-mm-dd"
                )
    sheet.row_dimensions[2].height = 48
    sheet.freeze_panes = "A3"
    for each in book.worksheets:  # a branch or slot name from data stays text in the lists
        keep_as_text(each)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Into memory first: openpyxl leaves its zip file open when a write fails mid-way.
    buffer = io.BytesIO()
    book.save(buffer)
    return write_atomic(path, buffer.getvalue())


def _width(field: Field) -> int:
    """Wide enough for the header, and for the description in the three lines its row shows
    (a Chinese character is two columns wide)."""
    described = sum(2 if ord(c) > 0x2E80 else 1 for c in _(field.description))
    return max(14, min(34, len(_header(field)) * 2 + 6), min(34, -(-described // 3) + 2))


def _header(field: Field) -> str:
    return _(field.header) + (" *" if field.required else "")


def write_templates(
    directory: Path, *, branches: Sequence[str] = (), slots: Sequence[str] = ()
) -> list[Path]:
    """One template per kind, numbered in the order they are imported."""
    return [
        write_template(kind, directory / template_name(kind), branches=branches, slots=slots)
        for kind in ORDER
    ]
