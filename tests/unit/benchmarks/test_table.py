"""The benchmark table prints a ratio to two decimals: the targets are ratios like 0.8 of a
floor, and 0.75 printed as "0.8" read as met. Its header says how fast the machine was during
the run (pace, and the processors' busy and stolen time), so two runs' tables can be compared."""

from __future__ import annotations

import pytest

from benchmarks import Row
from benchmarks.__main__ import cpu_share, cpu_ticks, pace_ms, table


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


def test_the_cpu_share_says_busy_and_stolen_time() -> None:
    """``/proc/stat`` ticks (all, idle, steal) before and after a run: the share of the run's
    processor time that was busy and the share the hypervisor took."""
    assert cpu_share((1_000, 600, 10), (2_000, 1_100, 60)) == ("45% busy, 5.0% steal (/proc/stat)")
    assert cpu_share(None, (2_000, 1_100, 60)) == "unknown"
    assert cpu_share((2_000, 1_100, 60), (2_000, 1_100, 60)) == "unknown"  # no time passed


def test_the_cpu_ticks_are_read_from_this_machine() -> None:
    ticks = cpu_ticks()
    if ticks is None:
        pytest.skip("no /proc/stat here")
    total, idle, steal = ticks
    assert total > 0 and 0 <= idle <= total and 0 <= steal <= total


def test_the_pace_is_a_time_the_loop_took() -> None:
    assert 0 < pace_ms() < 60_000
