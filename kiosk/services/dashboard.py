"""The coordinator's dashboard: the event's figures now, and what needs attention.

The figures come from ``kiosk.services.figures`` (the same queries as the reports); this
module adds the alerts. Thresholds are parameters with defaults; the dashboard station keeps
the coordinator's values in the machine's settings (QSettings), because they are a preference
of the screen that watches, not a fact of the event.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.labels import queue_label
from kiosk.services.figures import EventFigures, event_figures
from kiosk.services.live_figures import LiveFigures
from kiosk.uow import UnitOfWork


@dataclass(frozen=True)
class Thresholds:
    """When the dashboard raises an alert."""

    queue_wait_minutes: int = 15  # the longest wait in a queue, from this many minutes
    slot_crowding_percent: int = 90  # a slot's arrivals against its capacity
    offer_left_percent: int = 10  # an offer with at most this share of its capacity left

    def check(self) -> Thresholds:
        """Refuse values that would alert always or never, in one sentence."""
        if not 1 <= self.queue_wait_minutes <= 240:
            raise KioskError(_("The queue wait limit must be between 1 and 240 minutes."))
        if not 10 <= self.slot_crowding_percent <= 300:
            raise KioskError(_("The slot crowding limit must be between 10% and 300%."))
        if not 0 <= self.offer_left_percent <= 90:
            raise KioskError(_("The offer limit must be between 0% and 90% left."))
        return self


class Severity(enum.StrEnum):
    WARN = "warn"  # at the threshold: look
    ERROR = "error"  # far past it (twice the wait, over capacity, sold out): act


@dataclass(frozen=True)
class Alert:
    kind: str  # "queue_wait", "slot_crowding", "offer_capacity"
    subject: str  # the queue, slot code or offer code
    severity: Severity
    message: str


@dataclass(frozen=True)
class Dashboard:
    figures: EventFigures
    thresholds: Thresholds
    alerts: list[Alert]

    @property
    def worst(self) -> Severity | None:
        if any(a.severity == Severity.ERROR for a in self.alerts):
            return Severity.ERROR
        return Severity.WARN if self.alerts else None


def alerts(figures: EventFigures, thresholds: Thresholds) -> list[Alert]:
    """Every alert for these figures, the most serious first."""
    found: list[Alert] = []
    zone = ZoneInfo(figures.timezone)
    for queue in figures.queues:
        limit = thresholds.queue_wait_minutes
        if queue.waiting and queue.wait_minutes >= limit:
            assert queue.oldest_waiting_since is not None
            found.append(
                Alert(
                    "queue_wait",
                    queue.queue,
                    Severity.ERROR if queue.wait_minutes >= 2 * limit else Severity.WARN,
                    _(
                        "{queue}: {n} waiting, the first since {time} ({minutes} min; "
                        "limit {limit} min). Open another desk."
                    ).format(
                        queue=queue_label(queue.queue),
                        n=queue.waiting,
                        time=queue.oldest_waiting_since.astimezone(zone).strftime("%H:%M"),
                        minutes=queue.wait_minutes,
                        limit=limit,
                    ),
                )
            )
    for slot in figures.slots:
        percent = slot.percent_of_capacity
        if percent is None or percent < thresholds.slot_crowding_percent:
            continue
        found.append(
            Alert(
                "slot_crowding",
                slot.code,
                Severity.ERROR if slot.arrived > slot.capacity else Severity.WARN,
                _(
                    "{slot}: {n} arrived, {percent}% of the capacity {capacity} (limit {limit}%)."
                ).format(
                    slot=slot.label,
                    n=slot.arrived,
                    percent=percent,
                    capacity=slot.capacity,
                    limit=thresholds.slot_crowding_percent,
                ),
            )
        )
    for offer in figures.offers:
        if not offer.capacity:
            continue
        if 100 * offer.remaining > thresholds.offer_left_percent * offer.capacity:
            continue
        found.append(
            Alert(
                "offer_capacity",
                offer.code,
                Severity.ERROR if offer.remaining <= 0 else Severity.WARN,
                (
                    _("{offer} ({merchant}) is fully booked.")
                    if offer.remaining <= 0
                    else _("{offer} ({merchant}): only {left} of {capacity} left.")
                ).format(
                    offer=offer.name,
                    merchant=offer.merchant_name,
                    left=offer.remaining,
                    capacity=offer.capacity,
                ),
            )
        )
    order = {Severity.ERROR: 0, Severity.WARN: 1}
    kinds = {"queue_wait": 0, "slot_crowding": 1, "offer_capacity": 2}
    found.sort(key=lambda a: (order[a.severity], kinds[a.kind]))
    return found


def snapshot(
    uow: UnitOfWork,
    *,
    clock: Clock | None = None,
    thresholds: Thresholds | None = None,
    with_timelines: bool = True,
    live: LiveFigures | None = None,
    reload: bool = True,
) -> Dashboard:
    """One dashboard refresh: every figure in one transaction, and its alerts. With ``live``
    (kept by the station between refreshes) only what changed since its last refresh is
    read again; the figures are the same. ``reload`` False: when the live figures would have
    to read the whole event again, read in full this once instead (``LiveFigures.figures``)."""
    thresholds = (thresholds or Thresholds()).check()
    figures = None
    if live is not None:
        figures = live.figures(uow, clock=clock, with_timelines=with_timelines, reload=reload)
    if figures is None:  # no live figures, or they must read the whole event again first
        figures = event_figures(uow, clock=clock, with_timelines=with_timelines)
    return Dashboard(figures, thresholds, alerts(figures, thresholds))
