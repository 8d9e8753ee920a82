"""The reference ledger holds points in lots (SQLite and PostgreSQL): a slip's debit takes the
lots the kiosk named, or the ones that expire first when an older kiosk named none; a void or a
release credits the same lots back, even one expired since; a named lot that is unknown,
expired or short is refused with its reason and nothing is applied."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import text

from kiosk.db import create_db_engine
from sync import ledger as L
from sync.ledger import ACCEPTED, REJECTED, SCHEMA_VERSION, Account, Ledger, Lot

EVENT = "E2026"
DAY = date(2026, 11, 28)
AT = "2026-11-28T01:10:00+00:00"  # 09:10 at the bank: the entries' day is DAY
SEEDED = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture
def ledger(any_empty_url: str) -> Iterator[Ledger]:
    opened = Ledger.open(any_empty_url, create=True)
    opened.upsert_accounts(
        [
            _account(
                "C1",
                Lot("1", 700, date(2026, 11, 27)),  # expired the day before the event
                Lot("2", 500, date(2027, 1, 31)),
                Lot("3", 4_000, date(2026, 12, 31)),
                Lot("4", 10_000, None),
                aum=600_000,
            ),
            _account("C2", balance=9_000),  # a plain balance: one lot "" without expiry
        ]
    )
    yield opened
    opened.dispose()


def _account(no: str, *lots: Lot, balance: int = 0, aum: int | None = None) -> Account:
    return Account(no, "客户" + no, "B01", "standard", balance, "active", {}, SEEDED, lots, aum)


def _lots(ledger: Ledger, no: str, today: date = DAY) -> dict[str, int]:
    (account,) = ledger.accounts([no], today)
    return {lot.ref: lot.points for lot in account.lots}


def _issued(serial: int, points: int, lots: list[tuple[str, int]] | None, no: str = "C1") -> Any:
    payload: dict[str, Any] = {
        "event": EVENT,
        "customer_no": no,
        "serial": serial,
        "merchant": "M01",
        "offer": "O501",
        "quantity": 1,
        "points": points,
        "tier": None,
        "at": AT,
    }
    if lots is not None:
        payload["lots"] = [{"lot": ref, "points": n} for ref, n in lots]
    return (f"slip_issued:{serial:032x}", "slip_issued", payload)


def _given_back(kind: str, serial: int, points: int, at: str = AT) -> Any:
    payload = {"event": EVENT, "serial": serial, "points": points, "at": at}
    return (f"{kind}:{serial:032x}", kind, payload)


def test_accounts_carry_their_lots_aum_and_the_unexpired_balance(ledger: Ledger) -> None:
    c1, c2 = sorted(ledger.accounts(["C1", "C2"], DAY), key=lambda a: a.customer_no)
    # FIFO order: expiring first (the expired one too, flagged by its date), undated last.
    assert c1.lots == (
        Lot("1", 700, date(2026, 11, 27)),
        Lot("3", 4_000, date(2026, 12, 31)),
        Lot("2", 500, date(2027, 1, 31)),
        Lot("4", 10_000, None),
    )
    assert (c1.balance, c1.aum) == (14_500, 600_000)  # lot 1 has expired on DAY
    assert ledger.accounts(["C1"], date(2027, 1, 1))[0].balance == 10_500
    assert (c2.lots, c2.balance, c2.aum) == ((Lot("", 9_000),), 9_000, None)
    assert ledger.points_stock(DAY) == 14_500 + 9_000
    assert ledger.points_stock(date(2027, 2, 1)) == 10_000 + 9_000
    # Seeded again without lot 3: it stays, at 0 (a slip may still name it).
    ledger.upsert_accounts([_account("C1", Lot("4", 12_000, None), aum=700_000)])
    assert _lots(ledger, "C1") == {"1": 0, "3": 0, "2": 0, "4": 12_000}
    assert ledger.accounts(["C1"], DAY)[0].aum == 700_000


def test_a_slip_debits_the_named_lots_and_a_void_credits_them_back(ledger: Ledger) -> None:
    outcomes = ledger.apply([_issued(1, 2_500, [("3", 2_000), ("2", 500)])])
    assert [o.status for o in outcomes] == [ACCEPTED]
    assert _lots(ledger, "C1") == {"1": 700, "3": 2_000, "2": 0, "4": 10_000}
    assert ledger.slip_lots(EVENT, 1) == [("3", 2_000), ("2", 500)]
    assert ledger.totals()["debited"] == 2_500
    # Voided after lot 3 has expired: the points go back to it all the same.
    ledger.apply([_given_back("slip_voided", 1, 2_500, at="2027-01-05T02:00:00+00:00")])
    assert _lots(ledger, "C1") == {"1": 700, "3": 4_000, "2": 500, "4": 10_000}
    assert ledger.accounts(["C1"], date(2027, 1, 5))[0].balance == 10_500
    assert ledger.slip_status(EVENT, 1) == "voided"


def test_issue_and_release_in_one_batch_and_sent_again(ledger: Ledger) -> None:
    batch = [
        _issued(1, 4_500, [("3", 4_000), ("2", 500)]),
        _issued(2, 3_000, [("4", 3_000)]),
        _given_back("slip_released", 1, 4_500),
    ]
    assert [o.status for o in ledger.apply(batch)] == [ACCEPTED] * 3
    after = _lots(ledger, "C1")
    assert after == {"1": 700, "3": 4_000, "2": 500, "4": 7_000}
    # The same entries again (a push cut off before the kiosk marked them): nothing moves.
    assert [o.status for o in ledger.apply(batch)] == [ACCEPTED] * 3
    assert _lots(ledger, "C1") == after
    assert ledger.totals()["accepted"] == 3


@pytest.mark.parametrize(
    ("lots", "reason"),
    [
        ([("2", 800)], "lot 2 insufficient: 500 < 800"),
        ([("9", 800)], "unknown lot 9"),
        ([("1", 500), ("2", 300)], "lot 1 expired on 2026-11-27"),
        ([("", 800)], 'unknown lot ""'),
        ([("4", 700)], "lots add up to 700, not 800"),
    ],
)
def test_a_named_lot_that_cannot_pay_is_rejected_and_never_applied(
    ledger: Ledger, lots: list[tuple[str, int]], reason: str
) -> None:
    before = _lots(ledger, "C1")
    entry = _issued(1, 800, lots)
    (outcome,) = ledger.apply([entry])
    assert (outcome.status, outcome.reason) == (REJECTED, reason)
    assert _lots(ledger, "C1") == before
    assert ledger.slip_status(EVENT, 1) is None
    # Its void has no slip to give back to; sent again, the debit is answered the same.
    (void,) = ledger.apply([_given_back("slip_voided", 1, 800)])
    assert void.status == REJECTED and void.reason.startswith("unknown slip")
    assert ledger.apply([entry]) == [outcome]
    assert _lots(ledger, "C1") == before
    totals = ledger.totals()
    assert (totals["rejected"], totals["debited"], totals["credited"]) == (2, 0, 0)


def test_an_entry_without_lots_is_debited_by_expiry(ledger: Ledger) -> None:
    """An older kiosk sends no lots: the ledger takes the lots that expire first on the entry's
    day (the expired one skipped, the undated one last) and remembers them for the void."""
    (outcome,) = ledger.apply([_issued(1, 6_000, None)])
    assert outcome.status == ACCEPTED
    assert ledger.slip_lots(EVENT, 1) == [("3", 4_000), ("2", 500), ("4", 1_500)]
    assert _lots(ledger, "C1") == {"1": 700, "3": 0, "2": 0, "4": 8_500}
    (short,) = ledger.apply([_issued(2, 9_000, None)])
    assert (short.status, short.reason) == (REJECTED, "insufficient balance: 8500 < 9000")
    ledger.apply([_given_back("slip_voided", 1, 6_000)])
    assert _lots(ledger, "C1") == {"1": 700, "3": 4_000, "2": 500, "4": 10_000}
    # A plain balance is its lot "".
    assert ledger.apply([_issued(3, 9_000, None, no="C2")])[0].status == ACCEPTED
    assert _lots(ledger, "C2") == {"": 0}


def test_a_ledger_from_before_lots_is_upgraded(any_empty_url: str) -> None:
    """Schema 1 held one balance per account: it becomes lot "" without expiry, and a slip
    issued before (no lots recorded) gives back to that lot."""
    engine = create_db_engine(any_empty_url)
    with engine.begin() as connection:
        # The tables that did not change, as they are; the two that did, as they were.
        L.metadata.create_all(connection, tables=[L.entry, L.governance, L.meta])
        for statement in (
            "CREATE TABLE ledger_account (customer_no VARCHAR(32) PRIMARY KEY, name VARCHAR(64) "
            "NOT NULL, branch VARCHAR(16) NOT NULL, tier VARCHAR(16) NOT NULL, balance BIGINT "
            "NOT NULL, mobile_banking VARCHAR(8) NOT NULL, kyc TEXT NOT NULL, updated_at "
            "TIMESTAMP WITH TIME ZONE NOT NULL)",
            "CREATE TABLE ledger_slip (event VARCHAR(16), serial INTEGER, customer_no "
            "VARCHAR(32) NOT NULL, merchant VARCHAR(16) NOT NULL, offer VARCHAR(16) NOT NULL, "
            "quantity INTEGER NOT NULL, points BIGINT NOT NULL, status VARCHAR(16) NOT NULL, "
            "updated_at TIMESTAMP WITH TIME ZONE NOT NULL, PRIMARY KEY (event, serial))",
            "INSERT INTO ledger_meta VALUES ('schema', '1')",
            "INSERT INTO ledger_account VALUES ('C1', 'x', 'B01', 'standard', 7000, 'none', '{}', "
            "'2026-11-20 00:00:00')",
            "INSERT INTO ledger_slip VALUES ('E2026', 5, 'C1', 'M01', 'O501', 1, 2000, 'issued', "
            "'2026-11-28 01:00:00')",
        ):
            connection.execute(text(statement))
    engine.dispose()
    ledger = Ledger.open(any_empty_url)
    try:
        assert ledger.accounts(["C1"], DAY)[0].lots == (Lot("", 7_000),)
        (void,) = ledger.apply([_given_back("slip_voided", 5, 2_000)])
        assert void.status == ACCEPTED
        assert _lots(ledger, "C1") == {"": 9_000}
        with ledger.engine.connect() as connection:
            version = connection.scalar(text("SELECT value FROM ledger_meta"))
        assert version == str(SCHEMA_VERSION)
    finally:
        ledger.dispose()


def test_many_slips_given_back_or_redeemed_in_one_batch(ledger: Ledger) -> None:
    """A push after the booths' redemptions names hundreds of slips in one batch: they are
    read and updated together (more than one chunk of 500 here), each judged on its own."""
    issued = [_issued(serial, 10, [("", 10)], no="C2") for serial in range(1, 601)]
    assert {o.status for o in ledger.apply(issued)} == {ACCEPTED}
    assert _lots(ledger, "C2") == {"": 9_000 - 6_000}
    batch = [
        *(_given_back("slip_voided", serial, 10) for serial in range(1, 301)),
        *(
            (f"slip_redeemed:{serial:032x}", "slip_redeemed", {"event": EVENT, "serial": serial})
            for serial in range(301, 601)
        ),
        ("slip_redeemed:again", "slip_redeemed", {"event": EVENT, "serial": 1}),
        ("slip_redeemed:twice", "slip_redeemed", {"event": EVENT, "serial": 600}),
        ("slip_voided:unknown", "slip_voided", {"event": EVENT, "serial": 9_999, "points": 10}),
    ]
    outcomes = ledger.apply(batch)
    assert [o.status for o in outcomes[:600]] == [ACCEPTED] * 600
    assert [(o.status, o.reason) for o in outcomes[600:]] == [
        (REJECTED, "slip is voided"),
        (REJECTED, "slip already redeemed"),
        (REJECTED, "unknown slip (its issue was rejected)"),
    ]
    assert _lots(ledger, "C2") == {"": 9_000 - 3_000}  # the 300 voided slips gave back
    assert [ledger.slip_status(EVENT, n) for n in (1, 300, 301, 600)] == [
        "voided",
        "voided",
        "redeemed",
        "redeemed",
    ]
    # Sent again: answered as the first time, nothing moves.
    assert ledger.apply(batch) == outcomes
    assert _lots(ledger, "C2") == {"": 6_000}
