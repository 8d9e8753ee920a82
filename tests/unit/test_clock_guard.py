"""The guard of tests/clock_support.py can fail, and fails only what it should.

Run inside the autouse guard of tests/unit/conftest.py: the inner guard patches over it and
puts it back, so the outer one sees nothing of what is done here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from kiosk.clock import Clock, FixedClock
from kiosk.services import gate
from tests.clock_support import forbid_real_clock

EVENT = SimpleNamespace(timezone="Asia/Shanghai")
MORNING = FixedClock(datetime(2026, 11, 28, 1, 10, tzinfo=UTC))


def test_a_fallback_fails_the_test_and_says_where() -> None:
    guard = forbid_real_clock()
    next(guard)
    assert gate.event_today(EVENT, MORNING) == date(2026, 11, 28)  # given: fine
    Clock().now()  # the test's own real clock, in plain sight: fine
    gate.event_today(EVENT, None)  # left out: kiosk falls back to the real clock
    with pytest.raises(pytest.fail.Exception) as failed:
        next(guard, None)
    message = str(failed.value)
    assert message.startswith("1 call(s) into kiosk fell back to the real clock:")
    assert "kiosk.services.gate.event_today() fell back to the real clock" in message
    assert "called from tests/unit/test_clock_guard.py:" in message
    assert "clock=FixedClock(...)" in message
    assert type(Clock.__init__).__name__ == "function" and Clock().now()  # patch undone


def test_nothing_left_out_passes() -> None:
    guard = forbid_real_clock()
    next(guard)
    gate.event_today(EVENT, MORNING)
    FixedClock()  # a FixedClock is never the fallback
    assert next(guard, "passed") == "passed"


def test_the_app_faces_keep_the_real_clock() -> None:
    """A command of cli/ (or a screen of ui/) run in-process uses the real clock, as it does
    for the staff: not the test's omission."""
    guard = forbid_real_clock()
    next(guard)
    for face in ("cli.main", "ui.stations.reception"):
        code = compile("gate.event_today(EVENT, None)", f"<{face}>", "exec")
        exec(code, {"__name__": face, "gate": gate, "EVENT": EVENT})
    assert next(guard, "passed") == "passed"


def test_the_kiosk_functions_excused_still_exist() -> None:
    """A renamed or moved function must not leave a stale excuse behind (nor a live one
    unlisted): each name in ``KIOSK_OWN`` is a function of kiosk."""
    import importlib

    from tests.clock_support import KIOSK_OWN

    for name in KIOSK_OWN:
        parts = name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            try:
                found: object = importlib.import_module(".".join(parts[:cut]))
            except ModuleNotFoundError:
                continue
            for attribute in parts[cut:]:
                found = getattr(found, attribute)
            assert callable(found), name
            break
        else:
            raise AssertionError(f"{name}: no such module")
