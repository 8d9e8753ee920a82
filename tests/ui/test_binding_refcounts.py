"""The Qt binding must not lose references to None, True or False (issue #30).

PySide6 6.12.0 on Python 3.11 drops one reference to None on every call from Qt into Python
code that returns None; a signed-in dashboard makes about 72 such calls a second, so None's
count reaches zero after about ten minutes and the interpreter aborts. No ordinary test runs
long enough to see it, so this one makes thousands of calls of each kind the app uses, each
kind in its own process (the bug ends in an abort), and checks that no count falls.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.qt_refcount_probe import KINDS

ROOT = Path(__file__).resolve().parents[2]
CALLS = 3000  # more than a 6.12.0 process has references to True (about 600) or to spare


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_qt_calls_into_python_keep_refcounts(kind: str) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    run = subprocess.run(
        [sys.executable, "-m", "tests.qt_refcount_probe", kind, str(CALLS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, (
        f"{CALLS} Qt -> Python calls of kind {kind} killed the interpreter (exit "
        f"{run.returncode}); this PySide6 build loses references (README: known bad "
        f"versions):\n{run.stderr[-2000:]}"
    )
    result = json.loads(run.stdout.strip().splitlines()[-1])
    for name, before, after in zip(
        ("None", "True", "False"), result["before"], result["after"], strict=True
    ):
        assert after >= before, (
            f"{CALLS} Qt -> Python calls of kind {kind} lost {before - after} references to "
            f"{name} ({before} -> {after}): this PySide6 build would crash a station within "
            f"the day (README: known bad versions)"
        )
