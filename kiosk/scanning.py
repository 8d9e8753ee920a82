"""Telling a keyboard-wedge scanner from a person typing.

A USB scanner "types" its code as keystrokes a few milliseconds apart and ends with Enter; a
person needs 80 ms or more per key. Reception treats a fast burst as a scan (check in at once)
and slow typing as a search (Enter checks in the selected result). Only the last keys count,
so a person who typed a little before scanning does not spoil the scan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from statistics import median

SCANNER_MAX_INTERVAL_S = 0.035
MIN_SCAN_LENGTH = 4


@dataclass
class WedgeDetector:
    max_interval_s: float = SCANNER_MAX_INTERVAL_S
    min_length: int = MIN_SCAN_LENGTH
    _times: list[float] = field(default_factory=list)

    def key(self, at: float) -> None:
        """Record a printable keystroke at monotonic time ``at`` (seconds)."""
        if self._times and at - self._times[-1] > 0.5:
            self._times.clear()  # a pause: what came before was typed, not scanned
        self._times.append(at)

    def finish(self) -> bool:
        """Enter was pressed: was the text a scan? Resets for the next input."""
        times, self._times = self._times, []
        if len(times) < self.min_length:
            return False
        gaps = [b - a for a, b in pairwise(times)]
        return median(gaps) <= self.max_interval_s and max(gaps) <= 3 * self.max_interval_s

    def reset(self) -> None:
        self._times.clear()
