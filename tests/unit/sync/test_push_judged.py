"""The push reads its next batch only once the reference ledger has judged the batch in
flight (``sync.push._send``, ``Ledger.apply``'s ``judged``): the two share one interpreter,
and the kiosk's reading done while the ledger judged only lengthened the batch. It marks
the last batch once the next is judged too (the marking is the event database's work, but
done while the ledger judged it took a core the judging and the ledger's server needed). What
is sent, stored and marked is the same; a batch whose ledger transaction fails after it was
judged stores nothing and stays pending."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import sync.push as push_module
from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.models import Event, OutboxEntry
from sync import ledger as L
from sync.ledger import Account, Ledger
from sync.push import pending, push
from tests.outbox_support import put_pending

CLOCK = FixedClock(datetime(2026, 11, 28, 11, 0, tzinfo=UTC))
NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
CUSTOMERS = 9
ENTRIES = 40  # batches of 7: five full ones and one of 5


@pytest.fixture
def outbox(empty_url: str) -> Iterator[Database]:
    database = open_database(empty_url)
    with audit.unaudited(), database.unit_of_work() as uow:  # test setup
        event = Event(code="E1", name="e", event_date=NOW.date(), created_at=NOW)
        uow.session.add(event)
        uow.session.flush()
        rows: list[tuple[str, str, dict[str, Any]]] = []
        for i in range(ENTRIES):
            number = f"62{i % CUSTOMERS:08d}"
            if i % 4 == 0:
                kind, payload = "check_in", {"event": "E1", "customer_no": number}
            else:
                kind = "slip_issued"
                payload = {
                    "event": "E1",
                    "customer_no": number,
                    "serial": i,
                    "merchant": "M01",
                    "offer": "O1",
                    "quantity": 1,
                    "points": 100,
                }
            rows.append((f"{kind}:{i}", kind, payload))
        put_pending(uow.session, event.id, rows, NOW)
        uow.commit()
    yield database
    database.dispose()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """A ledger in a file: the push applies its batches in its worker thread."""
    opened = Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}", create=True)
    opened.upsert_accounts(
        Account(f"62{i:08d}", "客户", "B01", "standard", 10_000, "none", {}, NOW)
        for i in range(CUSTOMERS)
    )
    yield opened
    opened.dispose()


def _spied(monkeypatch: pytest.MonkeyPatch, fail_batch: int | None = None) -> list[Any]:
    """What happened, in order: ("judged", batch's first key), ("read", after id),
    ("marked", ids). ``fail_batch``: that batch's transaction fails right after judging."""
    log: list[Any] = []
    real_apply_once = Ledger._apply_once
    applied = [0]

    def apply_once(
        self: Ledger,
        entries: Any,
        today: date | None,
        judged: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> Any:
        applied[0] += 1
        number = applied[0]

        def said() -> None:
            log.append(("judged", entries[0][0]))
            assert judged is not None
            judged()
            if number == fail_batch:
                raise RuntimeError("the ledger's server went away")

        return real_apply_once(self, entries, today, said, **kwargs)

    real_read = push_module._pending_batch
    real_record = push_module.record_push

    def read(database: Database, batch_size: int, opener: Any, *, after: int) -> Any:
        log.append(("read", after))
        return real_read(database, batch_size, opener, after=after)

    def record(uow: Any, accepted: Any, refused: Any, **kwargs: Any) -> None:
        log.append(("marked", sorted(accepted) + sorted(r.entry_id for r in refused)))
        real_record(uow, accepted, refused, **kwargs)

    monkeypatch.setattr(Ledger, "_apply_once", apply_once)
    monkeypatch.setattr(push_module, "_pending_batch", read)
    monkeypatch.setattr(push_module, "record_push", record)
    return log


def _ids(database: Database) -> list[int]:
    with database.unit_of_work() as uow:
        return list(uow.session.scalars(select(OutboxEntry.id).order_by(OutboxEntry.id)))


def test_the_kiosk_reads_once_the_batch_in_flight_is_judged_and_marks_once_the_next_is_judged(
    outbox: Database, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _spied(monkeypatch)
    report = push(outbox, ledger, batch_size=7, clock=CLOCK)
    ids = _ids(outbox)
    assert (report.sent, report.accepted, report.batches) == (ENTRIES, ENTRIES, 6)
    assert pending(outbox) == 0
    batches = [ids[start : start + 7] for start in range(0, ENTRIES, 7)]
    judged = [i for i, event in enumerate(log) if event[0] == "judged"]
    assert len(judged) == len(batches)
    # The first batch is read before anything is in flight; every later read waits for the
    # batch in flight (the one before it) to be judged.
    reads = [i for i, event in enumerate(log) if event[0] == "read"]
    assert reads[0] < judged[0]
    for n, at in enumerate(reads[1:]):
        assert judged[n] < at, log
    # Batch N is marked from its own answer once batch N+1 is read, sent and judged (not
    # while the ledger judges it), before the batch after that is read; each exactly once
    # and in order.
    marks = [(i, event[1]) for i, event in enumerate(log) if event[0] == "marked"]
    assert [marked for _i, marked in marks] == batches
    for n, (at, _marked) in enumerate(marks):
        assert judged[n] < at, log
        if n + 1 < len(judged):
            assert judged[n + 1] < at, log
        if n + 1 < len(reads):
            assert reads[n + 1] < at, log
        if n + 2 < len(reads):
            assert at < reads[n + 2], log
    with ledger.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(L.entry)) == ENTRIES
    # Pushed again: nothing pending, nothing sent, nothing stored twice.
    again = push(outbox, ledger, batch_size=7, clock=CLOCK)
    assert again.sent == 0 and ledger.totals()["accepted"] == ENTRIES


def test_a_batch_that_fails_after_it_was_judged_stores_nothing_and_stays_pending(
    outbox: Database, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _spied(monkeypatch, fail_batch=2)
    with pytest.raises(RuntimeError):
        push(outbox, ledger, batch_size=7, clock=CLOCK)
    ids = _ids(outbox)
    # The first batch was answered and marked (once the second was sent); the second stored
    # nothing and is pending with everything after it.
    assert [event[1] for event in log if event[0] == "marked"] == [ids[:7]]
    assert pending(outbox) == ENTRIES - 7
    with ledger.engine.connect() as connection:
        keys = set(connection.scalars(select(L.entry.c.idempotency_key)))
    with outbox.unit_of_work() as uow:
        first_keys = set(
            uow.session.scalars(
                select(OutboxEntry.idempotency_key).where(OutboxEntry.id.in_(ids[:7]))
            )
        )
    assert keys == first_keys
    # The next push sends the rest, once.
    monkeypatch.undo()
    report = push(outbox, ledger, batch_size=7, clock=CLOCK)
    assert (report.sent, report.accepted) == (ENTRIES - 7, ENTRIES - 7)
    assert pending(outbox) == 0 and ledger.totals()["accepted"] == ENTRIES
