"""The audit chain: edits, deletions and reorders made with plain SQL are caught and placed
(SQLite and PostgreSQL, through the service and ``kiosk audit verify``); every transaction's
records carry digests of the rows it changed; strict mode refuses an unaudited change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from cli.main import main
from kiosk import audit
from kiosk.db import Database, open_database
from kiosk.models import AuditRecord, Branch, Role
from kiosk.services import audit_trail

START = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("empty_url" if request.param == "sqlite" else "pg_url"))


def _chain(url: str, n: int = 5) -> Database:
    database = open_database(url)
    for i in range(n):  # one transaction each, like the stations
        with database.unit_of_work() as uow:
            audit.append(
                uow.session,
                at=START + timedelta(minutes=i),
                action=f"step{i}",
                entity="visit",
                entity_id=i,
                details={"n": i},
            )
            uow.commit()
    return database


def _ids(database: Database) -> list[int]:
    with database.unit_of_work() as uow:
        return list(uow.session.scalars(select(AuditRecord.id).order_by(AuditRecord.id)))


def _sql(database: Database, *statements: str) -> None:
    """Tamper the way someone with the database file would: plain SQL, no kiosk code."""
    with database.engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def _verify_cli(capsys: pytest.CaptureFixture[str], url: str) -> tuple[int, str]:
    code = main(["--lang", "en", "--db", url, "audit", "verify"])
    out, err = capsys.readouterr()
    return code, out + err


def test_intact_chain_reports_count_and_head(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    database = _chain(url)
    report = audit_trail.verify_chain(database.unit_of_work())
    with database.unit_of_work() as uow:
        head = uow.session.scalar(select(AuditRecord.hash).order_by(AuditRecord.id.desc()))
    database.dispose()
    assert (report.intact, report.count, report.head) == (True, 5, head)
    code, out = _verify_cli(capsys, url)
    assert code == 0
    assert f"intact: 5 records, head {head[:16]}" in out


def test_edit_is_caught_and_placed(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    database = _chain(url)
    ids = _ids(database)
    _sql(database, f"""UPDATE audit_record SET details = '{{"n":99}}' WHERE id = {ids[2]}""")
    report = audit_trail.verify_chain(database.unit_of_work())
    database.dispose()
    assert [(p.kind, p.record_id) for p in report.problems] == [("edited", ids[2])]
    assert report.problems[0].reason == (
        f"record {ids[2]} (step2, 2026-11-28 01:02:00 UTC) was changed after it was written."
    )
    code, out = _verify_cli(capsys, url)
    assert code == 1
    assert f"record {ids[2]} (step2" in out and "changed after it was written" in out


def test_edit_with_recomputed_hash_is_caught_by_the_next_record(url: str) -> None:
    database = _chain(url)
    ids = _ids(database)
    with database.unit_of_work() as uow:  # a careful forger recomputes the record's hash
        record = uow.session.get(AuditRecord, ids[2])
        assert record is not None
        record.details = '{"n":99}'
        forged = audit._digest(record.prev_hash, record)
    _sql(
        database,
        f"""UPDATE audit_record SET details = '{{"n":99}}', hash = '{forged}' """
        f"WHERE id = {ids[2]}",
    )
    report = audit_trail.verify_chain(database.unit_of_work())
    database.dispose()
    assert [(p.kind, p.record_id) for p in report.problems] == [("edited", ids[2])]
    assert f"record {ids[3]} points to its original hash" in report.problems[0].reason


def test_deletion_is_caught_and_placed(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    database = _chain(url)
    ids = _ids(database)
    _sql(database, f"DELETE FROM audit_record WHERE id = {ids[2]}")
    report = audit_trail.verify_chain(database.unit_of_work())
    database.dispose()
    assert [(p.kind, p.record_id) for p in report.problems] == [("missing", ids[3])]
    assert report.problems[0].reason == (
        f"A record between record {ids[1]} and record {ids[3]} is missing."
    )
    code, out = _verify_cli(capsys, url)
    assert code == 1
    assert f"between record {ids[1]} and record {ids[3]} is missing" in out


def test_first_record_deleted(url: str) -> None:
    database = _chain(url)
    ids = _ids(database)
    _sql(database, f"DELETE FROM audit_record WHERE id = {ids[0]}")
    problem = audit.verify(_session := database.session_factory())
    _session.close()
    database.dispose()
    assert problem is not None
    assert (problem.kind, problem.record_id) == ("missing", ids[1])


def test_reorder_is_caught_and_placed(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    database = _chain(url)
    ids = _ids(database)
    # Swap two records' places, leaving each record's content and hashes untouched.
    _sql(
        database,
        f"UPDATE audit_record SET id = -1 WHERE id = {ids[1]}",
        f"UPDATE audit_record SET id = {ids[1]} WHERE id = {ids[3]}",
        f"UPDATE audit_record SET id = {ids[3]} WHERE id = -1",
    )
    report = audit_trail.verify_chain(database.unit_of_work())
    database.dispose()
    kinds = {p.kind for p in report.problems}
    assert kinds == {"reordered"}  # nothing edited, nothing missing
    first = report.problems[0]
    assert first.record_id == ids[1]
    assert first.reason == (
        f"record {ids[1]} (step3, 2026-11-28 01:03:00 UTC) is out of order: it was written "
        f"right after record {ids[2]}."
    )
    code, out = _verify_cli(capsys, url)
    assert code == 1
    assert f"record {ids[1]} (step3" in out and "out of order" in out


def test_tail_truncation_shows_only_in_count_and_head(url: str) -> None:
    """Documented limit: dropping the newest record leaves an intact but shorter chain."""
    database = _chain(url)
    before = audit_trail.verify_chain(database.unit_of_work())
    _sql(database, f"DELETE FROM audit_record WHERE id = {_ids(database)[-1]}")
    after = audit_trail.verify_chain(database.unit_of_work())
    database.dispose()
    assert after.intact
    assert (after.count, after.head) != (before.count, before.head)


# --- digests -------------------------------------------------------------------------------


def _records(database: Database) -> list[AuditRecord]:
    with database.unit_of_work() as uow:
        return list(uow.session.scalars(select(AuditRecord).order_by(AuditRecord.id)))


def test_digests_cover_the_rows_before_and_after(any_empty_url: str) -> None:
    database = open_database(any_empty_url)
    with database.unit_of_work() as uow:
        branch = Branch(code="B01", name="Main street", target=10)
        uow.session.add(branch)
        audit.append(uow.session, at=START, action="branch_added")
        uow.commit()
    values = {"id": 1, "code": "B01", "name": "Main street", "target": 10}
    created = _records(database)[-1]
    assert created.before_digest == ""
    assert created.after_digest == audit.rows_digest([("branch", "[1]", values)])

    with database.unit_of_work() as uow:
        branch = uow.session.get(Branch, 1)
        assert branch is not None
        branch.name = "High street"
        uow.session.flush()
        branch.target = 12  # a second flush in the same transaction
        audit.append(uow.session, at=START, action="branch_renamed")
        audit.append(uow.session, at=START, action="branch_target")
        uow.commit()
    renamed, retargeted = _records(database)[-2:]
    changed = {**values, "name": "High street", "target": 12}
    assert renamed.before_digest == created.after_digest  # the row as the last change left it
    assert renamed.after_digest == audit.rows_digest([("branch", "[1]", changed)])
    # Both records of the transaction vouch for the whole transaction.
    assert (retargeted.before_digest, retargeted.after_digest) == (
        renamed.before_digest,
        renamed.after_digest,
    )

    with database.unit_of_work() as uow:
        uow.session.delete(uow.session.get(Branch, 1))
        audit.append(uow.session, at=START, action="branch_removed")
        uow.commit()
    removed = _records(database)[-1]
    assert (removed.before_digest, removed.after_digest) == (renamed.after_digest, "")
    with database.unit_of_work() as uow:
        assert audit.verify(uow.session) is None  # the digests are inside the hash
    _sql(database, f"UPDATE audit_record SET after_digest = '' WHERE id = {renamed.id}")
    with database.unit_of_work() as uow:
        problem = audit.verify(uow.session)
    database.dispose()
    assert problem is not None and (problem.kind, problem.record_id) == ("edited", renamed.id)


def test_values_serialise_deterministically() -> None:
    assert audit.plain(datetime(2026, 11, 28, 9, 30, tzinfo=UTC)) == "2026-11-28T09:30:00+00:00"
    assert audit.plain(date(2026, 11, 28)) == "2026-11-28"
    assert audit.plain(b"\x01\xff") == "01ff"
    assert audit.plain(Role.SUPERVISOR) == "supervisor"
    rows = [("b", "[2]", {"x": 1}), ("a", "[1]", {"y": "é"})]
    assert audit.rows_digest(rows) == audit.rows_digest(list(reversed(rows)))
    assert audit.rows_digest([]) == ""


# --- strict mode ---------------------------------------------------------------------------


def test_strict_mode_refuses_an_unaudited_change(any_empty_url: str) -> None:
    database = open_database(any_empty_url)
    with database.unit_of_work() as uow:
        uow.session.add(Branch(code="B01", name="Main street"))
        with pytest.raises(audit.UnauditedChange, match="changed branch without an audit"):
            uow.commit()
    with database.unit_of_work() as uow:
        assert uow.session.scalar(select(Branch)) is None
    with audit.unaudited(), database.unit_of_work() as uow:
        uow.session.add(Branch(code="B01", name="Main street"))
        uow.commit()
    with database.unit_of_work() as uow:  # a bulk statement counts as a change too
        uow.session.execute(update(Branch).values(target=3))
        with pytest.raises(audit.UnauditedChange, match="branch"):
            uow.commit()
    with database.unit_of_work() as uow:  # reading commits nothing to audit
        assert uow.session.scalar(select(Branch.target)) is None
        uow.commit()
    database.dispose()


def test_strict_mode_is_off_without_the_setting(
    empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(audit.ENV_STRICT)
    database = open_database(empty_url)
    with database.unit_of_work() as uow:
        uow.session.add(Branch(code="B01", name="Main street"))
        uow.commit()
    with database.unit_of_work() as uow:
        assert uow.session.scalar(select(Branch.code)) == "B01"
    database.dispose()


# --- listing -------------------------------------------------------------------------------


def test_audit_list(demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from kiosk.clock import FixedClock
    from kiosk.services.auth import sign_in

    database = open_database(demo_url)
    morning = FixedClock(datetime(2026, 11, 28, 1, 10, tzinfo=UTC))
    sign_in(database.unit_of_work(), "R001", "1234", station="reception", clock=morning)
    database.dispose()
    code = main(["--lang", "en", "--db", demo_url, "audit", "list", "--staff", "r001"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == 1
    assert "R001" in lines[0] and "reception" in lines[0] and "sign_in (Signed in)" in lines[0]
    code = main(["--lang", "en", "--db", demo_url, "audit", "list", "--action", "nothing"])
    out, _err = capsys.readouterr()
    assert (code, out.strip()) == (0, "No audit records match.")
    code = main(["--lang", "en", "--db", demo_url, "audit", "list", "--limit", "2"])
    out, _err = capsys.readouterr()
    assert code == 0 and len(out.splitlines()) == 2


def _written_action_codes() -> set[str]:
    """Every literal ``action=`` given to ``audit.append`` in the code, with the f-string
    families (``import_{kind}``, ``{purpose}_failed``) expanded."""
    import ast
    from pathlib import Path

    from kiosk.imports import IMPORTABLE as ORDER

    root = Path(__file__).resolve().parents[3]
    codes: set[str] = set()
    for folder in ("kiosk", "sync", "ui", "cli"):
        for path in (root / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "append"
                ):
                    continue
                for keyword in node.keywords:
                    if keyword.arg != "action":
                        continue
                    value = keyword.value
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        codes.add(value.value)
                    elif isinstance(value, ast.IfExp):
                        codes.update(
                            v.value
                            for v in (value.body, value.orelse)
                            if isinstance(v, ast.Constant)
                        )
    codes |= {f"import_{kind}" for kind in ORDER}
    codes |= {f"{p}_{s}" for p in ("sign_in", "approval") for s in ("failed", "locked", "unknown")}
    return codes


def test_every_audited_action_has_words_on_the_audit_tab() -> None:
    from kiosk.labels import audit_action_label

    codes = _written_action_codes()
    assert {"check_in", "slip_voided", "approval_given", "ledger_pushed"} <= codes
    unlabelled = sorted(code for code in codes if audit_action_label(code) == code)
    assert unlabelled == []
