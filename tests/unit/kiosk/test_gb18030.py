"""GB 18030-2022 decoding and undisplayable characters in imports (issue #28, part 2).

Chinese Excel saves CSV in GB 18030. Python's codec follows the 2005 edition, which decodes
FE51 to the private-use U+E816 where GB 18030-2022 reads 𠂇 (U+20087): a name stored that way
prints as a blank. The import maps the 2022 way, and any private-use or unassigned character
left in a cell stops the file with its row, column and code point.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk.db import Database
from kiosk.gb18030 import GB18030_2022_REMAPPED, gb18030_2022, undisplayable
from kiosk.imports.reading import decode_csv
from kiosk.models import Customer
from kiosk.services import imports as svc
from tests.unit.kiosk.services.test_imports import (
    BRANCH_ROWS,
    CATALOG_ROWS,
    CLOCK,
    INVITEE_ROWS,
    STAFF_ROWS,
    importer,
    issues_of,
    load,
    make_event,
    write_csv,
    write_xlsx,
)

# The fourteen two-byte codes the issue names, with the characters GB 18030-2022 gives them.
GB18030_2022 = {
    b"\xfe\x51": "\U00020087",
    b"\xfe\x52": "\U00020089",
    b"\xfe\x53": "\U000200cc",
    b"\xfe\x59": "\u9fb4",
    b"\xfe\x61": "\u9fb5",
    b"\xfe\x66": "\u9fb6",
    b"\xfe\x67": "\u9fb7",
    b"\xfe\x6c": "\U000215d7",
    b"\xfe\x6d": "\u9fb8",
    b"\xfe\x76": "\U0002298f",
    b"\xfe\x7e": "\u9fb9",
    b"\xfe\x90": "\u9fba",
    b"\xfe\x91": "\U000241fe",
    b"\xfe\xa0": "\u9fbb",
}


@pytest.mark.parametrize(("code", "char"), GB18030_2022.items())
def test_the_2005_private_use_code_points_decode_to_their_2022_characters(
    code: bytes, char: str
) -> None:
    assert code.decode("gb18030") != char  # what Python's 2005 codec gives: private use
    data = "客户号,姓名\n6200000009,".encode("gb18030") + code + "丽\n".encode("gb18030")
    text, encoding = decode_csv(data)
    assert encoding == "gb18030"
    assert text.splitlines()[1] == f"6200000009,{char}丽"


def test_the_remap_table_covers_every_2022_change() -> None:
    assert len(GB18030_2022_REMAPPED) == 24  # 14 above and the 10 vertical forms A6D9…A6F3
    vertical = bytes.fromhex("a6d9a6daa6dba6dca6dda6dea6dfa6eca6eda6f3")
    decoded = gb18030_2022(vertical.decode("gb18030"))
    assert sorted(decoded) == [chr(c) for c in range(0xFE10, 0xFE1A)]
    assert undisplayable(decoded) == []


def test_undisplayable_characters() -> None:
    assert undisplayable("王\ue000小\U000f0001明\ue000") == ["\ue000", "\U000f0001"]
    assert undisplayable("赵孟𫖯（北京）") == []
    assert undisplayable("\U0003ffff") == ["\U0003ffff"]  # unassigned


def test_a_gb18030_file_keeps_a_rare_name(any_empty_url: str, tmp_path: Path) -> None:
    database: Database = make_event(any_empty_url)
    try:
        load(database, tmp_path, "branches", BRANCH_ROWS)
        load(database, tmp_path, "staff", STAFF_ROWS)
        load(database, tmp_path, "catalog", CATALOG_ROWS)
        rows = [list(r) for r in INVITEE_ROWS]
        # Written by a 2005 encoder as Chinese Excel does: U+E816 -> FE51, U+E81E -> FE59.
        rows[1][1] = "\ue816小龙"
        rows[2][1] = "欧阳\ue81e"
        path = write_csv(tmp_path / "invitees.csv", rows, "gb18030")
        assert b"\xfe\x51" in path.read_bytes() and b"\xfe\x59" in path.read_bytes()
        result = svc.import_file(
            database.unit_of_work(), "invitees", path, importer(database), clock=CLOCK
        )
        assert result.created == 2
        with database.unit_of_work() as uow:
            names = set(uow.session.scalars(select(Customer.name)))
        assert names == {"\U00020087小龙", "欧阳\u9fb4"}
    finally:
        database.dispose()


def test_private_use_characters_are_named_with_row_column_and_code_point(
    any_empty_url: str, tmp_path: Path
) -> None:
    database: Database = make_event(any_empty_url)
    try:
        load(database, tmp_path, "branches", BRANCH_ROWS)
        load(database, tmp_path, "staff", STAFF_ROWS)
        load(database, tmp_path, "catalog", CATALOG_ROWS)
        rows = [list(r) for r in INVITEE_ROWS]
        rows[1][1] = "王\ue000明"  # a user-defined character of some branch's old system
        rows[2][1] = "\ue816丽"  # GB 18030-2005's code for 𠂇, typed into an .xlsx
        issues = issues_of(database, write_xlsx(tmp_path / "invitees.xlsx", rows), "invitees")
        assert len(issues) == 2
        (row2, column2, message2), (row3, column3, message3) = issues
        assert (row2, column2) == (2, "Name") and "U+E000" in message2
        assert (row3, column3) == (3, "Name") and "U+E816" in message3
        assert "U+20087" in message3 and "\U00020087" in message3
        with database.unit_of_work() as uow:  # the file imported nothing
            assert list(uow.session.scalars(select(Customer.name))) == []
    finally:
        database.dispose()
