"""The guard that keeps service tests off the wall clock (issue #18).

Services take ``clock: Clock | None = None`` and fall back to the real clock with
``(clock or Clock()).now()``. A test that leaves the clock out depends on when it runs: it can
fail around midnight, at a slot boundary or when something it made expires. The autouse
fixtures in tests/unit/conftest.py and tests/integration/conftest.py call ``forbid_real_clock``,
which fails a test in which kiosk fell back to the real clock on the test's behalf, naming the
function that fell back and the line of the test that called it.

What counts, and why:

- Only a plain ``Clock()`` constructed in a ``kiosk.*`` or ``sync.*`` module is the fallback
  (``sync.push`` pushes and pulls with the same ``clock=`` convention as the services).
  ``FixedClock`` has its own ``__init__`` (dataclasses do not call the parent's), and a test
  constructing ``Clock()`` itself is a choice it made in plain sight, so neither is looked at.
- ``kiosk.idempotency`` is exempt: its ``Clock()`` stamps a probe row that is rolled back
  unread, so no result depends on it.
- ``KIOSK_OWN`` names kiosk functions that leave their own clock out when they call a service
  (the omission is kiosk's, not the test's; each is reported on issue #18 to be fixed there,
  and then removed from the list).
- The stack above the fallback is walked outwards. If it reaches the app's faces (``cli`` or
  ``ui``) before the test, the fallback is the app's own: a CLI command run in-process by
  ``cli.main.main([...])`` uses the real clock as it does for the staff (``kiosk event close``
  stamps the real time), and the test of that command is about the command, not about a
  moment. If it reaches the test (or a thread with neither on its stack, such as one a test
  started on a service), the test called kiosk without its clock: that is what fails.
  ``sync`` and ``printing`` are libraries with clock parameters of their own, so a fallback
  under them counts against the test that called them.

tests/ui and tests/flows do not use the guard: there the real application runs, with the
clock it is given or the real one, as it does on the day. Nor can it see into subprocesses
(``kiosk ...`` run as a program, a booth worker killed mid-way): those run on the real clock
by nature, and the tests around them say so where they meet it.

Every fallback is recorded and the test fails after it ran (at teardown), so the guard never
changes what the code under test does; all fallbacks of a test are listed at once.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from types import FrameType

import pytest

from kiosk.clock import Clock

FALLS_BACK = ("kiosk", "sync")
EXEMPT = frozenset({"kiosk.idempotency"})
KIOSK_OWN: set[str] = set()  # none left: simulate and the online booth pass theirs
FACES = ("cli", "ui")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _module(frame: FrameType) -> str:
    return str(frame.f_globals.get("__name__", ""))


def _is(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _where(frame: FrameType) -> str:
    return f"{os.path.relpath(frame.f_code.co_filename, ROOT)}:{frame.f_lineno}"


def _function(frame: FrameType) -> str:
    return f"{_module(frame)}.{frame.f_code.co_qualname}()"


def _blame(fallback: FrameType) -> str | None:
    """Who left the clock out: a sentence for the test's failure, or None when the app's own
    face (cli, ui) called kiosk and the real clock is what it means."""
    entry = fallback
    frame: FrameType | None = fallback.f_back
    while frame is not None:
        module = _module(frame)
        if _is(module, FACES) or f"{module}.{frame.f_code.co_qualname}" in KIOSK_OWN:
            return None
        if _is(module, ("tests",)):
            break
        if _is(module, ("kiosk", "sync", "printing")):
            entry = frame
        frame = frame.f_back
    where = (
        f"called from {_where(frame)}"
        if frame is not None
        else f"called on thread {threading.current_thread().name!r}"
    )
    under = "" if entry is fallback else f" under {_function(entry)}"
    return f"{_function(fallback)} fell back to the real clock{under}, {where} without clock="


def forbid_real_clock() -> Iterator[None]:
    """Patch ``Clock.__init__`` for one test and fail the test if kiosk fell back to the real
    clock on its behalf (see the module's docstring)."""
    found: list[str] = []
    lock = threading.Lock()

    def guarded_init(self: Clock) -> None:
        if type(self) is not Clock:
            return
        caller = sys._getframe(1)
        if not _is(_module(caller), FALLS_BACK) or _module(caller) in EXEMPT:
            return
        blame = _blame(caller)
        if blame is not None:
            with lock:
                found.append(blame)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Clock, "__init__", guarded_init)
        yield
    if found:
        unique = list(dict.fromkeys(found))
        pytest.fail(
            f"{len(found)} call(s) into kiosk fell back to the real clock:\n"
            + "\n".join(unique)
            + "\nPass the test's clock (clock=FixedClock(...)) so the test does not depend on"
            " when it runs (tests/clock_support.py).",
            pytrace=False,
        )
