"""S001's approval on the spot, for tests whose clerk does something a supervisor approves.

The clock is required: the approval is audited at its time, and a test must not depend on
when it runs (tests/clock_support.py)."""

from __future__ import annotations

from kiosk.clock import Clock
from kiosk.db import Database
from kiosk.demo import DEMO_PIN
from kiosk.permissions import Action, Approval
from kiosk.services.approval import approve


def s001_approves(database: Database, action: Action, clock: Clock) -> Approval:
    return approve(database.unit_of_work(), "S001", DEMO_PIN, action=action, clock=clock)
