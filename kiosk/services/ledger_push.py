"""What the ledger answered to a push, written into the event database's outbox.

``sync.push.push`` reads the pending outbox entries, sends them to the central ledger and
gets an answer per entry; this service is the write of those answers, so the only writer of
the event database outside ``kiosk/services`` is gone (issue #18). It asks for no role, and
that is on purpose: the push runs unattended (the app's background push is a child process,
``kiosk sync push`` a coordinator's command) and it changes no business data. Every entry
was written by a service that checked its writer's role; this records only its delivery
(accepted, or rejected with the ledger's reason), never a balance, a slip or a customer.
An entry already settled by another push is left as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, update

from kiosk import audit
from kiosk.clock import Clock
from kiosk.models import OutboxEntry, OutboxStatus
from kiosk.uow import UnitOfWork

CHUNK = 500  # ids per set-wise UPDATE: well inside every backend's parameter limit
RUN = 20  # consecutive ids worth an UPDATE of their own (a range, two parameters)


@dataclass(frozen=True)
class Refused:
    """An entry the ledger refused, with its reason (shown to the coordinator)."""

    entry_id: int
    reason: str


def record_push(
    uow: UnitOfWork,
    accepted: Sequence[int],
    refused: Sequence[Refused],
    *,
    clock: Clock | None = None,
    station: str = "sync",
) -> None:
    """Mark ``accepted`` entries accepted and ``refused`` ones rejected, in one transaction
    with one summary audit record (Core statements leave no row history)."""
    now = (clock or Clock()).now()
    with uow:
        connection = uow.session.connection()
        table = OutboxEntry.__table__
        # Accepted entries (nearly all) in a few set-wise statements; rejections one by one
        # with their reason. A push sends pending entries in id order, so the accepted ids of
        # a batch are nearly always runs of consecutive ids: each run of RUN or more is one
        # ``id BETWEEN`` (exactly those ids), the rest go in chunks of ids.
        runs, scattered = _runs(accepted)
        for low, high in runs:
            connection.execute(
                update(table)
                .where(
                    table.c.id.between(low, high),
                    table.c.status == OutboxStatus.PENDING,
                )
                .values(status=OutboxStatus.ACCEPTED, pushed_at=now)
            )
        for start in range(0, len(scattered), CHUNK):
            connection.execute(
                update(table)
                .where(
                    table.c.id.in_(scattered[start : start + CHUNK]),
                    table.c.status == OutboxStatus.PENDING,
                )
                .values(status=OutboxStatus.ACCEPTED, pushed_at=now)
            )
        if refused:
            connection.execute(
                update(table)
                .where(table.c.id == bindparam("row_id"), table.c.status == OutboxStatus.PENDING)
                .values(status=OutboxStatus.REJECTED, pushed_at=now, error=bindparam("reason")),
                [{"row_id": r.entry_id, "reason": r.reason or None} for r in refused],
            )
        audit.append(
            uow.session,
            at=now,
            action="ledger_pushed",
            station=station,
            details={"accepted": len(accepted), "rejected": len(refused)},
        )
        uow.commit()


def _runs(ids: Sequence[int]) -> tuple[list[tuple[int, int]], list[int]]:
    """``ids`` as (lowest, highest) runs of at least ``RUN`` consecutive ids, and the ids in
    no such run. A run names exactly its ids, so ``id BETWEEN`` marks nothing else.

    A push's batch is read in id order and nearly always accepted whole, so its ids are
    usually one run already: that is seen from the ends alone (distinct ids between the lowest
    and the highest, as many as the span), without walking 5,000 ids in Python."""
    ordered = sorted(set(ids))
    if len(ordered) >= RUN and ordered[-1] - ordered[0] == len(ordered) - 1:
        return [(ordered[0], ordered[-1])], []
    runs: list[tuple[int, int]] = []
    scattered: list[int] = []
    start = 0
    for i in range(1, len(ordered) + 1):
        if i == len(ordered) or ordered[i] != ordered[i - 1] + 1:
            if i - start >= RUN:
                runs.append((ordered[start], ordered[i - 1]))
            else:
                scattered.extend(ordered[start:i])
            start = i
    return runs, scattered
