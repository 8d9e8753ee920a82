"""Two minutes of a compressed event day in CI (issue #30): every station flat.

``benchmarks/soak.py`` starts the simulated day in one process and each station's window,
signed in and live, in its own process, with every periodic timer ten times as fast; each
station samples its memory, descriptors, threads, connections and the reference counts of
None, True and False once a second. A station that crashes, loses references, or keeps
opening descriptors or connections would not last an eight-hour day. Timings (the 100 ms
timer's lateness) are reported, never asserted: they belong to the benchmark.
"""

from __future__ import annotations

import pytest

from benchmarks.soak import describe, soak

# Six processes for two minutes: in the one group of timing-sensitive tests (tests/conftest.py).
pytestmark = [pytest.mark.soak, pytest.mark.xdist_group("timing")]


def test_a_compressed_day_keeps_every_station_flat() -> None:
    report = soak(120.0, scale=0.1)
    print(describe(report))
    problems = report.problems()
    assert not problems, "\n".join(problems)
    stations = {a.station for a in report.analyses}
    assert stations == {"reception", "service_desk", "activation", "dashboard", "booth"}, (
        f"stations without enough samples: {report.stations}"
    )
    assert '"actions": 0' not in report.activity, f"nothing happened: {report.activity}"
