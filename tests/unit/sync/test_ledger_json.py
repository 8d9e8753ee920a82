"""The push's fast paths say exactly what the general ones said (issue #23): the lots a slip
took as ``json.dumps`` wrote them, keys sent to PostgreSQL as one ``text[]`` literal that reads
back as the same strings, and the kiosk's outbox marked only where the ledger answered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.models import Event, OutboxEntry, OutboxStatus
from kiosk.services.ledger_push import RUN, Refused, _runs, record_push
from sync.ledger import Ledger, _canonical, _lots_json, _text_array
from sync.push import _texts, pending, push
from tests.outbox_support import put_pending

CLOCK = FixedClock(datetime(2026, 11, 28, 11, 0, tzinfo=UTC))
AWKWARD = ["", "1", "L2026-01", 'a"b', "a\\b", "a,b", "{x}", " x ", "NULL", "中文", "𫖯", "it's"]


@pytest.mark.parametrize(
    "taken",
    [
        [],
        [("", 500)],
        [("1", 100), ("L2026-01", 20)],
        [(ref, n) for n, ref in enumerate(AWKWARD)],
    ],
)
def test_lots_json_is_what_json_dumps_wrote(taken: list[tuple[str, int]]) -> None:
    expected = json.dumps([{"lot": ref, "points": n} for ref, n in taken], sort_keys=True)
    assert _lots_json(taken) == expected


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"event": "E1", "customer_no": "62000001", "serial": 7, "points": 2000, "tier": None},
        {"lots": [{"lot": ref, "points": n} for n, ref in enumerate(AWKWARD)], "b": True},
        {"changes": {"name": "单𫖯", "phone": None, "note": 'a"b\\c\nd\te\u2028\x01'}},
        {"z": [1.5, -0.0, 1e-7, 2**53, -(2**63)], "a": {"y": [], "x": {"w": False}}},
    ],
)
def test_payloads_are_stored_as_the_outbox_writes_them(payload: dict[str, Any]) -> None:
    """The kept C encoder writes exactly ``kiosk.audit.canonical_json`` (``json.dumps``
    sorted, not ASCII-escaped, without spaces): the text a push hands over from the outbox
    is what the ledger would have written itself."""
    assert _canonical(payload) == audit.canonical_json(payload)
    assert _canonical(payload) == json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


def test_the_push_hands_over_the_texts_of_unsealed_payloads_only() -> None:
    """A sealed entry's payload reaches the ledger opened, so its outbox text is not it."""
    rows = [
        (1, "k1", "check_in", '{"event":"E1"}', False),
        (2, "k2", "governance", '{"sealed_changes":"x"}', True),
        (3, "k3", "check_in", '{"event":"E2"}', 0),  # SQLite's driver gives 0 and 1
        (4, "k4", "governance", '{"sealed_changes":"y"}', 1),
    ]
    assert _texts(rows) == ['{"event":"E1"}', None, '{"event":"E2"}', None]


@pytest.mark.pg
def test_a_text_array_literal_reads_back_as_the_strings(pg_url: str) -> None:
    import psycopg

    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as connection:
        for values in ([], [""], ["one"], AWKWARD, [f"k{i}" for i in range(5000)]):
            got = connection.execute("SELECT %s::text[]", (_text_array(values),)).fetchone()
            assert got is not None
            assert got[0] == values


@pytest.mark.parametrize(
    "values",
    [[], [""], ["one"], ["a", "b"], AWKWARD, [f"k{i}" for i in range(50)], ["a", 'b"c', "d"]],
)
def test_a_text_array_literal_joined_at_once_is_the_one_escaped_value_by_value(
    values: list[str],
) -> None:
    """The literal built in one join (no value with a quote or backslash) is exactly the one
    built by escaping every value, and one that needs escaping is escaped."""
    escaped = (
        "{"
        + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
        + "}"
    )
    assert _text_array(values) == escaped


def test_a_single_run_is_seen_from_its_ends() -> None:
    ids = list(range(500, 500 + 5 * RUN))
    assert _runs(list(reversed(ids))) == ([(500, 499 + 5 * RUN)], [])
    # As many ids as the span, but one repeated: not one run (a gap where 500 + RUN was).
    gappy = [i for i in ids if i != 500 + RUN] + [500]
    runs, scattered = _runs(gappy)
    named = {i for low, high in runs for i in range(low, high + 1)} | set(scattered)
    assert named == set(gappy)


def test_runs_name_exactly_the_ids() -> None:
    ids = [*range(100, 100 + RUN), 7, 9, *range(300, 300 + 3 * RUN), 299 + 5 * RUN]
    runs, scattered = _runs(list(reversed(ids)))
    named = {i for low, high in runs for i in range(low, high + 1)} | set(scattered)
    assert named == set(ids)
    assert runs == [(100, 99 + RUN), (300, 299 + 3 * RUN)]
    assert scattered == [7, 9, 299 + 5 * RUN]


@pytest.fixture
def outbox(empty_url: str) -> Iterator[tuple[Database, list[int]]]:
    database = open_database(empty_url)
    now = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)
    with audit.unaudited(), database.unit_of_work() as uow:  # test setup
        event = Event(code="E1", name="e", event_date=now.date(), created_at=now)
        uow.session.add(event)
        uow.session.flush()
        put_pending(uow.session, event.id, [(f"k{i}", "check_in", {}) for i in range(4 * RUN)], now)
        ids = list(uow.session.scalars(select(OutboxEntry.id).order_by(OutboxEntry.id)))
        uow.commit()
    yield database, ids
    database.dispose()


def _statuses(database: Database) -> dict[int, str]:
    with database.unit_of_work() as uow:
        return dict(uow.session.execute(select(OutboxEntry.id, OutboxEntry.status)).all())


def test_record_push_marks_only_the_answered_entries(outbox: tuple[Database, list[int]]) -> None:
    database, ids = outbox
    # One entry inside the run was settled by an earlier push: it keeps its status.
    record_push(database.unit_of_work(), [], [Refused(ids[5], "earlier")], clock=CLOCK)
    accepted = ids[: 2 * RUN] + ids[2 * RUN + 1 : 2 * RUN + 4]  # a run, then three scattered
    record_push(
        database.unit_of_work(), accepted, [Refused(ids[-1], "unknown account")], clock=CLOCK
    )
    statuses = _statuses(database)
    for entry_id in ids:
        if entry_id == ids[5]:
            expected = OutboxStatus.REJECTED
        elif entry_id in accepted:
            expected = OutboxStatus.ACCEPTED
        elif entry_id == ids[-1]:
            expected = OutboxStatus.REJECTED
        else:
            expected = OutboxStatus.PENDING
        assert statuses[entry_id] == expected, entry_id


@pytest.mark.parametrize("where", ["memory", "file"])
def test_a_push_in_small_batches_sends_everything_once_in_order(
    outbox: tuple[Database, list[int]], tmp_path: Path, where: str
) -> None:
    """Batches overlap with the marking of the one before (a worker thread; in this thread for
    an in-memory ledger, which a thread would not see): all sent once, in id order, and
    ``max_batches`` still stops after that many."""
    database, ids = outbox
    url = "sqlite://" if where == "memory" else f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    ledger = Ledger.open(url, create=True)
    sent: list[str] = []
    real_apply = ledger.apply

    def apply(entries: Any, today: Any = None) -> Any:
        sent.extend(key for key, _kind, _payload in entries)
        return real_apply(entries, today)

    ledger.apply = apply  # type: ignore[method-assign]
    first = push(database, ledger, batch_size=7, max_batches=2, clock=CLOCK)
    assert (first.sent, first.batches, pending(database)) == (14, 2, len(ids) - 14)
    rest = push(database, ledger, batch_size=7, clock=CLOCK)
    assert rest.accepted == len(ids) - 14 and pending(database) == 0
    assert sent == [f"k{i}" for i in range(len(ids))]
    assert ledger.totals()["accepted"] == len(ids)
    ledger.dispose()
