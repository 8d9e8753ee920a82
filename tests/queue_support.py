"""The queue invariant for tests: call ``assert_queues_hold`` after every step of a flow."""

from __future__ import annotations

from kiosk.db import Database
from kiosk.services import queues


def assert_queues_hold(database: Database, step: str = "") -> None:
    """Every checked-in customer is in exactly one state and each desk has called at most
    one customer; otherwise fail with every violation in words, after ``step``."""
    found = queues.violations(database.unit_of_work())
    assert found == [], f"queue invariant broken{' after ' + step if step else ''}:\n" + "\n".join(
        found
    )
