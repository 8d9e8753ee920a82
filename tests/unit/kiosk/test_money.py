"""Money for the settlement: the rate rounded half up to the fen, ¥ formatting, and the
amount in words as the bank writes it on payment documents (人民币大写)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kiosk.money import (
    capital_amount,
    fen_of,
    format_rate,
    format_yuan,
    points_amount_fen,
    rate_micro_of,
)


@pytest.mark.parametrize(
    ("fen", "words"),
    [
        (0, "零元整"),
        (5, "伍分"),  # below one yuan: no 零元
        (50, "伍角整"),
        (15, "壹角伍分"),
        (100, "壹元整"),
        (1_000, "壹拾元整"),  # 拾 always with its 壹
        (1_050, "壹拾元伍角整"),
        (11_000, "壹佰壹拾元整"),
        (10_005, "壹佰元零伍分"),  # 角 zero, 分 not: 零 after 元
        (32_504, "叁佰贰拾伍元零肆分"),
        (100_110, "壹仟零壹元壹角整"),
        (123_456, "壹仟贰佰叁拾肆元伍角陆分"),
        (140_950, "壹仟肆佰零玖元伍角整"),
        (600_714, "陆仟零柒元壹角肆分"),  # several zeros between figures: one 零
        (168_032, "壹仟陆佰捌拾元叁角贰分"),  # zero yuan digit: the rules allow no 零
        (1_640_902, "壹万陆仟肆佰零玖元零贰分"),
        (10_700_053, "壹拾万零柒仟元伍角叁分"),  # the rules' own second spelling
        (100_000_100, "壹佰万零壹元整"),
        (10_000_000_000, "壹亿元整"),
        (10_001_000_000, "壹亿零壹万元整"),
        (12_345_678_901_234, "壹仟贰佰叁拾肆亿伍仟陆佰柒拾捌万玖仟零壹拾贰元叁角肆分"),
    ],
)
def test_capital_amount(fen: int, words: str) -> None:
    assert capital_amount(fen) == words


def test_capital_amount_refuses_negative_and_huge() -> None:
    with pytest.raises(ValueError):
        capital_amount(-1)
    with pytest.raises(ValueError):
        capital_amount(10**14)


@pytest.mark.parametrize(
    ("points", "rate", "fen"),
    [
        (12_000, 8_000, 9_600),  # 12,000 × 0.008 = ¥96.00
        (3_000, 12_375, 3_713),  # 3,712.5 fen: half up (half-even would give 3,712)
        (5_000, 12_385, 6_193),  # 6,192.5 fen
        (6_000, 12_375, 7_425),  # exact: never two roundings of 3,000
        (1, 4_999, 0),  # 0.4999 fen
        (1, 5_000, 1),  # 0.5 fen: ¥0.005 is ¥0.01
        (0, 10_000, 0),
        (10**12, 999_999, 99_999_900_000_000),  # integers: exact at any size
    ],
)
def test_points_amount_rounds_half_up_to_the_fen(points: int, rate: int, fen: int) -> None:
    assert points_amount_fen(points, rate) == fen


def test_formats_and_exact_decimals() -> None:
    assert format_yuan(0) == "¥0.00"
    assert format_yuan(5) == "¥0.05"
    assert format_yuan(123_456_789) == "¥1,234,567.89"
    assert format_rate(8_000) == "0.008" and format_rate(12_375) == "0.012375"
    assert format_rate(1_000_000) == "1" and format_rate(1) == "0.000001"
    assert rate_micro_of(Decimal("0.01")) == 10_000
    assert fen_of(Decimal("35")) == 3_500 and fen_of(Decimal("0.1")) == 10
    with pytest.raises(ValueError):
        rate_micro_of(Decimal("0.0000001"))
    with pytest.raises(ValueError):
        fen_of(Decimal("1.005"))
