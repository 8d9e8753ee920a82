"""What a station reads on a live refresh, for the round-trip test and the LAN benchmark.

When another station's change arrives, the service desk and the activation desk read their
screen again in one transaction (``ui.stations.service_desk.ServiceDeskStation.refresh``,
``ui.stations.activation.ActivationStation.refresh``). Issue #23 counts that refresh's round
trips (tests/integration/test_roundtrips.py holds it to its number) and times it on the LAN
(benchmarks/lan.py); both read what the station reads when its call is unchanged, written
once here so that the two cannot drift apart.
"""

from __future__ import annotations

from kiosk.clock import Clock
from kiosk.db import Database
from kiosk.models import Queue
from kiosk.services import activation, desk


def desk_refresh(db: Database, clock: Clock, counter: str) -> desk.Called | None:
    """The service desk's refresh: the queue, the RM counts, this counter's call and the
    called customer's timeline. Returns the call."""
    read = db.shared_read()
    with read:
        desk.waiting(read, clock=clock)
        desk.rm_counts(read)
        current = desk.current_call(read, desk=counter, queue=Queue.SERVICE_DESK)
        if current is not None:
            desk.timeline(read, current.visit_id)
    return current


def activation_refresh(db: Database, clock: Clock, counter: str) -> desk.Called | None:
    """The activation desk's refresh with its call unchanged: the queue, its call, the
    catalog. Returns the call."""
    read = db.shared_read()
    with read:
        desk.waiting(read, queue=Queue.ACTIVATION, clock=clock)
        current = desk.current_call(read, desk=counter, queue=Queue.ACTIVATION)
        activation.catalog(read)
    return current
