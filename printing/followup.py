"""The RMs' follow-up workbooks after the event (issue #21): one .xlsx per RM, from
``kiosk.services.followup``; this module only lays them out.

The list sheet holds one row per customer and group, personal data masked (the RM has the
full record in the bank's CRM), the suggested next action, and the columns the RM fills in:
contacted on (a date from the event day on), channel and outcome (drop-downs of the Chinese
labels the import reads back), note. The sheet is protected without a password so a stray
keystroke does not change a customer number or a group; the fill-in columns are unlocked.
The RM's staff number is a hidden column: the import (``kiosk import followup``) checks that
every customer is on that RM's list. A second sheet says what each group means and how many
customers are in it; it carries no import header, so the import finds the list on its own.
"""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation

from kiosk.errors import KioskError
from kiosk.files import write_atomic
from kiosk.i18n import _
from kiosk.imports.kinds import FOLLOWUP_OUTCOME_ZH
from kiosk.services.followup import (
    STAGES,
    FollowupCoverage,
    RmCoverage,
    RmFollowup,
    next_action,
    outcome_label,
    stage_label,
)
from kiosk.spreadsheet_text import keep_as_text
from printing.invitations import Sheet, as_of_text
from printing.reports import Percent, print_setup

CHANNELS = ("短信", "电话", "微信", "网点", "线上")  # the import's Chinese channel names
FILL_FROM = 11  # the first fill-in column (K): contacted on, channel, outcome, note
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10))} | {
    f"LPT{i}" for i in range(1, 10)
}


def list_headers() -> list[str]:
    return [
        _("RM staff no."),
        _("Customer no."),
        _("Follow-up group"),
        _("Customer"),
        _("Mobile phone"),
        _("Branch"),
        _("Details"),
        _("Redeem by"),
        _("Last follow-up"),
        _("Suggested next action"),
        _("Contacted on"),
        _("Channel"),
        _("Outcome"),
        _("Note"),
    ]


def file_name(rm: RmFollowup) -> str:
    """``跟进名单-RM001-张伟.xlsx``: staff number and name, safe on Windows (no reserved
    characters or names, no trailing dot or space)."""
    who = f"{rm.rm_no}-{rm.rm_name}" if rm.rm_no else _("no RM")
    stem = _UNSAFE.sub("_", f"{_('Follow-up list')}-{who}").strip(" .")[:120]
    if stem.split(".")[0].upper() in _RESERVED:
        stem = f"_{stem}"
    return f"{stem}.xlsx"


def list_rows(rm: RmFollowup) -> list[list[object]]:
    rows: list[list[object]] = [list_headers()]
    for e in rm.entries:
        last = (
            f"{e.last_contacted.isoformat()} {outcome_label(e.last_outcome)}"
            if e.last_contacted and e.last_outcome
            else ""
        )
        rows.append(
            [
                rm.rm_no,
                e.customer_no,
                stage_label(e.stage),
                e.masked_name,
                e.masked_phone,
                e.branch,
                e.detail(),
                e.redeem_by,
                last,
                next_action(e.stage),
                None,
                None,
                None,
                None,
            ]
        )
    return rows


def group_rows(rm: RmFollowup) -> list[list[object]]:
    # No header of the import's (跟进分组, 客户, 建议跟进): the import finds the list alone.
    rows: list[list[object]] = [
        [_("Follow-up groups"), _("Customers in the group"), _("What to do next")]
    ]
    for stage in STAGES:
        rows.append([stage_label(stage), rm.count(stage), next_action(stage)])
    rows.append([_("Customers on the list"), rm.customers, ""])
    return rows


_WIDTHS = (10, 14, 18, 10, 15, 8, 40, 12, 18, 40, 12, 10, 12, 30)
_GROUP_FILLS = ("FFFFFF", "F2F6FC")  # groups alternate, so the eye finds where one ends


def _list_sheet(book: Workbook, rm: RmFollowup, event_date: date, as_of: str) -> None:
    title = _("Follow-up list")
    sheet = book.create_sheet(title[:31])
    rows = list_rows(rm)
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = width
    sheet.column_dimensions["A"].hidden = True  # the RM's staff number, for the import
    shade, last_group, flip = _GROUP_FILLS[0], None, 0
    for r in range(2, len(rows) + 1):
        group = sheet.cell(r, 3).value
        if group != last_group:
            flip, last_group = 1 - flip, group
            shade = _GROUP_FILLS[flip]
        for c in range(1, len(_WIDTHS) + 1):
            cell = sheet.cell(r, c)
            cell.fill = PatternFill("solid", start_color=shade)
            if c in (7, 10):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            if c >= FILL_FROM:
                cell.protection = Protection(locked=False)
        sheet.cell(r, 8).number_format = "yyyy-mm-dd"
        sheet.cell(r, FILL_FROM).number_format = "yyyy-mm-dd"
    last = max(len(rows), 2) + 500  # room for rows the RM adds (a second contact)
    for r in range(len(rows) + 1, last + 1):
        for c in range(FILL_FROM, FILL_FROM + 4):
            sheet.cell(r, c).protection = Protection(locked=False)
    letter = sheet.cell(1, FILL_FROM).column_letter
    day = DataValidation(
        type="date",
        operator="greaterThanOrEqual",
        formula1=f"DATE({event_date.year},{event_date.month},{event_date.day})",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=_("Contacted on"),
        error=_("A date from the event day on, e.g. {day}.").format(day=event_date.isoformat()),
    )
    day.add(f"{letter}2:{letter}{last}")
    channel = DataValidation(type="list", formula1='"' + ",".join(CHANNELS) + '"', allow_blank=True)
    column = sheet.cell(1, FILL_FROM + 1).column_letter
    channel.add(f"{column}2:{column}{last}")
    outcome = DataValidation(
        type="list",
        formula1='"' + ",".join(FOLLOWUP_OUTCOME_ZH.values()) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=_("Outcome"),
        error=" / ".join(FOLLOWUP_OUTCOME_ZH.values()),
    )
    column = sheet.cell(1, FILL_FROM + 2).column_letter
    outcome.add(f"{column}2:{column}{last}")
    for validation in (day, channel, outcome):
        sheet.add_data_validation(validation)
    sheet.freeze_panes = "C2"
    print_setup(sheet, _heading(rm), as_of)
    protection = sheet.protection
    protection.sheet = True
    protection.sort = False  # sorting, filtering and widening columns stay allowed
    protection.autoFilter = False
    protection.formatColumns = False
    protection.formatRows = False
    keep_as_text(sheet)


def _heading(rm: RmFollowup) -> str:
    who = f"{rm.rm_no} {rm.rm_name}" if rm.rm_no else _("Customers without an RM")
    return _("Follow-up list: {who}").format(who=who)


def _groups_sheet(book: Workbook, rm: RmFollowup, as_of: str) -> None:
    sheet = book.create_sheet(_("Groups")[:31])
    rows = group_rows(rm)
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.append([])
    sheet.append([_heading(rm)])
    sheet.append(
        [
            _(
                "Fill in contacted on, channel and outcome for each customer you reached or "
                "tried; leave the row blank until then. Give the workbook back to the "
                "coordinator to import."
            )
        ]
    )
    sheet.append([as_of])
    sheet.column_dimensions["A"].width = 26
    sheet.column_dimensions["B"].width = 10
    sheet.column_dimensions["C"].width = 80
    for r in range(2, len(rows) + 1):
        sheet.cell(r, 3).alignment = Alignment(wrap_text=True, vertical="top")
    print_setup(sheet, _heading(rm), as_of)
    keep_as_text(sheet)


def write_followup_workbook(rm: RmFollowup, path: Path, event_date: date) -> Path:
    """One RM's workbook: the list to fill in, and the groups with what to do next."""
    if path.suffix.lower() != ".xlsx":
        raise KioskError(_("Write the export as .xlsx, not “{name}”.").format(name=path.name))
    as_of = as_of_text()
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    _list_sheet(book, rm, event_date, as_of)
    _groups_sheet(book, rm, as_of)
    buffer = io.BytesIO()
    book.save(buffer)
    return write_atomic(path, buffer.getvalue())


def write_followup(lists: list[RmFollowup], folder: Path, event_date: date) -> list[Path]:
    """One workbook per RM (and one for the customers without an RM) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    return [write_followup_workbook(rm, folder / file_name(rm), event_date) for rm in lists]


# -- coverage (the progress workbook and the Administration tabs) ----------------------------


def coverage_headers() -> list[str]:
    from kiosk.services.followup import OUTCOMES

    return [
        _("RM staff no."),
        _("RM"),
        _("Branch"),
        _("Customers on the list"),
        _("Followed up"),
        _("% followed up"),
        *[outcome_label(o) for o in OUTCOMES],
    ]


def coverage_values(row: RmCoverage) -> list[object]:
    from kiosk.services.followup import OUTCOMES

    return [
        row.customers,
        row.contacted,
        None if row.share is None else Percent(row.share),
        *[row.outcome(o) for o in OUTCOMES],
    ]


def coverage_rows(coverage: FollowupCoverage) -> list[list[object]]:
    rows: list[list[object]] = [coverage_headers()]
    for r in coverage.rms:
        rows.append([r.rm_no or _("(no RM)"), r.rm_name, r.branch, *coverage_values(r)])
    rows.append([_("Total"), "", "", *coverage_values(coverage.total)])
    return rows


def coverage_sheet(coverage: FollowupCoverage) -> Sheet:
    return (_("Follow-up per RM"), coverage_rows(coverage))
