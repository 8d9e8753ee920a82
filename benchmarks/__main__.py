"""Runs every benchmark and prints one table, headed by the machine it ran on.

Figures mean little without the machine, so the header names it: date, CPU, cores, memory,
OS, Python and Qt. The same machine is not the same speed from one day to the next (a shared
virtual machine: the same code's CPU per LAN action was 9.9 ms one day and 18.0 the next), so
the header also says how fast it was during this run: ``pace``, a pure-Python loop timed
before and after the benchmarks (the same loop on every machine, so two runs' tables can be
set side by side), and ``cpu time``, what share of the processors' time the hypervisor took
(steal) and how busy they were, from ``/proc/stat`` over the run. A benchmark that fails shows
n = 0 and its reason on stderr; the exit status is then 1, so a broken measurement is not
mistaken for a fast one.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
import traceback
from datetime import datetime

import PySide6
from PySide6 import QtCore

from benchmarks import (
    Benchmark,
    Row,
    backup,
    booth,
    cli_start,
    dashboard,
    imports,
    lan,
    notify,
    packaged,
    progress,
    search,
    slips,
    soak,
    startup,
    sync,
    sync_https,
)

BENCHMARKS: list[Benchmark] = [
    startup,
    cli_start,
    search,
    slips,
    sync,
    sync_https,
    booth,
    dashboard,
    backup,
    imports,
    lan,
    notify,
    soak,
    packaged,
]  # a new benchmark is one more module here


def short_name(benchmark: Benchmark) -> str:
    return benchmark.__name__.rsplit(".", 1)[-1]


def _proc_field(path: str, key: str) -> str:
    try:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                name, _, value = line.partition(":" if ":" in line else "=")
                if name.strip() == key:
                    return value.strip().strip('"')
    except OSError:
        pass
    return "unknown"


def machine() -> list[tuple[str, str]]:
    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    memory = _proc_field("/proc/meminfo", "MemTotal").split()[0]
    return [
        ("date", datetime.now().astimezone().isoformat(timespec="seconds")),
        ("cpu", _proc_field("/proc/cpuinfo", "model name")),
        ("cores", f"{cores} logical" + (f", {usable} usable" if usable != cores else "")),
        ("memory", f"{int(memory) / 1024**2:.1f} GiB" if memory.isdigit() else memory),
        ("os", f"{_proc_field('/etc/os-release', 'PRETTY_NAME')} ({platform.platform()})"),
        ("python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("qt", f"PySide6 {PySide6.__version__}, Qt {QtCore.qVersion()}"),
    ]


PACE_ADDITIONS = 1_000_000
PACE_SAMPLES = 5


def pace_ms() -> float:
    """Milliseconds a pure-Python loop of a million additions takes (median of five): the
    interpreter's speed on this machine now, which every benchmark here depends on."""
    samples = []
    for _ in range(PACE_SAMPLES):
        started, total = time.perf_counter(), 0
        for i in range(PACE_ADDITIONS):
            total += i
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def cpu_ticks() -> tuple[int, int, int] | None:
    """(all, idle, steal) ticks of every processor since boot, from ``/proc/stat``; None
    where there is none (not Linux)."""
    try:
        with open("/proc/stat", encoding="ascii") as lines:
            fields = [int(value) for value in lines.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal (guest time is inside user already)
    fields = (fields + [0] * 8)[:8]
    return sum(fields), fields[3] + fields[4], fields[7]


def cpu_share(before: tuple[int, int, int] | None, after: tuple[int, int, int] | None) -> str:
    """How the processors' time went between two ``cpu_ticks``: busy, and stolen by the
    hypervisor (time this machine wanted and another guest had)."""
    if before is None or after is None or after[0] <= before[0]:
        return "unknown"
    total = after[0] - before[0]
    idle, steal = after[1] - before[1], after[2] - before[2]
    busy = total - idle - steal
    return f"{100 * busy / total:.0f}% busy, {100 * steal / total:.1f}% steal (/proc/stat)"


def p99(samples: list[float]) -> float:
    """Nearest-rank 99th percentile: with fewer than 100 samples, the slowest one."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def table(rows: list[Row]) -> str:
    """The rows as a table: a ratio (unit × or x) to two decimals, as its targets are read
    (0.75 of a floor is not "0.8"), every other figure to one."""
    lines = [("benchmark", "n", "median", "p99", "unit")]
    for row in rows:
        stats = ("-", "-")  # n = 0: failed, the reason is on stderr
        if row.samples:
            digits = 2 if row.unit.split(",")[0].strip() in ("×", "x") else 1
            stats = (
                f"{statistics.median(row.samples):.{digits}f}",
                f"{p99(row.samples):.{digits}f}",
            )
        lines.append((row.name, str(len(row.samples)), *stats, row.unit))
    widths = [max(len(line[i]) for line in lines) for i in range(5)]
    return "\n".join(
        f"{name:<{widths[0]}}  {n:>{widths[1]}}  {median:>{widths[2]}}  {high:>{widths[3]}}  {unit}"
        for name, n, median, high, unit in lines
    )


def main(argv: list[str] | None = None) -> int:
    names = [short_name(b) for b in BENCHMARKS]
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions: a smoke run")
    parser.add_argument(
        "--only", metavar="NAME", choices=names, help=f"run one benchmark: {', '.join(names)}"
    )
    parser.add_argument(
        "--latency",
        metavar="MS",
        type=float,
        default=lan.LATENCY_MS,
        help="lan: the delay the LAN adds each way, in ms (default %(default)g: a round trip "
        "of twice that; 0.5 is the issue's 1 ms round trip, 5 a poor Wi-Fi, 0 the proxy alone)",
    )
    args = parser.parse_args(argv)
    # A benchmark's own options go to it alone; the others take only --quick.
    options: dict[Benchmark, dict[str, object]] = {lan: {"latency_ms": args.latency}}
    rows: list[Row] = []
    pace_before, ticks_before = pace_ms(), cpu_ticks()
    for benchmark in BENCHMARKS:
        name = short_name(benchmark)
        if args.only and name != args.only:
            continue
        progress(f"== {name}")
        try:
            rows += benchmark.run(args.quick, **options.get(benchmark, {}))
        except Exception:
            progress(f"{name}: FAILED\n{traceback.format_exc()}")
            rows.append(Row(name, "", []))
    ticks_after, pace_after = cpu_ticks(), pace_ms()
    header = [
        *machine(),
        (
            "pace",
            f"{pace_before:.0f} ms before, {pace_after:.0f} ms after "
            f"(a pure-Python loop of {PACE_ADDITIONS:,} additions; lower is faster)",
        ),
        ("cpu time", cpu_share(ticks_before, ticks_after)),
    ]
    width = max(len(key) for key, _ in header)
    print("\n".join(f"{key:<{width}}  {value}" for key, value in header))
    print()
    print(table(rows))
    return 0 if all(row.samples for row in rows) else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # The search benchmark builds and deletes several Qt stations in one process; PySide's
    # teardown of them at interpreter exit has crashed (none_dealloc) after the table was
    # printed. The app itself exits cleanly; here, leave without the teardown.
    os._exit(code)
