"""The reference ledger on PostgreSQL: two pushes of the same entries at once, and the rows
its COPY writes stored exactly as SQLite's inserts store them."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from sync import ledger as L
from sync.ledger import ACCEPTED, REJECTED, Account, Ledger, Outcome

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
CUSTOMERS = 40


def _ledger(url: str, opened: list[Ledger]) -> Ledger:
    ledger = Ledger.open(url, create=True)
    opened.append(ledger)
    ledger.upsert_accounts(
        Account(f"62{i:08d}", "客户", "B01", "standard", 5000, "active", {}, NOW)
        for i in range(CUSTOMERS)
    )
    return ledger


def _entries() -> list[tuple[str, str, dict[str, Any]]]:
    """Check-ins, three slips of 2,000 points per customer (the third cannot be covered by
    5,000: rejected), a void, and checkpoints that name no account (no lock covers them)."""
    entries: list[tuple[str, str, dict[str, Any]]] = []
    serial = 0
    for i in range(CUSTOMERS):
        number = f"62{i:08d}"
        entries.append((f"check_in:{i}", "check_in", {"event": "E1", "customer_no": number}))
        for offer in range(3):
            serial += 1
            entries.append(
                (
                    f"slip_issued:{serial}",
                    "slip_issued",
                    {
                        "event": "E1",
                        "customer_no": number,
                        "serial": serial,
                        "merchant": "M01",
                        "offer": f"O{offer}",
                        "quantity": 1,
                        "points": 2000,
                    },
                )
            )
        if i % 4 == 0:
            entries.append(
                (f"slip_voided:{serial - 2}", "slip_voided", {"event": "E1", "serial": serial - 2})
            )
        entries.append((f"audit_checkpoint:{i}", "audit_checkpoint", {"event": "E1", "seq": i}))
    return entries


def _waiting_on_locks(admin: psycopg.Connection[Any], database: str) -> int:
    return int(
        admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            (database,),
        ).fetchone()[0]  # type: ignore[index]
    )


@pytest.mark.parametrize("chunk", [L._STREAM_ROWS, 7])
def test_two_pushes_of_the_same_entries_at_once_store_each_once(
    pg_url: str, opened: list[Ledger], chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both pushes read the keys as absent, then wait on an account lock held elsewhere; let
    go together, the second to write meets the first's keys. Each push must still answer
    every entry, both the same way, and the ledger hold each entry once, applied once. With
    chunks of 7 the second meets the first's keys part-way through its streamed COPY."""
    monkeypatch.setattr(L, "_STREAM_ROWS", chunk)
    first, second = _ledger(pg_url, opened), Ledger.open(pg_url)
    opened.append(second)
    entries = _entries()
    database = pg_url.rsplit("/", 1)[1]
    answers: dict[str, list[Outcome]] = {}
    errors: list[BaseException] = []

    def run(name: str, ledger: Ledger) -> None:
        try:
            answers[name] = ledger.apply(entries)
        except BaseException as error:  # the test reports it below
            errors.append(error)

    with psycopg.connect(pg_url, autocommit=True) as admin, psycopg.connect(pg_url) as holder:
        # The first account in lock order: both pushes stop there, after reading the keys.
        holder.execute(
            "SELECT customer_no FROM ledger_account WHERE customer_no = %s FOR UPDATE",
            ("6200000000",),
        )
        threads = [
            threading.Thread(target=run, args=("a", first)),
            threading.Thread(target=run, args=("b", second)),
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while _waiting_on_locks(admin, database) < 2:
            assert time.monotonic() < deadline, "the two pushes never both waited on the lock"
            assert not errors, errors
            time.sleep(0.02)
        holder.commit()  # let both go
        for thread in threads:
            thread.join(60)
    assert not errors, errors
    assert answers["a"] == answers["b"]
    outcomes = answers["a"]
    assert [o.key for o in outcomes] == [key for key, _kind, _payload in entries]
    statuses = {o.key: o.status for o in outcomes}
    assert statuses["slip_issued:3"] == REJECTED  # 5,000 covers two slips of 2,000, not three
    assert statuses["slip_issued:2"] == ACCEPTED
    assert statuses["slip_voided:1"] == ACCEPTED
    with first.engine.connect() as connection:
        keys = list(connection.scalars(select(L.entry.c.idempotency_key)))
        slips = connection.execute(select(L.slip.c.serial, L.slip.c.status)).all()
    assert sorted(keys) == sorted(key for key, _kind, _payload in entries)
    assert len(slips) == 2 * CUSTOMERS
    voided = (CUSTOMERS + 3) // 4
    totals = first.totals()
    assert totals["accepted"] == len(entries) - CUSTOMERS
    assert totals["rejected"] == CUSTOMERS
    # Every customer spent 4,000 once; every fourth got one slip's 2,000 back once.
    assert totals["balance"] == CUSTOMERS * 1000 + voided * 2000
    assert totals["debited"] == CUSTOMERS * 4000
    assert totals["credited"] == voided * 2000
    # Pushed a third time, the entries are answered as before and change nothing.
    assert first.apply(entries) == outcomes
    assert first.totals() == totals


ODD = [
    "tab\there",
    "line\nbreak",
    "carriage\rreturn",
    "back\\slash",
    "\\N",
    "\\.",
    "",
    "中文姓名 𫖯",
    'quote " and \u2028',
]


def _odd_entries() -> list[tuple[str, str, dict[str, Any]]]:
    """Entries whose keys, kinds, customer numbers and payloads hold every character COPY's
    text format escapes, and values that look like its NULL and end marker."""
    entries: list[tuple[str, str, dict[str, Any]]] = []
    for i, odd in enumerate(ODD):
        entries.append((f"k{i}:{odd}", "check_in", {"event": "E1", "customer_no": odd, "x": odd}))
        entries.append((f"m{i}", f"note:{odd}", {"event": "E1", "text": odd, "n": [i, None]}))
    entries.append(("no-customer", "audit_checkpoint", {"event": "E1"}))
    entries.append(  # refused with a reason; an unknown account
        (
            "slip\t1",
            "slip_issued",
            {
                "event": "E1",
                "customer_no": "nobody\\",
                "serial": 1,
                "merchant": "M01",
                "offer": "O1",
                "quantity": 1,
                "points": 5,
            },
        )
    )
    return entries


def test_rows_written_by_copy_read_back_as_sqlite_stores_them(
    pg_url: str, tmp_path: Path, opened: list[Ledger]
) -> None:
    pg = _ledger(pg_url, opened)
    lite = _ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}", opened)
    entries = _odd_entries()
    assert pg.apply(entries) == lite.apply(entries)
    columns = [c for c in L.entry.c if c.name not in ("id", "received_at")]

    def rows(ledger: Ledger) -> list[tuple[Any, ...]]:
        with ledger.engine.connect() as connection:
            return [
                tuple(row) for row in connection.execute(select(*columns).order_by(L.entry.c.id))
            ]

    stored = rows(pg)
    assert stored == rows(lite)
    assert [row[0] for row in stored] == [key for key, _kind, _payload in entries]
    assert {row[2] for row in stored} >= set(ODD)
    assert stored[-1][5] == "unknown account"


def test_copy_text_escapes_only_when_it_must() -> None:
    plain = [("a", 1, None, NOW), ("b", -2, "x", NOW)]
    assert L._copy_text(plain) == (f"a\t1\t\\N\t{NOW.isoformat()}\nb\t-2\tx\t{NOW.isoformat()}\n")
    assert L._copy_text([("a\tb", None, "c\\d\ne\rf")]) == "a\\tb\t\\N\tc\\\\d\\ne\\rf\n"
    # A NUL in a value is not taken for a None: it reaches the server, which refuses it.
    assert L._copy_text([("a\x00", None)]) == "a\x00\t\\N\n"
    with pytest.raises(ValueError):
        L._copy_text([(datetime(2026, 1, 1),)])
    with pytest.raises(TypeError):  # True would otherwise be written as a memoised 1
        L._copy_text([(1,), (True,)])
    with pytest.raises(TypeError):
        L._copy_text([(1.5,)])
    assert L._copy_text([]) == ""


def test_entry_copy_text_writes_what_copy_text_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """``_entry_copy_text`` (the entries' COPY in ``Ledger.apply``) writes exactly
    ``_copy_text``'s text: itself for plain rows, through ``_copy_text`` for any row it does
    not know how to write or whose values need escaping."""
    payload = '{"customer_no": "6200000001", "event": "E1", "points": 5}'
    plain = [
        ("slip_issued:1", "slip_issued", "6200000001", -5, ACCEPTED, None, payload, NOW),
        ("check_in:1", "check_in", None, 0, ACCEPTED, None, "{}", NOW),
        ("slip_issued:2", "slip_issued", "6200000002", 0, REJECTED, "insufficient", payload, NOW),
    ]
    expected = L._copy_text(plain)
    used: list[int] = []
    real = L._copy_text

    def counted(rows: Any) -> str:
        used.append(len(rows))
        return real(rows)

    monkeypatch.setattr(L, "_copy_text", counted)
    assert L._entry_copy_text(plain) == expected and used == []  # written by itself
    assert L._entry_copy_text([]) == ""
    row = plain[0]
    variants = [
        *[(*row[:i], odd, *row[i + 1 :]) for i in (0, 1, 2, 4, 5, 6) for odd in ODD],
        (*row[:2], 7, *row[3:]),  # a customer number that is not text
        (*row[:3], -5, *row[4:7], datetime(2026, 11, 28, 8, 0, tzinfo=UTC)),  # another time
        (*row[:6], "a\x00b", *row[7:]),
    ]
    for variant in variants:
        rows = [*plain, variant]
        assert L._entry_copy_text(rows) == real(rows), variant
    for bad in ((*row[:2], True, *row[3:]), (*row[:3], 1.5, *row[4:])):
        with pytest.raises(TypeError):
            L._entry_copy_text([*plain, bad])
    with pytest.raises(ValueError):  # a naive time, as _copy_text refuses it
        L._entry_copy_text([(*row[:7], datetime(2026, 1, 1))])


def test_a_slip_voided_and_redeemed_at_once_is_given_back_or_redeemed_not_both(
    pg_url: str, opened: list[Ledger]
) -> None:
    """Two pushes at once: one voids a slip (its points go back to the customer), the other
    redeems it. The void has judged the slip issued and holds its transaction open; the
    redemption must then wait, and once the void commits read the slip as voided and be
    refused, not redeem a slip whose points were given back."""
    first = Ledger.open(pg_url, create=True)
    opened.append(first)
    second = Ledger.open(pg_url)
    opened.append(second)
    first.upsert_accounts(
        [Account("6200000001", "客户", "B01", "standard", 5000, "active", {}, NOW)]
    )
    issued = {
        "event": "E1",
        "customer_no": "6200000001",
        "serial": 1,
        "merchant": "M01",
        "offer": "O1",
        "quantity": 1,
        "points": 2000,
    }
    assert first.apply([("slip_issued:1", "slip_issued", issued)])[0].status == ACCEPTED
    database = pg_url.rsplit("/", 1)[1]
    judged, go_on = threading.Event(), threading.Event()
    answers: dict[str, list[Outcome]] = {}
    errors: list[BaseException] = []

    def hold() -> None:  # the void has judged the slip: keep its transaction open a moment
        judged.set()
        assert go_on.wait(30)

    def run(name: str, ledger: Ledger, entry: tuple[str, str, dict[str, Any]], **kw: Any) -> None:
        try:
            answers[name] = ledger.apply([entry], **kw)
        except BaseException as error:  # the test reports it below
            errors.append(error)

    void = ("slip_voided:1", "slip_voided", {"event": "E1", "serial": 1})
    redeem = ("slip_redeemed:1", "slip_redeemed", {"event": "E1", "serial": 1, "merchant": "M01"})
    voiding = threading.Thread(target=run, args=("void", first, void), kwargs={"judged": hold})
    voiding.start()
    assert judged.wait(30), errors
    redeeming = threading.Thread(target=run, args=("redeem", second, redeem))
    redeeming.start()
    with psycopg.connect(pg_url, autocommit=True) as admin:
        deadline = time.monotonic() + 30
        while _waiting_on_locks(admin, database) < 1:
            assert time.monotonic() < deadline, "the redemption never waited for the void"
            assert not errors, errors
            time.sleep(0.02)
    go_on.set()
    voiding.join(60)
    redeeming.join(60)
    assert not errors, errors
    assert answers["void"][0].status == ACCEPTED
    assert (answers["redeem"][0].status, answers["redeem"][0].reason) == (
        REJECTED,
        "slip is voided",
    )
    with first.engine.connect() as connection:
        assert connection.execute(select(L.slip.c.status)).scalars().all() == ["voided"]
    totals = first.totals()
    assert totals["balance"] == 5000  # the 2,000 given back, nothing spent
