"""Invitation progress and slot reminders as .xlsx (and the reminders as .txt) for the RMs.

The figures come from ``kiosk.services.tracking``; this module only lays them out. The
reminder exports carry the customer's full mobile number on purpose: the RM sends the text
from their own phone or the bank's SMS tool and needs the number, which the RM has anyway in
the bank's CRM. Screens show it masked. The files are personal data: hand them to the RMs only.
"""

from __future__ import annotations

import codecs
import io
from datetime import datetime
from itertools import groupby
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from kiosk.errors import KioskError
from kiosk.files import write_atomic
from kiosk.i18n import _
from kiosk.services.arrival import ArrivalPlan, window_text
from kiosk.services.coverage import Coverage, CoverageRow
from kiosk.services.reminding import ReminderFigures
from kiosk.services.tracking import Progress, ProgressRow, Reminder, SlotLoad
from kiosk.spreadsheet_text import keep_as_text
from printing.reports import Percent, print_setup

Sheet = tuple[str, list[list[object]]]


def _figures(row: ProgressRow) -> list[object]:
    return [
        row.invitees,
        row.invited,
        row.reached,
        row.unreachable,
        row.confirmed,
        row.declined,
        row.companions,
    ]


def _figure_headers() -> list[str]:
    """The first column is the dashboard's *invited* (every invitation); the second counts
    those a daily report has named, what the branches' progress is about."""
    from kiosk.services.figures import Stage, stage_label

    return [
        stage_label(Stage.INVITED),
        _("In a daily report"),
        _("Reached"),
        _("Unreachable"),
        _("Confirmed"),
        _("Declined"),
        _("Companions"),
    ]


def percent_text(row: ProgressRow) -> str:
    return "" if row.percent is None else f"{row.percent}%"


def share_of_target(row: ProgressRow) -> Percent | None:
    """Confirmed over the target as a number Excel formats as %, blank without a target."""
    return Percent(row.confirmed / row.target) if row.target else None


def progress_sheets(progress: Progress) -> list[Sheet]:
    """Per branch (against the target, with a total) and per RM."""
    branches: list[list[object]] = [
        [_("Branch"), _("Branch name"), *_figure_headers(), _("Target"), _("% of target")]
    ]
    for row in progress.branches:
        branches.append([row.code, row.name, *_figures(row), row.target, share_of_target(row)])
    total = progress.total
    branches.append([_("Total"), "", *_figures(total), total.target, share_of_target(total)])
    rms: list[list[object]] = [[_("RM staff no."), _("RM"), _("Branch"), *_figure_headers()]]
    for row in progress.rms:
        rms.append([row.code or _("(no RM)"), row.name, row.branch, *_figures(row)])
    return [(_("Per branch"), branches), (_("Per RM"), rms)]


def _share(part: int, whole: int) -> Percent | None:
    return Percent(part / whole) if whole else None


def coverage_headers(floor: int | None) -> list[str]:
    headers = [
        _("Invitees"),
        _("Contacted"),
        _("% contacted"),
        _("Called by phone"),
        _("% called"),
    ]
    if floor is not None:
        headers += [
            _("With {n:,}+ points").format(n=floor),
            _("Not called yet"),
        ]
    return headers


def coverage_figures(row: CoverageRow, floor: int | None) -> list[object]:
    values: list[object] = [
        row.invitees,
        row.contacted,
        _share(row.contacted, row.invitees),
        row.called,
        _share(row.called, row.invitees),
    ]
    if floor is not None:
        values += [row.due, row.missing]
    return values


def coverage_sheets(coverage: Coverage) -> list[Sheet]:
    """Contact coverage per branch (with the total) and per RM, and the invitees the call
    rule still misses (masked names)."""
    floor = coverage.floor
    branches: list[list[object]] = [[_("Branch"), _("Branch name"), *coverage_headers(floor)]]
    for row in coverage.branches:
        branches.append([row.code, row.name, *coverage_figures(row, floor)])
    # The total says "Total" once, in the first column (its name is the same word).
    branches.append([_("Total"), "", *coverage_figures(coverage.total, floor)])
    rms: list[list[object]] = [[_("RM staff no."), _("RM"), _("Branch"), *coverage_headers(floor)]]
    for row in coverage.rms:
        rms.append([row.code or _("(no RM)"), row.name, row.branch, *coverage_figures(row, floor)])
    missing: list[list[object]] = [
        [_("Customer no."), _("Customer"), _("Branch"), _("RM staff no."), _("RM"), _("Points")]
    ]
    for m in coverage.missing:
        missing.append([m.customer_no, m.masked_name, m.branch, m.rm_no, m.rm_name, m.points])
    if floor is None:
        note = _("No call rule is set (Administration, Figures; kiosk rm call-floor).")
        missing.append([note, "", "", "", "", ""])
    return [
        (_("Coverage per branch"), branches),
        (_("Coverage per RM"), rms),
        (_("Not called"), missing),
    ]


def call_rule_text(coverage: Coverage) -> str:
    """The rule and how far it is kept, in one sentence."""
    if coverage.floor is None:
        return _("No call rule is set.")
    return _(
        "Call rule: every invitee with {n:,} points or more is called; {due} such invitees, "
        "{missing} not called yet."
    ).format(n=coverage.floor, due=coverage.total.due, missing=coverage.total.missing)


def reminder_rows(reminders: list[Reminder], *, full_phone: bool = True) -> list[list[object]]:
    rows: list[list[object]] = [
        [
            _("RM staff no."),
            _("RM"),
            _("Branch"),
            _("Customer no."),
            _("Customer"),
            _("Mobile phone"),
            _("Slot"),
            _("Pre-selected services"),
            _("Reminder text"),
            # Last, so the SMS platform's send report can echo either of them back.
            _("Invitation code"),
            _("Arrival window"),
        ]
    ]
    for r in reminders:
        rows.append(
            [
                r.rm_no,
                r.rm_name,
                r.branch,
                r.customer_no,
                r.masked_name,
                r.phone if full_phone else r.masked_phone,
                r.slot,
                "、".join(r.services),
                r.text,
                r.code,
                r.window,
            ]
        )
    return rows


def reminder_figure_rows(figures: ReminderFigures) -> list[list[object]]:
    """Per RM: confirmed customers reminded, and of those who arrived with a window, in it
    (columns of their own, so a report per RM can take them as they are)."""
    rows: list[list[object]] = [
        [
            _("RM staff no."),
            _("RM"),
            _("Confirmed"),
            _("Reminded"),
            _("% reminded"),
            _("Arrived"),
            _("Arrived with a window"),
            _("In their window"),
            _("% in their window"),
        ]
    ]
    for r in [*figures.rms, figures.total]:
        rows.append(
            [
                r.rm_no or (_("Total") if r is figures.total else _("(no RM)")),
                r.rm_name,
                r.confirmed,
                r.reminded,
                None if r.reminded_share is None else Percent(r.reminded_share),
                r.arrived,
                r.with_window,
                r.in_window,
                None if r.in_window_share is None else Percent(r.in_window_share),
            ]
        )
    return rows


def plan_rows(plan: ArrivalPlan) -> list[list[object]]:
    """The arrival windows: per slot and window, the customers of each branch and the total
    against the throughput; then who has no window yet."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(plan.timezone)
    rows: list[list[object]] = [
        [_("Slot"), _("Arrival window"), _("Customers"), _("Throughput"), _("Branches")]
    ]
    for slot in plan.slots:
        for w in slot.windows:
            rows.append(
                [
                    slot.label,
                    window_text(w.starts_at, w.ends_at, zone),
                    w.total,
                    plan.throughput,
                    "、".join(f"{b} {n}" for b, n in sorted(w.branches.items())),
                ]
            )
        if slot.unplanned:
            rows.append(
                [
                    slot.label,
                    _("no window yet"),
                    sum(slot.unplanned.values()),
                    None,
                    "、".join(f"{b} {n}" for b, n in sorted(slot.unplanned.items())),
                ]
            )
    return rows


def write_reminder_figures(figures: ReminderFigures, path: Path) -> Path:
    return write_workbook(
        [(_("Reminded per RM"), reminder_figure_rows(figures))], path, as_of_text()
    )


def slot_rows(load: SlotLoad) -> list[list[object]]:
    """Confirmed customers per branch and slot, then with companions, totals and capacity."""
    codes = [code for code, _label, _capacity in load.slots]
    rows: list[list[object]] = [
        [
            _("Branch"),
            _("Branch name"),
            *[label for _code, label, _c in load.slots],
            *[_("{slot} with companions").format(slot=label) for _code, label, _c in load.slots],
        ]
    ]
    for b in load.branches:
        rows.append(
            [
                b.branch,
                b.branch_name,
                *[b.per_slot.get(c, 0) for c in codes],
                *[b.people.get(c, 0) for c in codes],
            ]
        )
    rows.append(
        [
            _("Total"),
            "",
            *[load.total(c) for c in codes],
            *[load.total_people(c) for c in codes],
        ]
    )
    rows.append([_("Capacity"), "", *[capacity for _c, _l, capacity in load.slots]])
    return rows


def as_of_text(at: datetime | None = None) -> str:
    """When an export's figures were read ("Figures as of 2026-11-25 16:40"), this laptop's
    local time (the coordinator's, in the event's time zone)."""
    moment = (at or datetime.now().astimezone()).strftime("%Y-%m-%d %H:%M")
    return _("Figures as of {time}").format(time=moment)


def _shown(value: object) -> str:
    """A cell's text as the spreadsheet shows it, for the column's width."""
    if isinstance(value, Percent):
        return f"{value:.0%}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value if value is not None else "")


def write_workbook(sheets: list[Sheet], path: Path, as_of: str = "") -> Path:
    """One sheet per (title, rows), bold header, columns wide enough for Chinese text, shares
    as numbers formatted as %, the as-of line below each table, printed landscape one page
    wide with the header row repeated."""
    if path.suffix.lower() != ".xlsx":
        raise KioskError(_("Write the export as .xlsx, not “{name}”.").format(name=path.name))
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, rows in sheets:
        sheet = book.create_sheet(title[:31])
        for row in rows:
            sheet.append([float(v) if isinstance(v, Percent) else v for v in row])
        for r, row in enumerate(rows[1:], start=2):
            for c, value in enumerate(row, start=1):
                if isinstance(value, Percent):
                    sheet.cell(r, c).number_format = "0%"
                elif isinstance(value, int) and not isinstance(value, bool):
                    sheet.cell(r, c).number_format = "#,##0"  # 86,100 points, as on screen
        if as_of:
            sheet.cell(len(rows) + 2, 1, as_of).font = Font(italic=True)
        print_setup(sheet, title, as_of)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for column in sheet.columns:
            # As wide as the table's text (a share as its percentage, not 0.6666…); the
            # as-of line below runs over the empty cells beside it.
            index = column[0].column - 1
            width = max(
                (len(_shown(row[index] if index < len(row) else None)) for row in rows), default=0
            )
            sheet.column_dimensions[column[0].column_letter].width = min(max(8, width * 1.7), 70)
            if width > 40:
                for cell in column:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.freeze_panes = "A2"
        keep_as_text(sheet)  # a name typed as =HYPERLINK(…) stays text
    # Into memory first: openpyxl leaves its zip file open when a write fails mid-way.
    buffer = io.BytesIO()
    book.save(buffer)
    return write_atomic(path, buffer.getvalue())


def reminders_text(reminders: list[Reminder]) -> str:
    """Grouped per RM: the number and the text to send, ready to copy into an SMS."""
    blocks = []
    for (rm_no, rm_name), group in groupby(reminders, key=lambda r: (r.rm_no, r.rm_name)):
        items = list(group)
        heading = (
            _("{rm} {name}: {n} reminder(s)").format(rm=rm_no, name=rm_name, n=len(items))
            if rm_no
            else _("Customers without an RM: {n} reminder(s)").format(n=len(items))
        )
        lines = [f"== {heading} =="]
        for r in items:
            lines.append("")
            where = f"{r.slot}  {r.window}" if r.window else r.slot
            lines.append(f"{r.phone}  {r.masked_name}  {r.customer_no}  {r.code}  {where}")
            lines.append(r.text)
        blocks.append("\n".join(lines))
    return "\n\n\n".join(blocks) + "\n"


def write_reminders(
    reminders: list[Reminder],
    load: SlotLoad,
    path: Path,
    figures: ReminderFigures | None = None,
    plan: ArrivalPlan | None = None,
) -> Path:
    """.txt: the texts per RM; .xlsx: the reminders, the per-slot counts and, given
    ``figures``, per RM the share reminded and arriving in their window."""
    suffix = path.suffix.lower()
    if suffix == ".txt":
        # UTF-8 with a BOM and CRLF line ends: Notepad on the RMs' Windows laptops and the
        # bank's SMS tools read it as Chinese text, not as GBK mojibake on one long line.
        text = reminders_text(reminders).replace("\n", "\r\n")
        return write_atomic(path, codecs.BOM_UTF8 + text.encode("utf-8"))
    if suffix == ".xlsx":
        sheets = [(_("Reminders"), reminder_rows(reminders)), (_("Per slot"), slot_rows(load))]
        if plan is not None and plan.throughput:
            sheets.append((_("Arrival windows"), plan_rows(plan)))
        if figures is not None:
            sheets.append((_("Reminded per RM"), reminder_figure_rows(figures)))
        return write_workbook(sheets, path, as_of_text())
    raise KioskError(
        _("Write the reminders as .xlsx or .txt, not “{name}”.").format(name=path.name)
    )


def write_progress(progress: Progress, path: Path) -> Path:
    sheets = progress_sheets(progress)
    if progress.coverage is not None:
        sheets += coverage_sheets(progress.coverage)
    if progress.followup is not None:
        from printing.followup import coverage_sheet  # it lays out with this module's helpers

        sheets.append(coverage_sheet(progress.followup))
    return write_workbook(sheets, path, as_of_text())
