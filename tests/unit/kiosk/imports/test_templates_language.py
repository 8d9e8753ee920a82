"""Import templates (issue #28): Text format on every code column, drop-downs in the
template's language that the import takes back."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from kiosk.i18n import set_language
from kiosk.imports.kinds import CATEGORY_OPTIONS, KINDS, TIER_OPTIONS
from kiosk.imports.templates import CODE_FIELDS, write_templates


@pytest.fixture(params=["zh_CN", "en"])
def language(request: pytest.FixtureRequest) -> object:
    set_language(request.param)
    yield request.param
    set_language("zh_CN")


def test_code_columns_are_text_and_drop_downs_speak_the_templates_language(
    tmp_path: Path, language: str
) -> None:
    paths = write_templates(tmp_path, branches=["B01", "0101"], slots=["AM"])
    coded = 0
    for path in paths:
        kind = path.stem.split("-", 1)[1]
        sheet = openpyxl.load_workbook(path)[kind]
        for column, field in enumerate(KINDS[kind].fields, start=1):
            if field.name in CODE_FIELDS:
                coded += 1
                for row in (3, 500, 1002):
                    assert sheet.cell(row, column).number_format == "@", (kind, field.name)
        for rule in sheet.data_validations.dataValidation:
            if rule.type != "list" or not rule.formula1.startswith('"'):
                continue
            values = rule.formula1.strip('"').split(",")
            column = openpyxl.utils.column_index_from_string(str(rule.sqref).split(":")[0][:-1])
            field = KINDS[kind].fields[column - 1]
            options = {"category": CATEGORY_OPTIONS, "tier": TIER_OPTIONS}.get(field.name)
            if options is None:
                continue
            for value in values:  # each one the import takes back
                assert value.lower().replace(" ", "") in options, (kind, value)
            if language == "zh_CN":  # under a Chinese note, Chinese values
                assert not any(v.isascii() for v in values), (kind, field.name, values)
    assert coded >= 8  # 网点编号, 商户编号, 服务编号, 客户经理工号, 工号, 客户号 …
