"""The push keeps the process's heap out of the cyclic collector's sight and the collector
paused while it runs (``sync.push._heap_frozen``): a push's allocations set off full
collections that walked every object the process held, up to a third of a benchmark push's
time, and young collections that walked each batch's payloads again and again. What the push
made is collected when it ends."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.models import Event
from sync.ledger import ACCEPTED, Account, Outcome
from sync.push import _heap_frozen, pending, push
from tests.outbox_support import put_pending


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    was_on = gc.isenabled()
    yield
    gc.unfreeze()
    if was_on:
        gc.enable()


class _Cycle:
    """An object in a reference cycle (a list that holds it, and which it holds)."""

    def __init__(self, holder: list[Any]) -> None:
        self.holder = holder
        holder.append(self)


class _Watching:
    """A ledger that accepts every entry and notes how the collector stood while it applied
    each batch (in the push's worker thread)."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, bool]] = []

    def apply(
        self, entries: Sequence[tuple[str, str, dict[str, Any]]], today: date | None = None
    ) -> list[Outcome]:
        self.seen.append((gc.get_freeze_count(), gc.isenabled()))
        return [Outcome(key, ACCEPTED) for key, _kind, _payload in entries]

    def accounts(self, customer_nos: Sequence[str], today: date | None = None) -> list[Account]:
        return []

    def points_stock(self, today: date | None = None) -> int:
        return 0

    def dispose(self) -> None:
        pass


def test_the_push_applies_with_the_heap_frozen_and_the_collector_paused_then_gives_both_back(
    sqlite_demo_db: Database,
) -> None:
    """SQLite only: the collector is the process's, whatever the event database."""
    with audit.unaudited(), sqlite_demo_db.unit_of_work() as uow:  # test setup
        event = uow.session.scalars(select(Event)).first()
        assert event is not None
        put_pending(
            uow.session,
            event.id,
            [
                (f"check_in:heap-{i}", "check_in", {"event": event.code, "customer_no": str(i)})
                for i in range(30)
            ],
            event.created_at,
        )
        uow.commit()
    waiting = pending(sqlite_demo_db, sealed=False)
    assert waiting >= 30
    held = [[object()] for _ in range(1000)]  # the caller's heap
    ledger = _Watching()
    report = push(
        sqlite_demo_db, ledger, batch_size=max(1, waiting // 3), clock=FixedClock(event.created_at)
    )
    assert report.accepted == waiting and report.batches >= 3
    assert ledger.seen and all(frozen >= len(held) and not on for frozen, on in ledger.seen)
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_the_heap_is_frozen_only_inside_and_made_objects_are_still_collected() -> None:
    before = gc.get_freeze_count()
    assert before == 0
    with _heap_frozen():
        assert gc.get_freeze_count() > 0 and not gc.isenabled()
        made = [[] for _ in range(10)]
        assert any(item is made for item in gc.get_objects())  # still the collector's
        cycle: list[Any] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # garbage the push makes can be collected as before
        left: list[Any] = []
        left.append(left)
        gone = weakref.ref(_Cycle(left))
        del left
        assert gone() is not None  # not collected while paused
    assert gone() is None  # collected when the push ends
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_a_frozen_or_disabled_collector_is_left_as_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gc.freeze()  # as the app's start does for good (ui.app.settle)
    calls: list[str] = []
    with monkeypatch.context() as spy:
        # Counted by calls, not by gc.get_freeze_count(): a frozen object freed meanwhile
        # lowers the count (in a long test run the heap frozen here is millions of objects).
        spy.setattr(gc, "freeze", lambda: calls.append("freeze"))
        spy.setattr(gc, "unfreeze", lambda: calls.append("unfreeze"))
        with _heap_frozen():
            pass
    assert calls == []  # neither frozen again nor unfrozen under the app
    assert gc.get_freeze_count() > 0
    gc.unfreeze()
    gc.disable()
    with _heap_frozen():
        assert gc.get_freeze_count() == 0
    assert not gc.isenabled()
