"""The streaming .xlsx reader gives exactly what openpyxl's read-only mode gives.

Imports used to read with openpyxl (``load_workbook(read_only=True, data_only=True)`` and
``iter_rows(values_only=True)``); ``kiosk.imports.xlsx`` replaced it for speed and memory, so
every workbook the app, the tests and the benchmarks make or ship is read with both and must
give the same sheets, states, active sheet, and every row, cell for cell, type included.
"""

from __future__ import annotations

import datetime
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from kiosk.imports import xlsx
from kiosk.imports.reading import read_sheet
from kiosk.imports.templates import write_templates

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"


def typed(value: Any) -> tuple[str, Any]:
    """A value with its type, so 1 and 1.0 and True differ."""
    return type(value).__name__, value


def assert_same(path: Path) -> None:
    ours = xlsx.Workbook(path)
    theirs = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        assert [s.title for s in ours.worksheets] == [s.title for s in theirs.worksheets]
        assert [s.sheet_state for s in ours.worksheets] == [
            s.sheet_state for s in theirs.worksheets
        ]
        their_active = theirs.active
        if their_active is None:
            assert ours.active is None
        else:
            assert ours.active is not None and ours.active.title == their_active.title
        for mine, sheet in zip(ours.worksheets, theirs.worksheets, strict=True):
            expected = [tuple(map(typed, row)) for row in sheet.iter_rows(values_only=True)]
            got = [tuple(map(typed, row)) for row in ours.rows(mine)]
            assert got == expected, (path.name, mine.title)
    finally:
        ours.close()
        theirs.close()


def test_the_shipped_fixtures() -> None:
    paths = sorted(FIXTURES.glob("*.xlsx"))
    assert paths, "the LibreOffice-saved fixture is missing"
    for path in paths:
        assert_same(path)


def test_the_templates_the_app_writes(tmp_path: Path) -> None:
    for path in write_templates(tmp_path, branches=["B01", "B02"], slots=["AM", "PM"]):
        assert_same(path)


def test_the_benchmark_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks import imports

    monkeypatch.setattr(imports, "CACHE", tmp_path)
    assert_same(imports.invitee_file(300))


def every_kind(path: Path, *, date1904: bool = False) -> Path:
    """A workbook with every cell type, several sheets, hidden ones and gaps."""
    book = openpyxl.Workbook()
    if date1904:
        book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    first = book.active
    first.title = "旧名单"
    first.append(["客户号", "积分"])
    first.append(["0012345", 1])
    first.sheet_state = "hidden"
    data = book.create_sheet("名单")
    data.append(["文本", "整数", "小数", "布尔", "日期", "日期时间", "时间", "公式"])
    data.append(
        [
            "  空格  ",
            12345,
            3.5,
            True,
            datetime.date(1985, 3, 1),
            datetime.datetime(2026, 11, 20, 9, 30, 15),
            datetime.time(14, 5, 0),
            "=B2*2",
        ]
    )
    data.append(["多行\n文本", -7, 1e20, False, datetime.date(1900, 1, 1), None, None, "=1/0"])
    data.append([])
    data["J6"] = "gap in columns"
    data["A9"] = "after a gap in rows"
    data["B9"] = 1.0
    data["C9"] = 2.5e-7
    data["D9"] = "=NA()"
    data["E9"] = 45000
    data["E9"].number_format = "yyyy年m月d日"
    data["F9"] = 45000.75
    data["F9"].number_format = "[$-804]yyyy/mm/dd hh:mm"
    data["G9"] = 1.5
    data["G9"].number_format = "[h]:mm:ss"
    data["H9"] = 45000
    data["H9"].number_format = '0.00"d"'
    data["I9"] = 12
    data["I9"].number_format = "@"
    data["A10"] = CellRichText(["普通", TextBlock(InlineFont(b=True), "粗体"), " 尾"])
    data["B10"] = '=HYPERLINK("http://x","经理")'
    data["C10"] = "x005F_x000D_"
    lists = book.create_sheet("lists")
    lists.append(["B01", "B02"])
    lists.sheet_state = "veryHidden"
    book.create_sheet("空")
    book.active = 1
    book.save(path)
    return path


def test_every_cell_type_written_by_openpyxl(tmp_path: Path) -> None:
    assert_same(every_kind(tmp_path / "kinds.xlsx"))
    assert_same(every_kind(tmp_path / "kinds1904.xlsx", date1904=True))


def test_a_write_only_workbook(tmp_path: Path) -> None:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("名单")
    sheet.append(["a", None, "c"])
    sheet.append([])
    sheet.append([None, None, None, None, 5])
    book.save(tmp_path / "w.xlsx")
    assert_same(tmp_path / "w.xlsx")


CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/worksheets/sheet2.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
{strings}
</Types>"""
STRINGS_TYPE = (
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)
ROOT_RELS = """<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Target="xl/workbook.xml"
 Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>
</Relationships>"""
WORKBOOK = """<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<workbookPr date1904="{date1904}"/>
<bookViews><workbookView activeTab="{active}"/></bookViews>
<sheets><sheet name="隐藏" sheetId="1" state="hidden" r:id="rId1"/>
<sheet name="数据" sheetId="2" r:id="rId2"/></sheets></workbook>"""
WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Target="{first}"
 Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>
<Relationship Id="rId2" Target="worksheets/sheet2.xml"
 Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>
</Relationships>"""
STYLES = """<?xml version="1.0" encoding="UTF-8"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;"/>
<numFmt numFmtId="165" formatCode="&quot;day&quot;0"/></numFmts>
<fonts count="1"><font/></fonts>
<fills count="1"><fill><patternFill patternType="none"/></fill></fills>
<borders count="1"><border/></borders>
<cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs>
<cellXfs count="7"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/>
<xf numFmtId="165"/><xf numFmtId="21"/><xf numFmtId="46"/><xf numFmtId="31"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""
SHARED = """<?xml version="1.0" encoding="UTF-8"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="5" uniqueCount="5">
<si><t>姓名</t></si>
<si><t xml:space="preserve">  带空格  </t></si>
<si><r><rPr><b/></rPr><t>王</t></r><r><t xml:space="preserve"> 小明</t></r>
<rPh sb="0" eb="1"><t>オウ</t></rPh><phoneticPr fontId="1"/></si>
<si><t>张三</t><rPh sb="0" eb="1"><t>チョウ</t></rPh></si>
<si><t/></si>
<si><t>a&amp;b &lt;c&gt; x005F_x000D_</t></si>
</sst>"""
SHEET = """<?xml version="1.0" encoding="UTF-8"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
{dimension}<sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c>
<c r="D1" t="s"><v>3</v></c><c r="E1" t="s"><v>4</v></c><c r="F1" t="s"><v>5</v></c></row>
<row r="3"><c r="A3" t="inlineStr"><is><t>内联</t></is></c>
<c r="B3" t="inlineStr"><is><r><t>富</t></r><r><rPr><i/></rPr><t>文本</t></r></is></c>
<c r="C3" t="str"><f>A1&amp;"x"</f><v>姓名x</v></c><c r="D3" t="e"><f>NA()</f><v>#N/A</v></c>
<c r="E3" t="b"><v>1</v></c><c r="F3" t="b"><v>0</v></c><c r="G3" t="inlineStr"/>
<c r="H3"><v></v></c><c r="I3" t="d"><v>2026-11-20T09:30:00</v></c></row>
<row r="4" spans="1:9"><c r="A4" s="1"><v>45000</v></c><c r="B4" s="2"><v>45000</v></c>
<c r="C4" s="3"><v>45000</v></c><c r="D4" s="4"><v>0.5</v></c><c r="E4" s="5"><v>1.25</v></c>
<c r="F4" s="6"><v>45000</v></c><c r="G4" s="1"><v>59</v></c><c r="H4" s="1"><v>61.5</v></c>
<c r="I4"><v>1E3</v></c><c r="J4"><v>007</v></c><c r="K4"><v>-2.50</v></c></row>
<row><c><v>1</v></c><c><v>2</v></c><c r="E5"><v>5</v></c><c><v>6</v></c></row>
<row r="7" customHeight="1" ht="30"/>
<row r="9"><c r="B9"><v>9</v></c></row>
</sheetData></worksheet>"""
PLAIN_SHEET = """<?xml version="1.0" encoding="UTF-8"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<dimension ref="A1:B2"/><sheetData><row r="1"><c r="A1"><v>1</v></c></row>
<row r="2"><c r="A2"><v>2</v></c></row><row r="3"><c r="A3"><v>3</v></c></row></sheetData>
</worksheet>"""


def handmade(
    path: Path,
    *,
    dimension: str = "",
    strings: bool = True,
    absolute: bool = False,
    date1904: str = "0",
    active: int = 1,
) -> Path:
    """A workbook as other programs write it (Excel, WPS, LibreOffice), byte for byte."""
    first = "/xl/worksheets/sheet1.xml" if absolute else "worksheets/sheet1.xml"
    sheet = SHEET.format(dimension=dimension)
    if not strings:
        sheet = sheet.replace(' t="s"><v>', ' t="str"><v>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES.format(
            strings=STRINGS_TYPE if strings else ""))  # fmt: skip
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK.format(date1904=date1904, active=active))
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.format(first=first))
        archive.writestr("xl/styles.xml", STYLES)
        if strings:
            archive.writestr("xl/sharedStrings.xml", SHARED)
        archive.writestr("xl/worksheets/sheet1.xml", PLAIN_SHEET)
        archive.writestr("xl/worksheets/sheet2.xml", sheet)
    return path


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"dimension": '<dimension ref="A1:K9"/>'},
        {"dimension": '<dimension ref="A1:C4"/>'},
        {"dimension": '<dimension ref="B2:M12"/>'},
        {"dimension": '<dimension ref="A1"/>'},
        {"strings": False, "absolute": True},
        {"date1904": "1", "active": 0},
        {"date1904": "true", "active": 5},
    ],
)
def test_workbooks_other_programs_write(tmp_path: Path, options: dict[str, Any]) -> None:
    assert_same(handmade(tmp_path / "handmade.xlsx", **options))


def test_read_sheet_gives_the_same_rows_as_before(tmp_path: Path) -> None:
    """The import's own entry point: rows numbered as Excel numbers them, widths kept."""
    path = handmade(tmp_path / "h.xlsx", dimension='<dimension ref="A1:K9"/>')
    sheet = read_sheet(path)
    try:
        rows = list(sheet.rows)
    finally:
        sheet.close()
    assert sheet.name == "数据" and sheet.skipped == ["隐藏"]
    assert [r.number for r in rows] == list(range(1, 10))
    assert {len(r.cells) for r in rows} == {11}
    assert rows[0].cells[:3] == ("姓名", "  带空格  ", "王 小明")
    assert rows[2].cells[:4] == ("内联", "富文本", "姓名x", "#N/A")


def test_shared_strings_are_kept_compactly() -> None:
    strings = xlsx.SharedStrings()
    for text in ["", "王小明", "𠂇", "a"]:
        strings.append(text)
    assert [strings[i] for i in range(4)] == ["", "王小明", "𠂇", "a"]
    assert strings[-1] == "a" and strings[-4] == ""
    for outside in (4, -5):
        with pytest.raises(IndexError):
            strings[outside]
