"""Fixtures for the tests of kiosk's services: they run on the clock they are given."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.clock_support import forbid_real_clock


@pytest.fixture(autouse=True)
def _no_real_clock() -> Iterator[None]:
    """Fail a test that lets a service fall back to the wall clock (tests/clock_support.py)."""
    yield from forbid_real_clock()
