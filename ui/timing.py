"""The intervals of the app's periodic timers, in one place so a soak can speed them up.

An event day is eight hours; whatever a timer does every second or every five seconds has to
stay flat for all of them (memory, descriptors, connections, the interpreter's reference
counts). ``benchmarks/soak.py`` compresses such a day into minutes by setting
``KIOSK_TIMER_SCALE`` (0.1 = every periodic timer ten times as often). Staff never set it.
"""

from __future__ import annotations

import os

ENV_TIMER_SCALE = "KIOSK_TIMER_SCALE"


def scale() -> float:
    try:
        value = float(os.environ.get(ENV_TIMER_SCALE, "1"))
    except ValueError:
        return 1.0
    return value if 0 < value <= 1 else 1.0


def every(ms: int) -> int:
    """A periodic timer's interval in milliseconds, after the soak's scale (at least 1 ms)."""
    return max(1, round(ms * scale()))
