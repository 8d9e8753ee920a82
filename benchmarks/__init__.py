"""Benchmarks of the kiosk: measurements printed as one table, never pass/fail.

Event-day performance (how soon a laptop is ready, how fast reception finds a customer, ...)
has to be measured the same way on every machine and after every change, or the figures
cannot be compared. So every benchmark is a module here with ``run(quick) -> list[Row]``,
listed once in ``benchmarks.__main__.BENCHMARKS``; the runner adds the machine and the
statistics. Run them all with ``python -m benchmarks`` (see README.md).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NamedTuple, Protocol

ROOT = Path(__file__).resolve().parent.parent  # the repository: child processes run here
CACHE = Path(__file__).resolve().parent / ".cache"  # generated databases, ignored by git


class Row(NamedTuple):
    """One line of the table: what was measured, its unit and every sample (empty = failed)."""

    name: str
    unit: str
    samples: list[float]


class Benchmark(Protocol):
    """What a benchmark module provides; its name is the module's name."""

    __name__: str

    def run(self, quick: bool) -> list[Row]: ...


class BenchmarkError(Exception):
    """A measurement could not be taken; the message says what failed, in words."""


def progress(message: str) -> None:
    """Progress goes to stderr, so stdout holds only the table."""
    print(message, file=sys.stderr, flush=True)
