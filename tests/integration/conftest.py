"""Fixtures for the tests of kiosk's services: they run on the clock they are given."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sync.ledger import Ledger
from tests.clock_support import forbid_real_clock


@pytest.fixture(autouse=True)
def _no_real_clock() -> Iterator[None]:
    """Fail a test that lets a service fall back to the wall clock (tests/clock_support.py)."""
    yield from forbid_real_clock()


@pytest.fixture
def opened() -> Iterator[list[Ledger]]:
    """Ledgers a test opens (it appends them), disposed of after it."""
    ledgers: list[Ledger] = []
    yield ledgers
    for ledger in ledgers:
        ledger.dispose()
