"""The ledger by batch file (issue #22): export, apply on the ledger, import the answers.

Event database on SQLite and PostgreSQL, the ledger on SQLite and PostgreSQL; real files."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, update

from kiosk import audit, privacy
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.kyc import governance_gaps
from kiosk.models import AuditRecord, Customer, OutboxEntry, OutboxStatus
from kiosk.services import desk, keys, reception
from kiosk.services.auth import staff_session
from kiosk.services.slips import CartLine, issue_slips
from sync import batch as B
from sync import ledger as L
from sync.batch import BatchError, apply_batch, export_batch
from sync.batch import import_answers as _import_answers
from sync.ledger import Ledger
from sync.push import accounts_from_event, pending, push
from tests.conftest import DEMO_DATE
from tests.gate_support import make_ready
from tests.points_support import drop_lots
from tests.unit.cli.test_cli import run

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)
EVENING = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)


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


def _seeded(db: Database, url: str) -> Ledger:
    ledger = Ledger.open(url, create=True)
    _OPEN.append(ledger)
    ledger.upsert_accounts(
        accounts_from_event(db, privacy.unlock(db.unit_of_work(), DEMO_PASSPHRASE))
    )
    return ledger


def _event_day(db: Database, customers: int) -> tuple[list[int], int]:
    """``customers`` check-ins and slips (2 entries each), and one sealed governance change
    (a phone) of another customer; the governed customer's id."""
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup
        ids = uow.session.scalars(select(Customer.id).order_by(Customer.id).limit(customers)).all()
        uow.session.execute(update(Customer).values(points_balance=50_000))
        drop_lots(uow.session)
        uow.commit()
    make_ready(db, *ids)
    clock = FixedClock(MORNING)
    front = staff_session(db.unit_of_work(), "R001", clock=clock)
    activation = staff_session(db.unit_of_work(), "A001", clock=clock)
    key = keys.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
    for customer_id in ids:
        reception.check_in(db.unit_of_work(), customer_id, front, clock=clock)
        issue_slips(
            db.unit_of_work(), customer_id, [CartLine("O501")], activation, key, clock=clock
        )
    with db.unit_of_work() as uow:
        governed = next(
            c.id
            for c in uow.session.scalars(select(Customer).order_by(Customer.id.desc()))
            if not governance_gaps(c, DEMO_DATE)
        )
    form = replace(desk.current_form(db.unit_of_work(), governed), phone="13911112222")
    rm = staff_session(db.unit_of_work(), "RM001", clock=clock)
    desk.save_governance(db.unit_of_work(), governed, form, rm, clock=clock)
    return list(ids), governed


def _export(db: Database, path: Path) -> B.ExportReport:
    key = keys.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
    opener = privacy.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
    return export_batch(db, path, key, opener, clock=FixedClock(EVENING))


def _import(db: Database, path: Path, trust: str | None = None) -> B.ImportReport:
    return _import_answers(db, path, trust=trust, clock=FixedClock(EVENING))


def _statuses(db: Database) -> dict[str, tuple[str, str | None]]:
    with db.unit_of_work() as uow:
        return {
            k: (s, e)
            for k, s, e in uow.session.execute(
                select(OutboxEntry.idempotency_key, OutboxEntry.status, OutboxEntry.error)
            )
        }


def _audit_count(db: Database) -> int:
    with db.unit_of_work() as uow:
        return int(uow.session.scalar(select(func.count(AuditRecord.id))) or 0)


def _customer_no(db: Database, customer_id: int) -> str:
    with db.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None
        return customer.customer_no


def _ledger_state(ledger: Ledger) -> tuple[object, ...]:
    with ledger.engine.connect() as c:
        lots = sorted(c.execute(select(L.lot.c.customer_no, L.lot.c.ref, L.lot.c.points)).all())
        entries = sorted(
            c.execute(select(L.entry.c.idempotency_key, L.entry.c.status, L.entry.c.reason)).all()
        )
        slips = sorted(c.execute(select(L.slip.c.serial, L.slip.c.status, L.slip.c.lots)).all())
        kyc = sorted(c.execute(select(L.account.c.customer_no, L.account.c.kyc)).all())
    return lots, entries, slips, kyc


# -- the round trip --------------------------------------------------------------------------


def test_round_trip_replays_change_nothing(
    demo_db: Database, ledger_url: str, tmp_path: Path
) -> None:
    ids, governed = _event_day(demo_db, 5)
    ledger = _seeded(demo_db, ledger_url)
    total = pending(demo_db)
    assert total == 2 * len(ids) + 1
    before = _statuses(demo_db)

    first = _export(demo_db, tmp_path / "batch-1.jsonl")
    assert (first.entries, first.left) == (total, 0)
    assert _statuses(demo_db) == before  # export marks nothing
    lines = (tmp_path / "batch-1.jsonl").read_bytes().decode().splitlines()
    manifest = json.loads(lines[0])
    assert manifest["entries"] == total and len(lines) == total + 2
    assert manifest["kinds"]["slip_issued"]["entries"] == 5
    assert manifest["kinds"]["check_in"] == {"entries": 5, "points": 0}
    issued_points = sum(
        json.loads(x)["payload"]["points"]
        for x in lines[1:-1]
        if json.loads(x)["kind"] == "slip_issued"
    )
    assert manifest["kinds"]["slip_issued"]["points"] == issued_points > 0
    governance = [json.loads(x) for x in lines[1:-1] if json.loads(x)["kind"] == "governance"]
    assert governance[0]["payload"]["changes"]["phone"] == "13911112222"  # opened, as push
    assert manifest["signer"]["fingerprint"] == first.fingerprint
    # Exported again: the same entries (under a new batch id).
    second = _export(demo_db, tmp_path / "batch-2.jsonl")
    again = (tmp_path / "batch-2.jsonl").read_bytes().decode().splitlines()
    assert again[1:-1] == lines[1:-1] and second.batch_id != first.batch_id

    # The ledger trusts no key of the event yet: nothing applied until the operator names it.
    answers = tmp_path / "answers-1.jsonl"
    with pytest.raises(BatchError, match=f"trusts no key of event .*--trust {first.fingerprint}"):
        apply_batch(ledger, tmp_path / "batch-1.jsonl", answers)
    assert ledger.totals()["accepted"] == 0 and not answers.exists()
    report = apply_batch(ledger, tmp_path / "batch-1.jsonl", answers, trust=first.fingerprint)
    assert report.newly_trusted and (report.accepted, report.rejected) == (total, 0)
    state = _ledger_state(ledger)
    written = answers.read_bytes()
    # Replays on the ledger: nothing changes, the same answer file.
    replay = apply_batch(ledger, tmp_path / "batch-1.jsonl", answers)
    assert not replay.newly_trusted and answers.read_bytes() == written
    assert _ledger_state(ledger) == state
    with pytest.raises(BatchError, match=r"a\.jsonl cannot be written"):
        apply_batch(ledger, tmp_path / "batch-1.jsonl", tmp_path / "missing" / "a.jsonl")
    assert _ledger_state(ledger) == state
    answers_2 = tmp_path / "answers-2.jsonl"
    apply_batch(ledger, tmp_path / "batch-2.jsonl", answers_2)
    assert _ledger_state(ledger) == state
    assert ledger.accounts([_customer_no(demo_db, governed)])[0].kyc["phone"] == "13911112222"

    # The kiosk trusts no ledger key yet.
    with pytest.raises(BatchError, match=r"trusts no ledger key yet.*--trust"):
        _import(demo_db, answers)
    assert _statuses(demo_db) == before
    marked = _import(demo_db, answers, trust=report.ledger_fingerprint)
    assert marked.newly_trusted and (marked.accepted, marked.rejected, marked.already) == (
        total,
        0,
        0,
    )
    assert pending(demo_db) == 0
    after = _statuses(demo_db)
    assert {s for s, _e in after.values()} == {OutboxStatus.ACCEPTED}
    audits = _audit_count(demo_db)
    # Replays on the kiosk: nothing changes, not even the audit trail.
    assert _import(demo_db, answers).already == total
    assert _import(demo_db, answers_2).already == total
    assert _statuses(demo_db) == after and _audit_count(demo_db) == audits
    # Nothing pending: no file.
    assert _export(demo_db, tmp_path / "batch-3.jsonl").entries == 0
    assert not (tmp_path / "batch-3.jsonl").exists()


def test_a_batch_gives_the_ledger_what_the_direct_push_gives(
    sqlite_demo_db: Database, ledger_url: str, tmp_path: Path
) -> None:
    """The same entries to two ledgers seeded alike, one by batch file and one by the direct
    push, with one customer's lots emptied on both so some entries are rejected: the same
    lots, entries, reasons, slips and KYC; and the kiosk's outbox the same either way."""
    db = sqlite_demo_db
    ids, _governed = _event_day(db, 6)
    by_file = _seeded(db, ledger_url)
    direct = _seeded(db, f"sqlite:///{tmp_path / 'direct.sqlite3'}")
    poor = _customer_no(db, ids[2])
    for ledger in (by_file, direct):
        with ledger.engine.begin() as c:
            c.execute(update(L.lot).where(L.lot.c.customer_no == poor).values(points=10))
    _export(db, tmp_path / "batch.jsonl")
    report = apply_batch(
        by_file,
        tmp_path / "batch.jsonl",
        tmp_path / "answers.jsonl",
        trust=_export_fingerprint(db),
    )
    assert report.rejected == 1
    opener = privacy.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
    pushed = push(db, direct, opener=opener, clock=FixedClock(EVENING))
    assert (pushed.accepted, pushed.rejected) == (report.accepted, report.rejected)
    file_state, direct_state = _ledger_state(by_file), _ledger_state(direct)
    assert file_state == direct_state
    assert by_file.totals() == direct.totals()
    pushed_statuses = _statuses(db)
    # The answers for entries the direct push marked already: nothing changes.
    result = _import(db, tmp_path / "answers.jsonl", trust=report.ledger_fingerprint)
    assert result.already == report.entries and _statuses(db) == pushed_statuses
    rejected = [e for s, e in pushed_statuses.values() if s == OutboxStatus.REJECTED]
    assert rejected == ['lot "" insufficient: 10 < 2000']


def _export_fingerprint(db: Database) -> str:
    key = keys.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
    return B.fingerprint(B._raw(key.public_key()))


# -- bad batches -----------------------------------------------------------------------------


def _edit_line(data: bytes, number: int, edit: object) -> bytes:
    lines = data.split(b"\n")
    lines[number] = edit(lines[number]) if callable(edit) else edit  # type: ignore[assignment]
    return b"\n".join(lines)


def test_bad_batches_are_refused_with_a_sentence_and_nothing_applied(
    sqlite_demo_db: Database, ledger_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = sqlite_demo_db
    _event_day(db, 3)
    ledger = _seeded(db, ledger_url)
    good = tmp_path / "batch.jsonl"
    exported = _export(db, good)
    data = good.read_bytes()
    fp = exported.fingerprint
    with db.unit_of_work() as uow:
        code = uow.session.scalar(select(func.min(OutboxEntry.payload)))
    assert code
    state = _ledger_state(ledger)
    answers = tmp_path / "answers.jsonl"

    def refused(content: bytes, pattern: str, **kwargs: object) -> None:
        bad = tmp_path / "bad.jsonl"
        bad.write_bytes(content)
        with pytest.raises(BatchError, match=pattern) as caught:
            apply_batch(ledger, bad, answers, **kwargs)  # type: ignore[arg-type]
        message = str(caught.value)
        assert "\n" not in message and "bad.jsonl" in message
        assert _ledger_state(ledger) == state and not answers.exists()

    altered = "was altered"
    # An entry edited (points), a line removed, a line added, the manifest edited.
    refused(_edit_line(data, 2, lambda x: x.replace(b'"at":"', b'"at":"1')), altered, trust=fp)
    lines = data.split(b"\n")
    refused(b"\n".join(lines[:2] + lines[3:]), altered, trust=fp)
    refused(b"\n".join([*lines[:2], lines[2], *lines[2:]]), altered, trust=fp)
    refused(_edit_line(data, 0, lambda x: x.replace(b'"entries":', b'"entries": ')), altered)
    refused(_edit_line(data, -2, lambda x: x[:-12] + b'0123456789"}'), altered)  # signature
    # Signer not trusted: another key (the event's key trusted first).
    assert apply_batch(ledger, good, answers, trust=fp).accepted == exported.entries
    answers.unlink()
    state = _ledger_state(ledger)
    manifest = json.loads(lines[0])
    entries = [
        (e["idempotency_key"], e["kind"], e["payload"])
        for e in (json.loads(x) for x in lines[1:-2])
    ]
    stranger = Ed25519PrivateKey.generate()
    forged = B.write_batch(
        manifest["event"], entries, stranger, batch_id=uuid.uuid4().hex, created_at="x"
    )
    refused(forged, "which this ledger does not trust for event")
    refused(forged, "not by the key .* you named", trust=fp)
    # A batch from another event: the operator named the event; or signed for another event.
    refused(data, "is a batch of event .*, not of event OTHER", event_code="OTHER")
    key = keys.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
    other = [(k, kind, {**p, "event": "OTHER"}) for k, kind, p in entries]
    refused(
        B.write_batch("OTHER", other, key, batch_id=uuid.uuid4().hex, created_at="x"),
        "trusts no key of event OTHER",
    )
    refused(
        B.write_batch(manifest["event"], other, key, batch_id=uuid.uuid4().hex, created_at="x"),
        "line 2: it belongs to event OTHER",
    )
    # Signed by the trusted key, but not what a kiosk writes: wrong types.
    wrong = [(entries[0][0], entries[0][1], {**entries[0][2], "customer_no": 7}), *entries[1:]]
    refused(
        B.write_batch(manifest["event"], wrong, key, batch_id=uuid.uuid4().hex, created_at="x"),
        "line 2: its customer_no is malformed",
    )
    issued = next(e for e in entries if e[1] == "slip_issued")
    huge = [(issued[0], issued[1], {**issued[2], "points": 10**30})]
    refused(
        B.write_batch(manifest["event"], huge, key, batch_id=uuid.uuid4().hex, created_at="x"),
        "its points is missing or malformed",
    )
    # Malformed files: never a raw Python error.
    refused(b"", "no signature line|does not end")
    refused(b"not json\n{}\n", "line 1 is not JSON")
    refused(b"\xff\xfe\n{}\n", "line 1 is not JSON")
    refused(b"[" * 30_000 + b"]" * 30_000 + b"\n{}\n", "line 1 is not JSON")
    refused(b"[" * 5_000 + b"]" * 5_000 + b"\n{}\n", "line 1 is not JSON|not a JSON object")
    refused(b'{"format":"kiosk-ledger-batch","version":1,"x":1e400}\n{}\n', "line 1 is not JSON")
    refused(b'{"format":"kiosk-ledger-batch","version":1,"x":NaN}\n{}\n', "line 1 is not JSON")
    refused(b'{"format":"kiosk-ledger-batch","version":1,"x":' + b"9" * 5000 + b"}\n{}\n", "JSON")
    refused(b"[1]\n{}\n", "line 1 is not a JSON object")
    refused(data[:-5], "does not end with a complete line")
    refused(data.replace(b'"version":1', b'"version":2', 1), "format version 2")
    refused(data.replace(b'"version":1', b'"version":true', 1), "format version True")
    refused(
        data.replace(b'"version":1', b'"version":[' + b"1," * 5000 + b"1]", 1),
        r"format version \[1, 1, 1, 1, 1, 1, 1;",
    )
    refused(data.replace(b'"entries":', b'"entries":"3",', 1), "JSON|altered")
    refused(
        data.replace(b'"signer":{', b'"signer":{"public_key":7,"x":{', 1),
        "JSON|signer or signature",
    )
    refused(b'{"format":"kiosk-merchant-pack"}\n{}\n', "first line is not a batch file manifest")
    refused(b"{}\n" * 4 + b"x" * (B.MAX_LINE + 1) + b"\n", "line 5 is longer than")
    monkeypatch.setattr(B, "MAX_BYTES", 1000)
    refused(data, "larger than")
    monkeypatch.setattr(B, "MAX_ENTRIES", 2)
    refused(b"{}\n" * 5, "more than 4 lines")


# -- bad answers -----------------------------------------------------------------------------


def test_bad_answers_are_refused_and_nothing_is_marked(demo_db: Database, tmp_path: Path) -> None:
    db = demo_db
    _event_day(db, 3)
    ledger = _seeded(db, f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    batch_file = tmp_path / "batch.jsonl"
    exported = _export(db, batch_file)
    answers = tmp_path / "answers.jsonl"
    applied = apply_batch(ledger, batch_file, answers, trust=exported.fingerprint)
    data = answers.read_bytes()
    batch = B.read_batch(batch_file.read_bytes(), "batch.jsonl")
    outcomes = B.read_answers(data, "answers.jsonl").outcomes
    ledger_key = ledger.answer_key()
    before, audits = _statuses(db), _audit_count(db)

    def refused(content: bytes, pattern: str, trust: str | None = None) -> None:
        bad = tmp_path / "bad-answers.jsonl"
        bad.write_bytes(content)
        with pytest.raises(BatchError, match=pattern) as caught:
            _import(db, bad, trust=trust)
        assert "\n" not in str(caught.value) and (
            trust == "abc" or "bad-answers" in str(caught.value)
        )
        assert _statuses(db) == before and _audit_count(db) == audits

    # Untrusted until named; a wrong name.
    refused(data, "trusts no ledger key yet")
    refused(data, "not by the key .* you named", trust="0" * 20)
    refused(data, "is not a key fingerprint", trust="abc")
    # Altered: a status, a reason, a line removed, the manifest.
    refused(data.replace(b'"status":"accepted"', b'"status":"rejected"', 1), "was altered")
    lines = data.split(b"\n")
    refused(b"\n".join(lines[:1] + lines[2:]), "was altered")
    refused(data.replace(b'"accepted":', b'"accepted": ', 1), "was altered")
    # Another event's answer, signed by the ledger.
    other = replace(batch, event_code="OTHER")
    refused(
        B.write_answers(other, outcomes, ledger_key),
        "answers a batch of event OTHER",
        trust=applied.ledger_fingerprint,
    )
    # Answers for entries never sent: a batch id never exported; a key not in the batch; an
    # entry pending now but created after the export; fewer answers than entries.
    never = replace(batch, batch_id=uuid.uuid4().hex)
    refused(
        B.write_answers(never, outcomes, ledger_key),
        "never exported",
        trust=applied.ledger_fingerprint,
    )
    refused(
        B.write_answers(batch, [*outcomes, ("check_in:" + "0" * 32, "accepted", "")], ledger_key),
        "answers 1 entries that batch .* never sent",
        trust=applied.ledger_fingerprint,
    )
    clock = FixedClock(EVENING)
    with db.unit_of_work() as uow:
        late_customer = uow.session.scalar(select(Customer.id).order_by(Customer.id.desc()))
    assert late_customer is not None
    make_ready(db, late_customer)
    front = staff_session(db.unit_of_work(), "R001", clock=clock)
    reception.check_in(db.unit_of_work(), late_customer, front, clock=clock)
    before, audits = _statuses(db), _audit_count(db)
    late = next(k for k in before if k not in {k for k, _s, _r in outcomes})
    refused(
        B.write_answers(batch, [*outcomes, (late, "accepted", "")], ledger_key),
        "never sent",
        trust=applied.ledger_fingerprint,
    )
    refused(
        B.write_answers(batch, outcomes[:-1], ledger_key),
        f"answers {len(outcomes) - 1} of the {len(outcomes)} entries",
        trust=applied.ledger_fingerprint,
    )
    # Trusted, then an answer signed by another ledger key.
    assert _import(db, answers, trust=applied.ledger_fingerprint).accepted == len(outcomes)
    before, audits = _statuses(db), _audit_count(db)
    stranger = Ed25519PrivateKey.generate()
    refused(B.write_answers(batch, outcomes, stranger), "which this event does not trust")
    # Malformed.
    refused(b"\x00" * 10, "does not end")
    refused(b'{"format":"kiosk-ledger-answers","version":1}\n{}\n', "signer or signature")
    refused(data.replace(b'"status":"accepted"', b'"status":true', 1), "altered|not an answer")
    refused(b"{" * 100_000 + b"\n{}\n", "is not JSON|longer than")


# -- the commands --------------------------------------------------------------------------


def test_the_commands_end_to_end(
    capsys: pytest.CaptureFixture[str],
    demo_url: str,
    ledger_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kiosk.db import open_database

    database = open_database(demo_url)
    _event_day(database, 2)
    total = pending(database)
    _seeded(database, ledger_url)
    database.dispose()
    base = ["--lang", "en", "--db", demo_url]
    batch_file, answers = tmp_path / "out" / "batch.jsonl", tmp_path / "answers.jsonl"
    batch_file.parent.mkdir()
    monkeypatch.delenv("KIOSK_PASSPHRASE", raising=False)
    code, _out, err = run(capsys, *base, "sync", "export-batch", str(batch_file))
    assert code == 1 and "KIOSK_PASSPHRASE" in err and not batch_file.exists()
    monkeypatch.setenv("KIOSK_PASSPHRASE", DEMO_PASSPHRASE)
    code, out, err = run(capsys, *base, "sync", "export-batch", str(batch_file))
    assert code == 0, err
    assert f"{total} entries written to {batch_file}" in out
    event_fp = out.split("Signed by the event key ")[1].split(".")[0]
    assert batch_file.stat().st_mode & 0o077 == 0  # personal data in clear: owner only
    code, _out, err = run(capsys, *base, "sync", "export-batch", str(batch_file))
    assert code == 1 and "exists already" in err
    monkeypatch.delenv("KIOSK_PASSPHRASE")
    ledger_args = ["ledger", "apply-batch", str(batch_file), "--url", ledger_url]
    code, _out, err = run(capsys, *base, *ledger_args, "--answers", str(answers))
    assert code == 1 and f"--trust {event_fp}" in err and len(err.splitlines()) == 1
    code, out, err = run(
        capsys, *base, *ledger_args, "--answers", str(answers), "--trust", event_fp.upper()
    )
    assert code == 0, err
    assert f"{total} entries of batch" in out and f"{total} accepted, 0 rejected" in out
    ledger_fp = out.split("Answers signed by the ledger key ")[1].split(".")[0]
    code, out, err = run(capsys, *base, "sync", "import-answers", str(answers))
    assert code == 1 and f"--trust {ledger_fp}" in err
    code, out, err = run(
        capsys, *base, "sync", "import-answers", str(answers), "--trust", ledger_fp
    )
    assert code == 0, err
    assert f"{total} answers imported: {total} accepted, 0 rejected (conflicts), 0 marked" in out
    code, out, err = run(capsys, *base, "sync", "import-answers", str(answers))
    assert code == 0 and f"0 accepted, 0 rejected (conflicts), {total} marked before" in out
    code, out, _err = run(capsys, *base, "sync", "status")
    assert f"0 pending, {total} accepted" in out


def test_more_than_a_file_holds_goes_in_the_next_file(
    sqlite_demo_db: Database, tmp_path: Path
) -> None:
    """A file holds at most ``limit`` entries, the oldest; the next export, once the first
    is answered, carries the rest."""
    db = sqlite_demo_db
    _event_day(db, 3)
    total = pending(db)
    ledger = _seeded(db, f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    key = keys.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
    opener = privacy.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
    clock = FixedClock(EVENING)
    first = export_batch(db, tmp_path / "b1.jsonl", key, opener, clock=clock, limit=4)
    assert (first.entries, first.left) == (4, total - 4)
    applied = apply_batch(
        ledger, tmp_path / "b1.jsonl", tmp_path / "a1.jsonl", trust=first.fingerprint
    )
    _import(db, tmp_path / "a1.jsonl", trust=applied.ledger_fingerprint)
    assert pending(db) == total - 4
    second = export_batch(db, tmp_path / "b2.jsonl", key, opener, clock=clock, limit=4)
    assert (second.entries, second.left) == (min(4, total - 4), max(0, total - 8))
    first_keys = {
        k for k, _kind, _p in B.read_batch((tmp_path / "b1.jsonl").read_bytes(), "b1").entries
    }
    second_keys = {
        k for k, _kind, _p in B.read_batch((tmp_path / "b2.jsonl").read_bytes(), "b2").entries
    }
    assert not first_keys & second_keys
    apply_batch(ledger, tmp_path / "b2.jsonl", tmp_path / "a2.jsonl")
    # The answer to the first batch does not mark the second's entries, and vice versa.
    assert _import(db, tmp_path / "a1.jsonl").already == 4
    assert _import(db, tmp_path / "a2.jsonl").accepted == second.entries
    assert pending(db) == total - 4 - second.entries
