"""The reference ledger on PostgreSQL judges a batch with its reads in one pipeline and its
entries streamed into a COPY while they are judged (``sync.ledger._read_batch_pg``,
``_copy_in``): what it answers and stores must be what the plain statements of a SQLite
ledger answer and store, over several streamed chunks, with known, refused, voided, redeemed
and repeated entries among them; and a batch that fails half-way through its stream must
leave nothing behind."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.models import Event, OutboxEntry, OutboxStatus
from sync import ledger as L
from sync.ledger import ACCEPTED, REJECTED, Account, Ledger, Lot
from sync.push import pending, push
from tests.integration.test_ledger_race import ODD
from tests.outbox_support import put_pending

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
CLOCK = FixedClock(NOW)
CUSTOMERS = 60
DAY = date(2026, 11, 28)


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 7 entries: a batch of a few hundred is streamed in dozens of writes."""
    monkeypatch.setattr(L, "_STREAM_ROWS", 7)


def _ledger(url: str, opened: list[Ledger]) -> Ledger:
    ledger = Ledger.open(url, create=True)
    opened.append(ledger)
    accounts = []
    for i in range(CUSTOMERS):
        lots: tuple[Lot, ...] = (Lot("", 5000),)
        if i % 5 == 0:  # a lot that expires before the event's day, one after, one undated
            lots = (Lot("A", 3000, date(2026, 11, 1)), Lot("B", 3000, date(2026, 12, 31)), *lots)
        accounts.append(
            Account(
                f"62{i:08d}", "客户", "B01", "standard", 5000, "none", {"phone": "1"}, NOW, lots
            )
        )
    ledger.upsert_accounts(accounts)
    return ledger


def _issue(
    serial: int, customer: int, points: int, **extra: Any
) -> tuple[str, str, dict[str, Any]]:
    return (
        f"slip_issued:{serial}",
        "slip_issued",
        {
            "event": "E1",
            "customer_no": f"62{customer:08d}",
            "serial": serial,
            "merchant": "M01",
            "offer": "O1",
            "quantity": 1,
            "points": points,
            "at": "2026-11-28T09:00:00+08:00",
            **extra,
        },
    )


def _first_batch() -> list[tuple[str, str, dict[str, Any]]]:
    return [_issue(serial, serial % CUSTOMERS, 1000) for serial in range(1, 41)]


def _second_batch() -> list[tuple[str, str, dict[str, Any]]]:
    """Known entries again, check-ins, slips that fit and slips that do not, lots named
    (one expired, one not), voids, releases and redemptions of slips from the first batch
    and from this one, governance, mobile banking, a key twice, an unknown account, and the
    characters COPY escapes."""
    entries = _first_batch()[::3]  # answered from the first time
    serial = 100
    for i in range(CUSTOMERS):
        number = f"62{i:08d}"
        entries.append((f"check_in:{i}", "check_in", {"event": "E1", "customer_no": number}))
        for points in (2000, 2500):
            serial += 1
            entries.append(_issue(serial, i, points))
        if i % 5 == 0:
            serial += 1
            entries.append(_issue(serial, i, 100, lots=[{"lot": "A", "points": 100}]))  # expired
            serial += 1
            entries.append(_issue(serial, i, 100, lots=[{"lot": "B", "points": 100}]))
        if i % 3 == 0:
            entries.append(
                (f"slip_voided:{serial}", "slip_voided", {"event": "E1", "serial": serial})
            )
        if i % 7 == 0:
            entries.append(
                (
                    f"slip_released:{serial - 1}",
                    "slip_released",
                    {"event": "E1", "serial": serial - 1},
                )
            )
        if i % 4 == 0:
            entries.append(
                (f"slip_redeemed:{i + 1}", "slip_redeemed", {"event": "E1", "serial": i + 1})
            )
        if i % 11 == 0:
            entries.append(
                (
                    f"governance:{i}",
                    "governance",
                    {"event": "E1", "customer_no": number, "changes": {"phone": f"139{i:08d}"}},
                )
            )
            entries.append(
                (f"mb:{i}", "mobile_banking_opened", {"event": "E1", "customer_no": number})
            )
    entries.append((f"slip_voided:{serial}", "slip_voided", {"event": "E1", "serial": serial}))
    entries.append(("check_in:0", "check_in", {"event": "E1", "customer_no": "6200000000"}))
    entries.append(_issue(9999, 0, 10, customer_no="nobody"))
    entries += [(f"odd:{odd}", "note", {"event": "E1", "text": odd}) for odd in ODD]
    return entries


def _stored(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    """What the ledger holds, without ids and the times it stamped itself."""
    tables = {
        "entries": (L.entry, ("id", "received_at"), L.entry.c.id),
        "slips": (L.slip, ("updated_at",), L.slip.c.serial),
        "lots": (L.lot, (), L.lot.c.customer_no),
        "accounts": (L.account, ("updated_at",), L.account.c.customer_no),
        "governance": (L.governance, ("id", "at"), L.governance.c.id),
    }
    found = {}
    with ledger.engine.connect() as connection:
        for name, (table, skipped, order) in tables.items():
            columns = [c for c in table.c if c.name not in skipped]
            found[name] = [
                tuple(row) for row in connection.execute(select(*columns).order_by(order, *columns))
            ]
    return found


def test_a_batch_streamed_in_chunks_answers_and_stores_what_sqlite_does(
    pg_url: str, tmp_path: Path, opened: list[Ledger]
) -> None:
    pg = _ledger(pg_url, opened)
    lite = _ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}", opened)
    first, second = _first_batch(), _second_batch()
    assert pg.apply(first, DAY) == lite.apply(first, DAY)
    answers = pg.apply(second, DAY)
    assert answers == lite.apply(second, DAY)
    assert len(second) > 40 * L._STREAM_ROWS
    statuses = {o.key: (o.status, o.reason) for o in answers}
    assert statuses["slip_issued:102"] == (ACCEPTED, "")
    assert statuses["slip_issued:104"][0] == REJECTED  # 2,000 + 2,500 + 1,000 > 5,000
    assert statuses["slip_issued:9999"] == (REJECTED, "unknown account")
    assert any("expired" in reason for status, reason in statuses.values())
    assert {"slip_voided", "slip_released", "slip_redeemed"} <= {
        key.split(":")[0] for key, (status, _r) in statuses.items() if status == ACCEPTED
    }
    stored = _stored(pg)
    assert stored == _stored(lite)
    assert len(stored["entries"]) == len({key for key, _kind, _payload in first + second})
    # Pushed again, the batch is answered as before and changes nothing.
    assert pg.apply(second, DAY) == answers
    assert _stored(pg) == stored


def test_a_batch_that_fails_half_way_through_its_stream_leaves_nothing(
    pg_url: str, opened: list[Ledger]
) -> None:
    ledger = _ledger(pg_url, opened)
    entries = _second_batch()
    broken = list(entries)
    # A slip without its points: the judging fails after chunks have been streamed.
    broken[len(broken) // 2] = ("bad", "slip_issued", {"event": "E1", "customer_no": "6200000001"})
    before = _stored(ledger)
    with pytest.raises(KeyError):
        ledger.apply(broken, DAY)
    assert _stored(ledger) == before
    # The same ledger goes on: the whole batch, once.
    answers = ledger.apply(entries, DAY)
    assert len(_stored(ledger)["entries"]) == len({k for k, _kind, _p in entries})
    assert ledger.apply(entries, DAY) == answers


def _event_with_outbox(path: Path, entries: list[tuple[str, str, dict[str, Any]]]) -> Database:
    """An event database whose outbox holds ``entries`` (first of each key), pending."""
    database = open_database(f"sqlite:///{path}")
    with audit.unaudited(), database.unit_of_work() as uow:  # test setup
        event = Event(code="E1", name="e", event_date=DAY, created_at=NOW)
        uow.session.add(event)
        uow.session.flush()
        first: dict[str, tuple[str, str, dict[str, Any]]] = {}
        for entry in entries:
            first.setdefault(entry[0], entry)
        put_pending(uow.session, event.id, first.values(), NOW)
        uow.commit()
    return database


def _outbox(database: Database) -> list[tuple[Any, ...]]:
    with database.unit_of_work() as uow:
        return [
            tuple(row)
            for row in uow.session.execute(
                select(OutboxEntry.idempotency_key, OutboxEntry.status, OutboxEntry.error).order_by(
                    OutboxEntry.id
                )
            )
        ]


def test_a_push_in_overlapping_batches_stores_what_a_sqlite_ledger_does(
    pg_url: str, tmp_path: Path, opened: list[Ledger]
) -> None:
    """Pushed from an outbox in batches of 37 (each read and marked while the ledger's
    server finishes the one before, ``sync.push._send``), the PostgreSQL ledger answers and
    stores what a SQLite ledger pushed the same way does, and a second push changes
    nothing."""
    pg = _ledger(pg_url, opened)
    lite = _ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}", opened)
    entries = _first_batch() + _second_batch()
    to_pg = _event_with_outbox(tmp_path / "a.sqlite3", entries)
    to_lite = _event_with_outbox(tmp_path / "b.sqlite3", entries)
    try:
        pg_report = push(to_pg, pg, batch_size=37, clock=CLOCK)
        lite_report = push(to_lite, lite, batch_size=37, clock=CLOCK)
        assert pg_report == lite_report
        assert pg_report.batches > 5 and pg_report.rejected > 0
        assert pending(to_pg) == 0
        assert _outbox(to_pg) == _outbox(to_lite)
        stored = _stored(pg)
        assert stored == _stored(lite)
        assert len(stored["entries"]) == pg_report.sent
        with audit.unaudited(), to_pg.unit_of_work() as uow:  # as if never marked
            uow.session.execute(update(OutboxEntry).values(status=OutboxStatus.PENDING))
            uow.commit()
        again = push(to_pg, pg, batch_size=37, clock=CLOCK)
        assert (again.accepted, again.rejected) == (pg_report.accepted, pg_report.rejected)
        assert _stored(pg) == stored
    finally:
        to_pg.dispose()
        to_lite.dispose()


def test_batches_applied_without_looking_their_keys_up_store_what_sqlite_does(
    pg_url: str, tmp_path: Path, opened: list[Ledger], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a batch that met no stored key, the next is applied on PostgreSQL without
    looking its keys up (``Ledger.apply``); one that meets a stored key after all is rolled
    back and applied again with them looked up, and the batch after it looks its keys up
    too. Answers and rows are those of a SQLite ledger, which always looks them up."""
    pg = _ledger(pg_url, opened)
    lite = _ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}", opened)
    looked_up: list[bool] = []
    real_read = L._read_batch_pg

    def read(connection: Any, keys: list[str], customers: list[str]) -> Any:
        looked_up.append(bool(keys))
        return real_read(connection, keys, customers)

    monkeypatch.setattr(L, "_read_batch_pg", read)
    first, second = _first_batch(), _second_batch()  # the second repeats some of the first
    fresh = [_issue(serial, serial % CUSTOMERS, 10) for serial in range(500, 540)]
    later = [_issue(serial, serial % CUSTOMERS, 10) for serial in range(600, 640)]
    batches = [first[:20], first[20:], second, fresh, later, first[::2] + later[::5]]
    for batch in batches:
        assert pg.apply(batch, DAY) == lite.apply(batch, DAY)
    # first[:20]: looked up (nothing known yet); first[20:]: taken as new; second: taken as
    # new, met stored keys, looked up; fresh: looked up after that; later: taken as new;
    # the last: taken as new, then looked up.
    assert looked_up == [True, False, False, True, True, False, False, True]
    assert _stored(pg) == _stored(lite)


def test_a_push_stores_the_outbox_texts_which_are_what_the_ledger_writes_itself(
    pg_url: str, tmp_path: Path, opened: list[Ledger]
) -> None:
    """The push hands the ledger its outbox's payload texts (``Ledger.apply``'s ``texts``)
    instead of having every payload encoded again: stored byte for byte as the outbox holds
    them, and the same as the ledger's own encoding of the payloads (a SQLite ledger given
    the entries without texts), the characters COPY escapes, 中文 and 𫖯 among them."""
    pg = _ledger(pg_url, opened)
    lite = _ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}", opened)
    entries = _first_batch() + _second_batch()
    database = _event_with_outbox(tmp_path / "a.sqlite3", entries)
    try:
        push(database, pg, batch_size=37, clock=CLOCK)
        with database.unit_of_work() as uow:
            outbox = dict(
                uow.session.execute(select(OutboxEntry.idempotency_key, OutboxEntry.payload)).all()
            )
    finally:
        database.dispose()
    first: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for entry in entries:
        first.setdefault(entry[0], entry)
    lite.apply(list(first.values()), DAY)
    stored = {}
    for ledger in (pg, lite):
        with ledger.engine.connect() as connection:
            stored[ledger] = dict(
                connection.execute(select(L.entry.c.idempotency_key, L.entry.c.payload)).all()
            )
    assert stored[pg] == outbox
    assert stored[lite] == outbox
    assert any("𫖯" in text for text in outbox.values())
    assert all(text == audit.canonical_json(json.loads(text)) for text in outbox.values())


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_payload_texts_handed_over_are_stored_as_they_are(
    backend: str, pg_url: str, tmp_path: Path, opened: list[Ledger]
) -> None:
    """``texts`` are stored as given (not encoded again): an entry without one is encoded,
    and a batch whose texts do not match its entries in number is refused before anything
    is applied."""
    url = pg_url if backend == "postgresql" else f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    ledger = _ledger(url, opened)
    given = _issue(1, 1, 100)
    encoded = _issue(2, 2, 100)
    spaced = json.dumps(given[2], sort_keys=True, ensure_ascii=False)  # ", " and ": "
    assert spaced != audit.canonical_json(given[2])
    answers = ledger.apply([given, encoded], DAY, texts=[spaced, None])
    assert [o.status for o in answers] == [ACCEPTED, ACCEPTED]
    with ledger.engine.connect() as connection:
        payloads = dict(
            connection.execute(select(L.entry.c.idempotency_key, L.entry.c.payload)).all()
        )
    assert payloads == {given[0]: spaced, encoded[0]: audit.canonical_json(encoded[2])}
    with pytest.raises(ValueError, match="1 payload texts for 2 entries"):
        ledger.apply([_issue(3, 3, 100), _issue(4, 4, 100)], DAY, texts=[None])
    assert ledger.slip_status("E1", 3) is None
