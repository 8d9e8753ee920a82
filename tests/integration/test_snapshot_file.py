"""The pull by file (issue #22): ``kiosk ledger export-snapshot`` on the ledger's side,
``kiosk sync import-snapshot`` on the kiosk's, through the direct pull's own code.

Event database on SQLite and PostgreSQL, the ledger on SQLite and PostgreSQL; real files."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from kiosk import audit, privacy
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.errors import PermissionDenied
from kiosk.models import AuditRecord, Customer, Event, PointsLot
from kiosk.services.auth import staff_session
from kiosk.services.events import current_event
from sync import snapshot_file as S
from sync.batch import BatchError
from sync.ledger import Account, Ledger, Lot
from sync.push import SyncError, accounts_from_event, pull
from sync.snapshot_file import export_snapshot, import_snapshot, read_snapshot, write_snapshot
from tests.conftest import DEMO_DATE
from tests.unit.cli.test_cli import run

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)
BANK_EVENING = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # the ledger's clock, the day before


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


_OPEN: list[Ledger] = []


@pytest.fixture(autouse=True)
def _dispose_ledgers() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().dispose()


def _code(db: Database) -> str:
    with db.unit_of_work() as uow:
        return current_event(uow.session).code


def _seeded(db: Database, url: str) -> Ledger:
    """The ledger seeded from the event, then moved on so a pull changes things: a customer
    with three lots (one expired before the event's day), another tier and AUM, another name,
    phone and ID validity; another customer with no lots at all."""
    ledger = Ledger.open(url, create=True)
    _OPEN.append(ledger)
    accounts = accounts_from_event(db, privacy.unlock(db.unit_of_work(), DEMO_PASSPHRASE))
    first, second = accounts[0], accounts[1]
    accounts[0] = replace(
        first,
        tier="private",
        aum=9_000_000,
        mobile_banking="active",
        kyc={
            **first.kyc,
            "name": "新名字",
            "phone": "13900001111",
            "id_valid_to": "2031-05-01",
            "id_long_term": False,
        },
        lots=(
            Lot("L1", 700, DEMO_DATE - timedelta(days=1)),
            Lot("L2", 1200, DEMO_DATE + timedelta(days=30)),
            Lot("L3", 50),
        ),
    )
    accounts[1] = replace(second, balance=0, lots=(Lot("", 0),))
    ledger.upsert_accounts(accounts, event=_code(db))
    return ledger


def _staff(db: Database, number: str = "S001"):  # type: ignore[no-untyped-def]
    return staff_session(db.unit_of_work(), number, clock=FixedClock(MORNING))


def _export(ledger: Ledger, db: Database, path: Path, at: datetime = BANK_EVENING) -> None:
    export_snapshot(ledger, _code(db), path, day=DEMO_DATE, clock=FixedClock(at))


def _import(
    db: Database, path: Path, trust: str | None = None, at: datetime = MORNING
) -> S.SnapshotImport:
    return import_snapshot(db, path, _staff(db), trust=trust, clock=FixedClock(at))


def _state(db: Database) -> tuple[object, ...]:
    """Every customer as the pull writes them (the sealed phones opened), their lots, the
    bank's stock and the pull's audit details."""
    opener = privacy.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
    with db.unit_of_work() as uow:
        s = uow.session
        customers = []
        for c in s.scalars(select(Customer).order_by(Customer.customer_no)):
            customers.append(
                (
                    c.customer_no,
                    c.name,
                    c.points_balance,
                    c.tier,
                    c.aum,
                    c.mobile_banking,
                    c.balance_as_of.replace(tzinfo=None) if c.balance_as_of else None,
                    c.gender,
                    c.nationality,
                    c.id_type,
                    c.id_valid_from,
                    c.id_valid_to,
                    c.id_long_term,
                    c.tax_residency,
                    c.phone_masked,
                    opener.read(c, "phone"),
                    opener.read(c, "id_number"),
                )
            )
        lots = sorted(
            s.execute(
                select(Customer.customer_no, PointsLot.ref, PointsLot.points, PointsLot.expires_on)
                .join(Customer, Customer.id == PointsLot.customer_id)
                .where(PointsLot.points != 0)
            ).all()
        )
        stock = current_event(s).bank_points_stock
        pulls = [
            json.loads(d)
            for d in s.scalars(
                select(AuditRecord.details).where(AuditRecord.action == "ledger_pulled")
            )
        ]
    return customers, lots, stock, pulls


def _audits(db: Database) -> int:
    with db.unit_of_work() as uow:
        return int(uow.session.scalar(select(func.count(AuditRecord.id))) or 0)


def _fingerprint(ledger: Ledger) -> str:
    return S.fingerprint(S._raw(ledger.answer_key().public_key()))


# -- the file pull is the direct pull ------------------------------------------------------


def test_a_file_pull_equals_the_direct_pull_and_replays(
    demo_db: Database, ledger_url: str, demo_template: Path, tmp_path: Path
) -> None:
    """The same ledger pulled into two identical event databases, one by file (SQLite and
    PostgreSQL) and one directly: the same customers, lots, stock and audit."""
    ledger = _seeded(demo_db, ledger_url)
    before = _state(demo_db)
    snapshot = tmp_path / "snapshot.jsonl"
    _export(ledger, demo_db, snapshot)
    assert snapshot.stat().st_mode & 0o077 == 0  # names, phones, IDs in clear: owner only
    lines = snapshot.read_bytes().decode().splitlines()
    manifest = json.loads(lines[0])
    assert manifest["format"] == "kiosk-ledger-snapshot" and manifest["day"] == "2026-11-28"
    assert manifest["accounts"] == len(lines) - 2 and manifest["signer"]["fingerprint"] == (
        _fingerprint(ledger)
    )
    assert manifest["points_stock"] == ledger.points_stock(DEMO_DATE)
    with pytest.raises(BatchError, match=r"snapshot\.jsonl exists already"):
        _export(ledger, demo_db, snapshot)

    copy = tmp_path / "direct.sqlite3"
    shutil.copyfile(demo_template, copy)
    direct_db = open_database(f"sqlite:///{copy}")
    try:
        direct = pull(direct_db, ledger, _staff(direct_db), clock=FixedClock(MORNING))
        direct_state = _state(direct_db)
    finally:
        direct_db.dispose()

    with pytest.raises(BatchError, match=r"trusts no ledger key yet.*--trust"):
        _import(demo_db, snapshot)
    assert _state(demo_db) == before
    result = _import(demo_db, snapshot, trust=_fingerprint(ledger))
    assert result.newly_trusted and result.day == DEMO_DATE
    assert (result.pulled.updated, result.pulled.missing) == (direct.updated, direct.missing)
    state = _state(demo_db)
    assert state == direct_state and state != before
    customers, lots, stock, _pulls = state
    moved = next(c for c in customers if c[1] == "新名字")
    assert moved[2:6] == (1950, "private", 9_000_000, "active")  # the lots' sum, as the pull
    assert (moved[0], "L1", 700, DEMO_DATE - timedelta(days=1)) in lots
    assert moved[11] == date(2031, 5, 1) and moved[15] == "13900001111"
    assert stock == manifest["points_stock"]
    with demo_db.unit_of_work() as uow:
        actions = list(
            uow.session.scalars(
                select(AuditRecord.action)
                .where(AuditRecord.action.like("ledger_%"))
                .order_by(AuditRecord.id)
            )
        )
        assert audit.verify(uow.session) is None
    assert actions == ["ledger_pulled", "ledger_key_trusted", "ledger_snapshot_imported"]

    # Replayed with nothing pushed since: the same result.
    again = _import(demo_db, snapshot)
    assert not again.newly_trusted and again.pulled.updated == result.pulled.updated
    customers2, lots2, stock2, pulls2 = _state(demo_db)
    assert (customers2, lots2, stock2) == (customers, lots, stock) and len(pulls2) == 2


# -- older snapshots, replays after a push ---------------------------------------------------


def test_an_older_snapshot_and_a_replay_after_a_push_are_refused(
    sqlite_demo_db: Database, tmp_path: Path
) -> None:
    db = sqlite_demo_db
    ledger = _seeded(db, f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    old, new = tmp_path / "old.jsonl", tmp_path / "new.jsonl"
    _export(ledger, db, old, at=BANK_EVENING)
    _export(ledger, db, new, at=BANK_EVENING + timedelta(hours=2))
    fp = _fingerprint(ledger)
    _import(db, new, trust=fp)
    state, audits = _state(db), _audits(db)
    with pytest.raises(BatchError, match=r"old\.jsonl was written by the ledger at .*before") as e:
        _import(db, old)
    assert "\n" not in str(e.value) and _state(db) == state and _audits(db) == audits
    # Entries pushed after the import: the same file would put back older balances.
    from kiosk.models import OutboxEntry

    with audit.unaudited(), db.unit_of_work() as uow:  # test setup
        event = uow.session.scalar(select(Event))
        assert event is not None
        uow.session.add(
            OutboxEntry(
                event_id=event.id,
                idempotency_key="check_in:x",
                kind="check_in",
                payload="{}",
                created_at=MORNING,
                status="accepted",
                pushed_at=MORNING + timedelta(hours=1),
            )
        )
        uow.commit()
    audits = _audits(db)
    with pytest.raises(BatchError, match=r"new.jsonl was imported before, and 1 entries were"):
        _import(db, new, at=MORNING + timedelta(hours=2))
    assert _state(db) == state and _audits(db) == audits
    # A newer snapshot goes.
    newer = tmp_path / "newer.jsonl"
    _export(ledger, db, newer, at=BANK_EVENING + timedelta(days=1))
    assert _import(db, newer, at=MORNING + timedelta(hours=2)).pulled.updated


# -- bad input -----------------------------------------------------------------------------


def test_bad_snapshots_are_refused_with_a_sentence_and_nothing_changed(
    demo_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = demo_db
    ledger = _seeded(db, f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    good = tmp_path / "snapshot.jsonl"
    _export(ledger, db, good)
    data = good.read_bytes()
    fp = _fingerprint(ledger)
    state, audits = _state(db), _audits(db)
    key = ledger.answer_key()
    parsed = read_snapshot(data, "x")
    code = _code(db)

    def refused(content: bytes, pattern: str, trust: str | None = fp, staff: str = "S001") -> None:
        bad = tmp_path / "bad.jsonl"
        bad.write_bytes(content)
        with pytest.raises((BatchError, PermissionDenied), match=pattern) as caught:
            import_snapshot(db, bad, _staff(db, staff), trust=trust, clock=FixedClock(MORNING))
        message = str(caught.value)
        assert "\n" not in message
        assert staff != "S001" or trust == "abc" or "bad.jsonl" in message
        assert _state(db) == state and _audits(db) == audits

    def signed(accounts: list[Account], event: str = code, signer=key, **kw: object) -> bytes:  # type: ignore[no-untyped-def]
        return write_snapshot(
            event, DEMO_DATE, accounts, 10, signer, created_at=BANK_EVENING.isoformat()
        )

    altered = "was altered"
    lines = data.split(b"\n")
    refused(data.replace(b'"tier":"', b'"tier":"x', 1), altered)  # a line edited
    refused(b"\n".join(lines[:1] + lines[2:]), altered)  # removed
    refused(b"\n".join([lines[0], lines[1], *lines[1:]]), altered)  # added
    refused(data.replace(b'"points_stock":', b'"points_stock":1', 1), altered)  # manifest
    refused(data[:-14] + b'01234567890"}\n', altered)  # the signature
    # Not a supervisor: the pull's own role check, before the file is read.
    refused(data, "Only a supervisor", staff="A001")
    # Untrusted, another key, a wrong name.
    refused(data, "trusts no ledger key yet", trust=None)
    refused(data, "is not a key fingerprint", trust="abc")
    refused(data, "not by the key .* you named", trust="0" * 20)
    stranger = Ed25519PrivateKey.generate()
    # Another event's snapshot, signed by the ledger.
    refused(signed(parsed.accounts, event="OTHER"), "snapshot of event OTHER, not of this event")
    # Wrong types and values inside a correctly signed file.
    first = parsed.accounts[0]
    for account, pattern in (
        (replace(first, balance=10**30), "line 2: its balance"),
        (replace(first, customer_no=""), "line 2: its customer_no"),
        (replace(first, kyc={**first.kyc, "id_valid_to": "2031-13-45"}), "KYC field id_valid"),
        (replace(first, kyc={**first.kyc, "id_long_term": "yes"}), "KYC field id_long_term"),
        (replace(first, kyc={**first.kyc, "x": {"a": [1]}}), "KYC field x"),
        (replace(first, lots=(Lot("a", 1), Lot("a", 2))), "a lot is there twice"),
        (replace(first, lots=(Lot("a", 1.5),)), "its lots"),  # type: ignore[arg-type]
    ):
        refused(signed([account, *parsed.accounts[1:]]), pattern)
    refused(signed([first, first]), "line 3: its customer is there twice")
    # Malformed: never a raw Python error.
    refused(b"", "no signature line|does not end")
    refused(b"\xff\xfe\n{}\n", "line 1 is not JSON")
    refused(b"[" * 30_000 + b"]" * 30_000 + b"\n{}\n", "line 1 is not JSON")
    refused(b'{"format":"kiosk-ledger-snapshot","version":1,"x":1e400}\n{}\n', "not JSON")
    refused(data[:-5], "does not end with a complete line")
    refused(data.replace(b'"version":1', b'"version":2', 1), "format version 2")
    refused(b'{"format":"kiosk-ledger-batch"}\n{}\n', "first line is not a snapshot file")
    monkeypatch.setattr(S, "_read", lambda path, what: data + b"x")
    refused(data, "does not end")
    monkeypatch.undo()
    import sync.batch as B

    monkeypatch.setattr(B, "MAX_BYTES", 1000)
    refused(data, "larger than")
    monkeypatch.undo()
    # Trusted now; then a file signed by another key.
    _import(db, good, trust=fp)
    state, audits = _state(db), _audits(db)
    refused(signed(parsed.accounts, signer=stranger), "which this event does not trust", None)


def test_a_snapshot_waits_for_pending_entries(sqlite_demo_db: Database, tmp_path: Path) -> None:
    """The pull's own refusal: entries not pushed yet."""
    db = sqlite_demo_db
    ledger = _seeded(db, f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    _export(ledger, db, tmp_path / "s.jsonl")
    from kiosk.models import OutboxEntry

    with audit.unaudited(), db.unit_of_work() as uow:  # test setup
        event = uow.session.scalar(select(Event))
        assert event is not None
        uow.session.add(
            OutboxEntry(
                event_id=event.id,
                idempotency_key="check_in:y",
                kind="check_in",
                payload="{}",
                created_at=MORNING,
            )
        )
        uow.commit()
    state = _state(db)
    with pytest.raises(SyncError, match="1 entries are not pushed yet"):
        _import(db, tmp_path / "s.jsonl", trust=_fingerprint(ledger))
    assert _state(db) == state
    with db.unit_of_work() as uow:  # the key was not trusted either
        assert not uow.session.scalar(
            select(func.count(AuditRecord.id)).where(AuditRecord.action == "ledger_key_trusted")
        )


# -- the commands --------------------------------------------------------------------------


def test_the_commands_end_to_end(
    capsys: pytest.CaptureFixture[str],
    demo_url: str,
    ledger_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database = open_database(demo_url)
    _seeded(database, ledger_url)
    code_ = _code(database)
    database.dispose()
    monkeypatch.setenv("KIOSK_PIN", "1234")
    base = ["--lang", "en", "--db", demo_url]
    out_file = tmp_path / "snapshot.jsonl"
    export = ["ledger", "export-snapshot", "--url", ledger_url, "--event", code_]
    code, _out, err = run(capsys, *base, *export, "--out", str(out_file), "--day", "28.11.2026")
    assert code == 1 and "--day 28.11.2026 is not a date" in err and not out_file.exists()
    code, out, err = run(capsys, *base, *export, "--out", str(out_file), "--day", "2026-11-28")
    assert code == 0, err
    assert f"of event {code_} as on 2026-11-28 written to {out_file}" in out
    ledger_fp = out.split("Signed by the ledger key ")[1].split(".")[0]
    code, _out, err = run(capsys, *base, *export, "--out", str(out_file))
    assert code == 1 and "exists already" in err
    code, _out, err = run(
        capsys, *base, "ledger", "export-snapshot", "--url", ledger_url, "--event", "NOPE",
        "--out", str(tmp_path / "none.jsonl"),
    )  # fmt: skip
    assert code == 1 and "Event NOPE has no accounts" in err
    imp = ["sync", "import-snapshot", str(out_file), "--staff", "S001"]
    code, _out, err = run(capsys, *base, *imp)
    assert code == 1 and f"--trust {ledger_fp}" in err and len(err.splitlines()) == 1
    code, out, err = run(capsys, *base, *imp, "--trust", ledger_fp.upper())
    assert code == 0, err
    assert "The ledger key is trusted from now on." in out
    assert "customers refreshed from the ledger as of" in out and "as on 2026-11-28" in out
    code, out, err = run(capsys, *base, *imp)
    assert code == 0 and "trusted from now on" not in out, err
    code, _out, err = run(
        capsys, *base, "sync", "import-snapshot", str(out_file), "--staff", "A001"
    )
    assert code == 1 and err.strip()
