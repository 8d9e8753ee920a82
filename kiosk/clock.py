"""Time, always timezone-aware.

The event has a local timezone (Asia/Shanghai by default) used for display and slot logic;
everything stored is UTC. ``Clock`` is injected into services so tests and rehearsals can fix
the time instead of patching ``datetime``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Clock:
    """Wall clock; ``FixedClock`` replaces it in tests."""

    def now(self) -> datetime:
        return utcnow()


@dataclass
class FixedClock(Clock):
    at: datetime = field(default_factory=utcnow)

    def now(self) -> datetime:
        return self.at

    def advance(self, **kwargs: float) -> None:
        self.at = self.at + timedelta(**kwargs)
