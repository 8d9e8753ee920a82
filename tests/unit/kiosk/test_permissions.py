"""Roles refused at the service layer, supervisor approval on the spot, and the rule that every
mutating service checks a role before it writes."""

from __future__ import annotations

import ast
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.demo import DEMO_PASSPHRASE, DEMO_PIN
from kiosk.errors import ApprovalNeeded, PermissionDenied, SignInError
from kiosk.models import AuditRecord, Base, Customer, Role, Staff, Visit
from kiosk.permissions import ALLOWED, NEEDS_APPROVAL, Action, Approval, may, refusal
from kiosk.services import (
    activation,
    booths,
    desk,
    imports,
    keys,
    personal_data,
    reception,
    settlement,
    slips,
    tracking,
)
from kiosk.services.approval import approve
from kiosk.services.auth import StaffSession, staff_session
from kiosk.services.slips import CartLine

ROOT = Path(__file__).resolve().parents[3]
MORNING = datetime(2026, 11, 28, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai


def _dump(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: what "the database is unchanged" compares."""
    with database.unit_of_work() as uow:
        return {
            table.name: sorted(
                (tuple(row) for row in uow.session.execute(table.select())), key=repr
            )
            for table in Base.metadata.sorted_tables
        }


def _customer(database: Database) -> int:
    with database.unit_of_work() as uow:
        customer_id = uow.session.scalar(
            select(Customer.id).where(~Customer.walk_in).order_by(Customer.id).limit(1)
        )
    assert customer_id is not None
    return customer_id


def _checked_in(database: Database, clock: FixedClock) -> tuple[int, int]:
    """A customer checked in by R001 to activation: (customer id, visit id)."""
    customer_id = _customer(database)
    r001 = staff_session(database.unit_of_work(), "R001", clock=clock)
    result = reception.check_in(
        database.unit_of_work(), customer_id, r001, route=reception.Queue.ACTIVATION, clock=clock
    )
    assert result.created
    with database.unit_of_work() as uow:
        visit_id = uow.session.scalar(select(Visit.id).where(Visit.customer_id == customer_id))
    assert visit_id is not None
    return customer_id, visit_id


def _slip(database: Database, clock: FixedClock) -> int:
    customer_id, _visit = _checked_in(database, clock)
    a001 = staff_session(database.unit_of_work(), "A001", clock=clock)
    key = keys.unlock(database.unit_of_work(), DEMO_PASSPHRASE)
    (slip,) = slips.issue_slips(
        database.unit_of_work(), customer_id, [CartLine("O501")], a001, key, clock=clock
    )
    return slip.serial


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MORNING)


# Each case: (who, what they try, the refusal's words). The first five are the boundaries the
# issue names; the rest walk the other stations.
Attempt = Callable[[Database, StaffSession, FixedClock], object]


def _issue(db: Database, staff: StaffSession, clock: FixedClock) -> object:
    customer_id, _ = _checked_in(db, clock)
    key = keys.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
    return slips.issue_slips(db.unit_of_work(), customer_id, [CartLine("O501")], staff, key)


def _void(db: Database, staff: StaffSession, clock: FixedClock) -> object:
    serial = _slip(db, clock)
    return slips.void_slip(db.unit_of_work(), serial, staff, reason="x", clock=clock)


def _check_in(db: Database, staff: StaffSession, clock: FixedClock) -> object:
    return reception.check_in(db.unit_of_work(), _customer(db), staff, clock=clock)


def _import(db: Database, staff: StaffSession, clock: FixedClock) -> object:
    path = ROOT / "does-not-matter.csv"  # refused before the file is read
    return imports.import_file(db.unit_of_work(), "invitations", path, staff, clock=clock)


def _call(db: Database, staff: StaffSession, clock: FixedClock) -> object:
    _checked_in(db, clock)
    return desk.call_next(
        db.unit_of_work(), staff, desk="J01", queue=reception.Queue.ACTIVATION, clock=clock
    )


def _record_step(db: Database, staff: StaffSession, clock: FixedClock) -> object:
    customer_id, _ = _checked_in(db, clock)
    step = next(iter(activation.Step))
    return activation.record_step(db.unit_of_work(), customer_id, step, staff, clock=clock)


def _export_pack(db: Database, staff: StaffSession, clock: FixedClock) -> object:
    return booths.export_pack(db.unit_of_work(), "M01", DEMO_PASSPHRASE, staff, clock=clock)


def _close(db: Database, staff: StaffSession, clock: FixedClock) -> object:
    return settlement.close_event(db.unit_of_work(), staff, clock=clock)


def _catalog_url(db: Database, staff: StaffSession, clock: FixedClock) -> object:
    return tracking.set_catalog_url(db.unit_of_work(), "https://example.com/c", staff, clock=clock)


def _purge(db: Database, staff: StaffSession, clock: FixedClock) -> object:
    return personal_data.purge(db.unit_of_work(), staff, clock=clock)


def _new_key(db: Database, staff: StaffSession, clock: FixedClock) -> object:
    return keys.create_event_key(db.unit_of_work(), DEMO_PASSPHRASE, staff, clock=clock)


def _walk_in(db: Database, staff: StaffSession, clock: FixedClock) -> object:
    return reception.register_walk_in(
        db.unit_of_work(),
        name="王五",
        phone="13800001234",
        branch_code="B01",
        staff=staff,
        clock=clock,
    )


REFUSED: list[tuple[str, Attempt, str]] = [
    ("R001", _issue, "Only activation staff or a supervisor issue slips."),
    ("RM001", _void, "Only activation staff or a supervisor void slips."),
    ("M001", _check_in, "Only reception staff or a supervisor check customers in."),
    ("A001", _import, "Only relationship managers or a supervisor import files."),
    ("R001", _call, "Only relationship managers, activation staff or a supervisor work a queue."),
    ("RM001", _record_step, "Only activation staff or a supervisor record activation steps."),
    ("A001", _export_pack, "Only merchant staff or a supervisor export merchant packs."),
    ("M001", _close, "Only a supervisor closes the event."),
    ("RM001", _catalog_url, "Only a supervisor sets the e-catalog address."),
    ("A001", _purge, "Only a supervisor removes the personal data."),
    ("M001", _new_key, "Only a supervisor creates a signing key."),
    ("A001", _walk_in, "Only reception staff or a supervisor register walk-in customers."),
]


@pytest.mark.parametrize(
    ("staff_no", "attempt", "words"),
    REFUSED,
    ids=[f"{no}-{attempt.__name__.strip('_')}" for no, attempt, _ in REFUSED],
)
def test_a_role_refused_at_the_service_layer(
    demo_db: Database, clock: FixedClock, staff_no: str, attempt: Attempt, words: str
) -> None:
    staff = staff_session(demo_db.unit_of_work(), staff_no, clock=clock)
    # Each attempt sets up first (a check-in, a slip) with the right staff; the snapshot is
    # taken the moment the refused call checks the role, so it includes that set-up.
    calls: list[dict[str, list[tuple[Any, ...]]]] = []
    with pytest.raises(PermissionDenied) as refused:
        _snapshotting(demo_db, staff, calls, attempt, clock)
    assert str(refused.value) == words
    assert not isinstance(refused.value, ApprovalNeeded)
    assert calls, "the refused call never opened the database"
    assert _dump(demo_db) == calls[-1], "a refused call wrote something"


def _snapshotting(
    db: Database,
    staff: StaffSession,
    calls: list[dict[str, list[tuple[Any, ...]]]],
    attempt: Attempt,
    clock: FixedClock,
) -> None:
    """Run ``attempt``, taking a snapshot of the database whenever ``staff`` is about to be
    checked: ``kiosk.permissions.require`` is the first thing every service does."""
    import kiosk.permissions as permissions

    real = permissions.may

    def may_and_snapshot(roles: Any, action: Action) -> bool:
        if set(roles) == set(staff.roles):
            calls.append(_dump(db))
        return real(roles, action)

    permissions.may = may_and_snapshot  # type: ignore[assignment]
    try:
        attempt(db, staff, clock)
    finally:
        permissions.may = real  # type: ignore[assignment]


def test_a_supervisor_is_refused_nothing(demo_db: Database, clock: FixedClock) -> None:
    assert all(may({Role.SUPERVISOR}, action) for action in Action)
    s001 = staff_session(demo_db.unit_of_work(), "S001", clock=clock)
    # The same calls the other roles were refused all go through for the supervisor.
    _walk_in(demo_db, s001, clock)
    _check_in(demo_db, s001, clock)
    key = keys.unlock(demo_db.unit_of_work(), DEMO_PASSPHRASE)
    customer_id = _customer(demo_db)
    (slip,) = slips.issue_slips(
        demo_db.unit_of_work(), customer_id, [CartLine("O501")], s001, key, clock=clock
    )
    assert (
        slips.record_print(demo_db.unit_of_work(), slip.serial, s001, printed=True, clock=clock)
        == 1
    )
    assert (
        slips.record_print(demo_db.unit_of_work(), slip.serial, s001, printed=True, clock=clock)
        == 2
    )
    slips.void_slip(demo_db.unit_of_work(), slip.serial, s001, reason="x", clock=clock)
    _export_pack(demo_db, s001, clock)
    _catalog_url(demo_db, s001, clock)
    _new_key(demo_db, s001, clock)
    _close(demo_db, s001, clock)
    with demo_db.unit_of_work() as uow:
        records = uow.session.scalars(
            select(AuditRecord).where(
                AuditRecord.action.in_(["slip_voided", "slip_printed", "slips_released"])
            )
        ).all()
    # A supervisor acting needs nobody else: no approver recorded.
    assert records and all(r.approved_by is None for r in records)
    assert all(r.staff_id == s001.staff_id for r in records)


def test_every_action_has_a_rule_and_a_sentence() -> None:
    assert set(ALLOWED) == set(Action)
    for action in Action:
        assert refusal(action).startswith("Only ")
    assert set(Action) >= NEEDS_APPROVAL


# Writes that are not a member of staff's: sign-in itself, the approval, the booth's own
# delivery over the LAN (authenticated by its bundle MAC) and its online redemption, and the
# idle lock's own record that a station's screen was covered or uncovered.
NO_STAFF = {
    ("audit_trail.py", "_record"),
    ("auth.py", "sign_in"),
    ("auth.py", "sign_out"),
    ("auth.py", "check_pin"),
    ("approval.py", "approve"),
    ("booths.py", "deliver_bundle"),
    ("booths.py", "_import_bundle"),
    ("booths.py", "redeem_online"),
    # The gateway's online redemption in one transaction (issue #23): the booth's request is
    # authenticated by its seal, checked inside the transaction before anything is read.
    ("booths.py", "redeem_slip_code"),
    # The ledger's answers to a push (delivery state of outbox entries only); the push runs
    # unattended as the app's background child process.
    ("ledger_push.py", "record_push"),
    # The same by batch file: what a batch carried, and the ledger key whose signed answers
    # mark the outbox (as a push's ledger URL decides where the answers come from).
    ("ledger_batch.py", "record_export"),
    ("ledger_batch.py", "trust_ledger_key"),
}
CHECKS = {"require", "approved_by", "approved_or_setup"}


def test_every_mutating_service_checks_a_role_first() -> None:
    """Any function in kiosk/services that commits must call a permission check, and before
    its first ``with uow`` (so a refusal writes nothing)."""
    unchecked = []
    for path in sorted((ROOT / "kiosk" / "services").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef):
                continue
            source = ast.unparse(node)
            if "uow.commit()" not in source or (path.name, node.name) in NO_STAFF:
                continue
            calls = [
                n.func.id
                for n in ast.walk(node)
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            ]
            if not CHECKS & set(calls):
                unchecked.append(f"{path.name}:{node.name}")
    assert unchecked == []
    # The exempt ones exist (the list is not stale).
    names = {
        (path.name, node.name)
        for path in (ROOT / "kiosk" / "services").glob("*.py")
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef)
    }
    assert names >= NO_STAFF


# -- approval on the spot -------------------------------------------------------------------


def _undo_records(database: Database) -> list[AuditRecord]:
    with database.unit_of_work() as uow:
        return list(
            uow.session.scalars(
                select(AuditRecord).where(AuditRecord.action == "check_in_undone")
            ).all()
        )


def test_undo_needs_a_supervisor_and_records_who_approved(
    demo_db: Database, clock: FixedClock
) -> None:
    _customer_id, visit_id = _checked_in(demo_db, clock)
    r001 = staff_session(demo_db.unit_of_work(), "R001", clock=clock)
    before = _dump(demo_db)
    with pytest.raises(ApprovalNeeded, match="approve undoing a check-in"):
        reception.undo_check_in(demo_db.unit_of_work(), visit_id, r001, clock=clock)
    assert _dump(demo_db) == before
    approval = approve(
        demo_db.unit_of_work(), "s001", DEMO_PIN, action=Action.UNDO_CHECK_IN, clock=clock
    )
    assert approval.staff_no == "S001"
    reception.undo_check_in(demo_db.unit_of_work(), visit_id, r001, approval=approval, clock=clock)
    (record,) = _undo_records(demo_db)
    assert record.staff_id == r001.staff_id
    assert record.approved_by == approval.staff_id
    with demo_db.unit_of_work() as uow:
        assert uow.session.get(Visit, visit_id) is None
        given = uow.session.scalars(
            select(AuditRecord).where(AuditRecord.action == "approval_given")
        ).all()
    assert [(g.staff_id, g.details) for g in given] == [
        (approval.staff_id, '{"for":"undo_check_in"}')
    ]


def test_an_approval_is_for_one_action(demo_db: Database, clock: FixedClock) -> None:
    _customer_id, visit_id = _checked_in(demo_db, clock)
    r001 = staff_session(demo_db.unit_of_work(), "R001", clock=clock)
    for_a_void = approve(
        demo_db.unit_of_work(), "S001", DEMO_PIN, action=Action.VOID_SLIP, clock=clock
    )
    with pytest.raises(ApprovalNeeded):
        reception.undo_check_in(
            demo_db.unit_of_work(), visit_id, r001, approval=for_a_void, clock=clock
        )
    # Nobody approves their own action: a hand-made approval naming the actor is refused.
    own = Approval(r001.staff_id, r001.staff_no, r001.name, Action.UNDO_CHECK_IN)
    with pytest.raises(ApprovalNeeded, match="other than yourself"):
        reception.undo_check_in(demo_db.unit_of_work(), visit_id, r001, approval=own, clock=clock)
    assert _undo_records(demo_db) == []


def test_wrong_pin_approves_nothing_and_counts(demo_db: Database, clock: FixedClock) -> None:
    with pytest.raises(SignInError, match=r"Wrong PIN\. 4 attempts left"):
        approve(demo_db.unit_of_work(), "S001", "0000", action=Action.VOID_SLIP, clock=clock)
    with demo_db.unit_of_work() as uow:
        staff = uow.session.scalar(select(Staff).where(Staff.staff_no == "S001"))
        assert staff is not None and staff.failed_attempts == 1
        actions = list(
            uow.session.scalars(select(AuditRecord.action).order_by(AuditRecord.id.desc()))
        )
    assert actions[0] == "approval_failed"
    assert "approval_given" not in actions


def test_only_a_supervisor_can_approve(demo_db: Database, clock: FixedClock) -> None:
    with pytest.raises(PermissionDenied, match="A001 is not a supervisor"):
        approve(demo_db.unit_of_work(), "A001", DEMO_PIN, action=Action.VOID_SLIP, clock=clock)
    with demo_db.unit_of_work() as uow:
        last = uow.session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc())).first()
    assert last is not None and last.action == "approval_refused"


def test_void_with_approval_records_the_supervisor(demo_db: Database, clock: FixedClock) -> None:
    serial = _slip(demo_db, clock)
    a001 = staff_session(demo_db.unit_of_work(), "A001", clock=clock)
    with pytest.raises(ApprovalNeeded, match="approve voiding a slip"):
        slips.void_slip(demo_db.unit_of_work(), serial, a001, reason="x", clock=clock)
    approval = approve(
        demo_db.unit_of_work(), "S001", DEMO_PIN, action=Action.VOID_SLIP, clock=clock
    )
    slips.void_slip(
        demo_db.unit_of_work(), serial, a001, reason="x", approval=approval, clock=clock
    )
    with demo_db.unit_of_work() as uow:
        record = uow.session.scalar(select(AuditRecord).where(AuditRecord.action == "slip_voided"))
    assert record is not None and record.approved_by == approval.staff_id


def test_reprint_after_the_first_copy_needs_approval(demo_db: Database, clock: FixedClock) -> None:
    serial = _slip(demo_db, clock)
    a001 = staff_session(demo_db.unit_of_work(), "A001", clock=clock)
    # A failed first print, then the first copy: nobody needed.
    assert slips.record_print(demo_db.unit_of_work(), serial, a001, printed=False, clock=clock) == 0
    assert slips.record_print(demo_db.unit_of_work(), serial, a001, printed=True, clock=clock) == 1
    with pytest.raises(ApprovalNeeded, match="printing a slip again"):
        slips.record_print(demo_db.unit_of_work(), serial, a001, printed=True, clock=clock)
    approval = approve(
        demo_db.unit_of_work(), "S001", DEMO_PIN, action=Action.REPRINT_SLIP, clock=clock
    )
    copies = slips.record_print(
        demo_db.unit_of_work(), serial, a001, printed=True, approval=approval, clock=clock
    )
    assert copies == 2


def test_import_before_any_staff_exists_needs_nobody(any_empty_url: str, tmp_path: Path) -> None:
    """The first event and staff list come in before anyone could sign in; after that, an
    import needs a member of staff again."""
    from kiosk.db import open_database
    from tests.unit.kiosk.services.test_imports import BRANCH_ROWS, STAFF_ROWS, write_xlsx

    database = open_database(any_empty_url)
    clock = FixedClock(MORNING)
    try:
        imports.create_event(
            database.unit_of_work(),
            code="T1",
            name="测试",
            event_date=MORNING.date(),
            venue="",
            slots=[imports.SlotSpec("AM", "上午", time(9), time(11), 10)],
            clock=clock,
        )
        branches = write_xlsx(tmp_path / "b.xlsx", BRANCH_ROWS)
        staff = write_xlsx(tmp_path / "s.xlsx", STAFF_ROWS)
        assert imports.import_file(
            database.unit_of_work(), "branches", branches, None, clock=clock
        ).created
        assert imports.import_file(
            database.unit_of_work(), "staff", staff, None, clock=clock
        ).created
        with pytest.raises(PermissionDenied, match="import files"):
            imports.import_file(database.unit_of_work(), "branches", branches, None, clock=clock)
        rm = staff_session(database.unit_of_work(), "RM001", clock=clock)
        with pytest.raises(ApprovalNeeded, match="importing a file"):
            imports.import_file(database.unit_of_work(), "branches", branches, rm, clock=clock)
        with database.unit_of_work() as uow:
            records = uow.session.scalars(
                select(AuditRecord.action).where(AuditRecord.action.like("import_%"))
            ).all()
        assert list(records) == ["import_branches", "import_staff"]
    finally:
        database.dispose()
