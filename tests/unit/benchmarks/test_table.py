"""The benchmark table prints a ratio to two decimals: the targets are ratios like 0.8 of a
floor, and 0.75 printed as "0.8" read as met."""

from __future__ import annotations

from benchmarks import Row
from benchmarks.__main__ import table


def test_a_ratio_has_two_decimals_and_a_time_one() -> None:
    printed = table(
        [
            Row("sync push, ratio to floor", "×", [0.754, 0.749, 0.76]),
            Row("LAN alone: check-in / network floor", "x", [4.216]),
            Row("slip issue", "ms", [12.34, 15.66]),
        ]
    ).splitlines()
    assert printed[1].split()[-3:] == ["0.75", "0.76", "×"]
    assert printed[2].split()[-3:] == ["4.22", "4.22", "x"]
    assert printed[3].split()[-3:] == ["14.0", "15.7", "ms"]
