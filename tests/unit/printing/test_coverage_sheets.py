"""The progress export's contact coverage (issue #20) as the coordinator reads it in Chinese:
"called" is a phone call, never the queue's 叫号; shares and the as-of line keep the columns
as narrow as their figures."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from kiosk.i18n import set_language
from kiosk.services.coverage import Coverage, CoverageRow
from printing.invitations import as_of_text, coverage_headers, coverage_sheets, write_workbook


def _coverage() -> Coverage:
    branch = CoverageRow("B01", "天河支行", "B01", invitees=3, contacted=2, called=1, due=2)
    total = CoverageRow("", "", "", invitees=3, contacted=2, called=1, due=2, missing=1)
    return Coverage(floor=14000, branches=[branch], rms=[], total=total, missing=[])


def test_called_is_a_phone_call_in_chinese() -> None:
    set_language("zh_CN")
    headers = coverage_headers(14000)
    assert "已叫号" not in headers  # the queue's "called", not the invitation's
    assert headers[3] == "已电话邀约"
    assert headers[4] == "电话覆盖率"


def test_share_columns_are_as_wide_as_the_percentage(tmp_path: Path) -> None:
    path = write_workbook(coverage_sheets(_coverage()), tmp_path / "p.xlsx", as_of_text())
    sheet = load_workbook(path)["Coverage per branch"]
    headers = [cell.value for cell in sheet[1]]
    share = sheet.column_dimensions["E"].width  # % contacted: 67% in a cell
    assert headers[4] == "% contacted" and sheet["E2"].number_format == "0%"
    assert share <= len("% contacted") * 1.7 + 1
    # The as-of line below the table runs over the empty cells, it does not widen column A.
    assert sheet.column_dimensions["A"].width <= len("Branch") * 1.7 + 1
