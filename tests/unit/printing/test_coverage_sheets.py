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


def test_the_total_says_total_once_and_points_keep_their_separators(tmp_path: Path) -> None:
    """The total row read "合计 合计" (its name is the same word); the not-called list's
    points showed as 86100 where the screen says 86,100."""
    from kiosk.services.coverage import Uncalled

    set_language("zh_CN")
    coverage = _coverage()
    total = CoverageRow("", "合计", "", invitees=3, contacted=2, called=1, due=2, missing=1)
    missing = [Uncalled("6200000001", "王*", "B01", "RM001", "李四", 86_100)]
    coverage = Coverage(coverage.floor, coverage.branches, [], total, missing)
    path = write_workbook(coverage_sheets(coverage), tmp_path / "p.xlsx", as_of_text())
    book = load_workbook(path)
    branches = book["各网点联系覆盖"] if "各网点联系覆盖" in book else book.worksheets[0]
    last = [cell.value for cell in branches[3]]
    assert last[0] == "合计" and last[1] in (None, "")
    points = book.worksheets[2]["F2"]
    assert points.value == 86_100 and points.number_format == "#,##0"
