"""Signed checkpoints of the audit chain and every money row accounted for (issue #26), on a
played demo day, SQLite and PostgreSQL: what someone with the database can do with plain SQL
(edit a record and rehash every later one, drop the newest records, write a refund into the
points journal, delete a redemption) is named by ``kiosk audit verify`` and the
reconciliation, and a clean day verifies."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from cli.main import main
from kiosk import audit, checkpoint
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.eventcopy import copy_event
from kiosk.i18n import set_language
from kiosk.models import AuditCheckpoint, AuditRecord, JournalEntry, Redemption
from kiosk.services import checkpoints
from kiosk.services.settlement import reconciliation
from tests.simulate_support import SIM_DATE, simulate

CLOCK = FixedClock(datetime.combine(SIM_DATE, time(12, 0), tzinfo=UTC))


@pytest.fixture(scope="session")
def played_day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo event played to the end through the services (check-ins, slips, booths)."""
    path = tmp_path_factory.mktemp("played") / "day.sqlite3"
    simulate(path, invitees=24)
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def played_url(request: pytest.FixtureRequest, played_day: Path, tmp_path: Path) -> str:
    """The played day on each backend: a copy of the file, or the event copied into a fresh
    PostgreSQL database (``kiosk event copy``: the chain and its rows as they were)."""
    if request.param == "sqlite":
        target = tmp_path / "event.sqlite3"
        shutil.copyfile(played_day, target)
        return f"sqlite:///{target}"
    url = str(request.getfixturevalue("pg_url"))
    copy_event(f"sqlite:///{played_day}", url)
    return url


@pytest.fixture
def database(played_url: str) -> Iterator[Database]:
    db = open_database(played_url)
    yield db
    db.dispose()


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIOSK_PIN", "1234")
    monkeypatch.setenv("KIOSK_PASSPHRASE", DEMO_PASSPHRASE)


def _cli(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, str]:
    code = main(["--lang", "en", "--db", url, *args])
    out, err = capsys.readouterr()
    return code, out + err


def _sign(database: Database, reason: str = "backup") -> checkpoint.Checkpoint:
    key = checkpoints.unlock(database.unit_of_work(), DEMO_PASSPHRASE)
    return checkpoints.sign_checkpoint(database.unit_of_work(), key, reason=reason, clock=CLOCK)


def _sql(database: Database, statement: str, **params: object) -> None:
    """Tamper the way someone with the database does: plain SQL, no kiosk service."""
    with database.engine.begin() as connection:
        connection.execute(text(statement), params)


def _rehash_from(database: Database, record_id: int) -> None:
    """Edit one record and recompute its hash and every later one's (SHA-256 is public): the
    chain alone verifies again afterwards."""
    table = AuditRecord.__table__
    with database.engine.begin() as connection:
        rows = connection.execute(
            select(table).where(table.c.id >= record_id).order_by(table.c.id)
        ).all()
        prev = rows[0].prev_hash
        for row in rows:
            values = dict(row._mapping)
            if row.id == record_id:
                values["details"] = json.dumps({"points": 99999})
            record = AuditRecord(**{k: v for k, v in values.items() if k not in ("hash",)})
            hashed = audit._chain(prev, audit._body(record))
            connection.execute(
                update(table)
                .where(table.c.id == row.id)
                .values(details=values["details"], prev_hash=prev, hash=hashed)
            )
            prev = hashed


def _ids(database: Database) -> list[int]:
    with database.unit_of_work() as uow:
        return list(uow.session.scalars(select(AuditRecord.id).order_by(AuditRecord.id)))


def test_a_clean_day_verifies(database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    url = database.engine.url.render_as_string(hide_password=False)
    code, out = _cli(capsys, url, "audit", "verify")
    assert code == 0, out
    assert "No signed checkpoint was found" in out
    assert "is accounted for by an audit record" in out
    code, out = _cli(capsys, url, "audit", "checkpoint", "--staff", "S001")
    assert code == 0, out
    signed = checkpoints.stored(database.unit_of_work())[-1]
    assert f"Checkpoint signed: the audit chain's {signed.count} records" in out
    report = checkpoints.verify(database.unit_of_work())
    assert report.intact and report.checkpoints.newest == signed
    # The checkpoint's own audit record is the one record after it.
    last = _ids(database)[-1]
    assert report.checkpoints.not_covered == (last, last, 1)
    assert report.coverage.rows > 100 and report.coverage.complete
    code, out = _cli(capsys, url, "audit", "verify")
    assert code == 0, out
    assert f"intact: {signed.count + 1} records" in out
    assert f"Record {last} was written after it and is not yet covered by a checkpoint." in out
    assert reconciliation(database.unit_of_work()).unaccounted == []


def test_edit_and_rehash_after_a_checkpoint_is_caught(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    url = database.engine.url.render_as_string(hide_password=False)
    ids = _ids(database)
    signed = _sign(database)
    _rehash_from(database, ids[len(ids) // 2])
    report = checkpoints.verify(database.unit_of_work())
    assert report.chain.intact  # the rehash fools the chain alone ...
    assert [p.kind for p in report.checkpoints.problems] == ["rewritten"]  # ... not this
    reason = report.checkpoints.problems[0].reason
    assert f"signed record {ids[-1]} with hash {signed.head[:16]}" in reason
    assert f"the change lies in records {ids[0]} to {ids[-1]}" in reason
    code, out = _cli(capsys, url, "audit", "verify")
    assert code == 1
    assert "Records were rewritten after they were signed" in out
    assert f"the change lies in records {ids[0]} to {ids[-1]}." in out


def test_a_rewrite_is_placed_between_two_checkpoints(database: Database) -> None:
    first = _sign(database)
    ids = _ids(database)  # the last one: the first checkpoint's own record
    second = _sign(database)
    assert (first.count, second.count) == (len(ids) - 1, len(ids))
    _rehash_from(database, ids[-1])
    (problem,) = checkpoints.verify(database.unit_of_work()).checkpoints.problems
    assert problem.kind == "rewritten"
    assert problem.reason.startswith(f"Record {ids[-1]} was rewritten after it was signed: ")


def test_tail_deletion_is_caught_from_the_database_a_backup_folder_or_a_file(
    database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = database.engine.url.render_as_string(hide_password=False)
    folder = tmp_path / "usb"
    code, out = _cli(capsys, url, "backup", "--to", str(folder))  # pg_dump on PostgreSQL
    assert code == 0, out
    assert "Checkpoint signed: the audit chain's" in out
    (kept,) = checkpoint.read_folder(folder).checkpoints
    saved = tmp_path / "by-hand.jsonl"
    saved.write_text(json.dumps(kept.to_json()) + "\n")
    ids = _ids(database)
    _sql(database, "DELETE FROM audit_record WHERE id > :id", id=ids[-4])
    report = checkpoints.verify(database.unit_of_work())
    (problem,) = report.checkpoints.problems
    assert problem.kind == "missing"
    assert problem.reason.startswith(f"{kept.count - len(ids) + 3} of the newest records")
    # Removed from the database too: the folder and the file still hold it.
    _sql(database, "DELETE FROM audit_checkpoint")
    assert checkpoints.verify(database.unit_of_work()).checkpoints.problems == []
    for option in (["--backups", str(folder)], ["--checkpoint", str(saved)]):
        code, out = _cli(capsys, url, "audit", "verify", *option)
        assert code == 1
        assert "of the newest records are missing" in out


def test_a_damaged_line_in_the_backup_folder_is_named_and_kept_not_skipped(
    database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Garbling the newest checkpoint's line would hide a deleted tail if unreadable lines
    were skipped: verify names the line instead, and the next backup keeps it as it was."""
    url = database.engine.url.render_as_string(hide_password=False)
    folder = tmp_path / "usb"
    code, out = _cli(capsys, url, "backup", "--to", str(folder))
    assert code == 0, out
    (path,) = folder.glob("kiosk-*-checkpoints.jsonl")
    (line,) = path.read_text().splitlines()
    garbled = line.replace('"count":', '"c0unt":')
    path.write_text(garbled + "\n\n")
    found = checkpoint.read_folder(folder)
    assert found.checkpoints == []
    (damaged,) = found.damaged
    assert damaged.kind == "damaged"
    assert damaged.reason == (
        f"Line 1 of {path} is not a readable checkpoint (damaged or changed by hand), so it "
        "could not be compared."
    )
    _sql(database, "DELETE FROM audit_checkpoint")
    code, out = _cli(capsys, url, "audit", "verify", "--backups", str(folder))
    assert code == 1
    assert f"Line 1 of {path} is not a readable checkpoint" in out
    # The next backup adds its own checkpoint and keeps the damaged line word for word.
    code, out = _cli(capsys, url, "backup", "--to", str(folder))
    assert code == 0, out
    lines = path.read_text().splitlines()
    assert lines[0] == garbled and len(lines) == 2
    assert len(checkpoint.read_folder(folder).checkpoints) == 1


def test_a_journal_row_written_with_sql_fails_verify_and_reconciliation(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    url = database.engine.url.render_as_string(hide_password=False)
    _sign(database)
    with database.unit_of_work() as uow:
        model = uow.session.scalars(select(JournalEntry).limit(1)).one()
        values = (model.event_id, model.customer_id, model.staff_id, model.at)
    _sql(
        database,
        "INSERT INTO journal_entry (event_id, customer_id, kind, points, at, staff_id) "
        "VALUES (:e, :c, 'release', 5000, :at, :s)",
        e=values[0],
        c=values[1],
        at=values[3],
        s=values[2],
    )
    with database.unit_of_work() as uow:
        fake = uow.session.scalar(select(func.max(JournalEntry.id)))
    report = checkpoints.verify(database.unit_of_work())
    assert report.chain.intact and not report.checkpoints.problems
    assert [(p.table, p.row_id, p.kind) for p in report.coverage.problems] == [
        ("journal_entry", fake, "unaudited")
    ]
    sentence = f"Points-journal entry {fake} is not accounted for by any audit record"
    code, out = _cli(capsys, url, "audit", "verify")
    assert code == 1 and sentence in out
    assert [(p.table, p.row_id) for p in reconciliation(database.unit_of_work()).unaccounted] == [
        ("journal_entry", fake)
    ]
    code, out = _cli(capsys, url, "report", "reconciliation")
    assert code == 1 and sentence in out


def test_a_redemption_deleted_with_sql_fails_verify_and_reconciliation(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    url = database.engine.url.render_as_string(hide_password=False)
    with database.unit_of_work() as uow:
        gone = uow.session.scalar(select(func.min(Redemption.id)))
    assert gone is not None
    _sql(database, "DELETE FROM redemption WHERE id = :id", id=gone)
    (problem,) = checkpoints.verify(database.unit_of_work()).coverage.problems
    assert (problem.table, problem.row_id, problem.kind) == ("redemption", gone, "missing")
    assert problem.reason.startswith(f"Redemption {gone}, written with audit record ")
    code, out = _cli(capsys, url, "audit", "verify")
    assert code == 1 and f"Redemption {gone}, written with audit record" in out
    code, out = _cli(capsys, url, "report", "reconciliation")
    assert code == 1 and f"Redemption {gone}, written with audit record" in out


def test_a_forged_or_foreign_checkpoint_proves_nothing(
    database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = database.engine.url.render_as_string(hide_password=False)
    signed = _sign(database)
    forged = {**signed.to_json(), "count": signed.count + 50}
    other = {**signed.to_json(), "event": "OTHER"}
    path = tmp_path / "forged.jsonl"
    path.write_text(json.dumps(forged) + "\n" + json.dumps(other) + "\nnot json\n")
    code, out = _cli(capsys, url, "audit", "verify", "--checkpoint", str(path))
    assert code == 1
    assert "does not carry a valid signature of this event's key" in out
    assert "missing" not in out  # the forged count is not believed


def test_only_a_supervisor_signs_on_demand(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    url = database.engine.url.render_as_string(hide_password=False)
    code, out = _cli(capsys, url, "audit", "checkpoint", "--staff", "R001")
    assert code == 1
    assert "Only a supervisor signs a checkpoint of the audit chain." in out
    with database.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count(AuditCheckpoint.id))) == 0


def test_the_sentences_in_chinese(database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    url = database.engine.url.render_as_string(hide_password=False)
    try:
        assert main(["--lang", "zh_CN", "--db", url, "audit", "checkpoint", "--staff", "S001"]) == 0
        out = capsys.readouterr().out
        assert "检查点" in out
        _sql(database, "DELETE FROM redemption WHERE id = (SELECT MIN(id) FROM redemption)")
        assert main(["--lang", "zh_CN", "--db", url, "audit", "verify"]) == 1
        captured = capsys.readouterr()
        assert "核销记录" in captured.err and "Redemption" not in captured.err
    finally:
        set_language("en")


def test_the_checkpoint_reaches_the_ledger_with_the_push(
    database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from sync.batch import read_batch
    from sync.ledger import Ledger

    url = database.engine.url.render_as_string(hide_password=False)
    ledger_url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    Ledger.open(ledger_url, create=True).dispose()
    code, out = _cli(capsys, url, "sync", "push", "--ledger", ledger_url)
    assert code == 0, out
    assert "Checkpoint signed: the audit chain's" in out
    (signed,) = checkpoints.stored(database.unit_of_work())
    ledger = Ledger.open(ledger_url)
    try:
        held = ledger.checkpoints(signed.event)
    finally:
        ledger.dispose()
    assert held == [signed.to_json()]
    exported = tmp_path / "ledger-checkpoints.jsonl"
    code, out = _cli(
        capsys, url, "ledger", "export-checkpoints", "--url", ledger_url, "--event",
        signed.event, "--out", str(exported),
    )  # fmt: skip
    assert code == 0, out
    assert checkpoint.read_file(exported).checkpoints[0].signature == signed.signature
    # By batch file too: the entry passes the batch's checks.
    _sign(database)
    batch = tmp_path / "batch.jsonl"
    code, out = _cli(capsys, url, "sync", "export-batch", str(batch))
    assert code == 0, out
    kinds = [kind for _key, kind, _payload in read_batch(batch.read_bytes(), "batch").entries]
    assert "audit_checkpoint" in kinds
