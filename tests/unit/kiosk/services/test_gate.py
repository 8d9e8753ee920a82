"""The redemption gate (issue #16, symptom 9): the bank's rule that a customer completes the
event's required steps (by default: data complete and valid, mobile banking active) before
any slip is issued, enforced in ``issue_slips`` itself, said in words, and overridden only by
a supervisor on the spot, which the audit records. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.errors import ApprovalNeeded, KioskError, PermissionDenied
from kiosk.i18n import set_language
from kiosk.kyc import governance_gaps
from kiosk.models import (
    AuditRecord,
    Customer,
    Invitation,
    MobileBanking,
    Offer,
    Slip,
    Staff,
    VisitStep,
)
from kiosk.permissions import Action
from kiosk.services import activation, desk, gate, keys, reception
from kiosk.services.auth import staff_session
from kiosk.services.gate import Requirement
from kiosk.services.slips import CartLine, GateClosed, SlipError, issue_slips
from tests.approval_support import s001_approves
from tests.conftest import DEMO_DATE
from tests.points_support import drop_lots

MORNING = FixedClock(datetime(2026, 11, 28, 1, 10, tzinfo=UTC))


def _find(db: Database, wanted: Callable[[Customer], bool]) -> int:
    """The first invited demo customer ``wanted`` accepts, given points to spend."""
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup
        s = uow.session
        for customer in s.scalars(
            select(Customer)
            .join(Invitation, Invitation.customer_id == Customer.id)
            .order_by(Customer.customer_no)
        ):
            if wanted(customer):
                s.execute(
                    update(Customer).where(Customer.id == customer.id).values(points_balance=50_000)
                )
                drop_lots(s, Customer.id == customer.id)
                uow.commit()
                return customer.id
    raise AssertionError("no such demo customer")


def _checked_in(db: Database, wanted: Callable[[Customer], bool]) -> int:
    customer_id = _find(db, wanted)
    reception.check_in(
        db.unit_of_work(),
        customer_id,
        staff_session(db.unit_of_work(), "R001", clock=MORNING),
        clock=MORNING,
    )
    return customer_id


def _expired_and_gappy(c: Customer) -> bool:
    gaps = governance_gaps(c, DEMO_DATE)
    return gaps.get("id_valid_to") == "expired" and len(gaps) >= 2


def _ready(c: Customer) -> bool:
    return not governance_gaps(c, DEMO_DATE) and c.mobile_banking == MobileBanking.ACTIVE


def _issue(db: Database, customer_id: int, staff_no: str = "A001", **kwargs: object) -> list:  # type: ignore[type-arg]
    key = keys.unlock(db.unit_of_work(), DEMO_PASSPHRASE)
    return issue_slips(
        db.unit_of_work(),
        customer_id,
        [CartLine("O501")],
        staff_session(db.unit_of_work(), staff_no, clock=MORNING),
        key,
        clock=MORNING,
        **kwargs,  # type: ignore[arg-type]
    )


def _nothing_issued(db: Database) -> None:
    with db.unit_of_work() as uow:
        s = uow.session
        assert s.scalar(select(func.count(Slip.id))) == 0
        assert s.scalar(select(Offer.reserved).where(Offer.code == "O501")) == 0


def test_the_gate_refuses_in_the_service_and_says_why(any_demo_db: Database) -> None:
    """An expired ID and missing fields: no slip, and a sentence that names what is missing
    and where to send the customer."""
    customer_id = _checked_in(any_demo_db, _expired_and_gappy)
    with pytest.raises(SlipError) as refused:
        _issue(any_demo_db, customer_id)
    message = str(refused.value)
    assert "ID validity expired" in message
    assert "service desk" in message
    _nothing_issued(any_demo_db)


def _staff_id(db: Database, staff_no: str) -> int:
    with db.unit_of_work() as uow:
        found = uow.session.scalar(select(Staff.id).where(Staff.staff_no == staff_no))
        assert found is not None
        return found


def _overrides(db: Database) -> list[tuple[int | None, int | None, str]]:
    with db.unit_of_work() as uow:
        return [
            tuple(row)  # type: ignore[misc]
            for row in uow.session.execute(
                select(AuditRecord.staff_id, AuditRecord.approved_by, AuditRecord.details)
                .where(AuditRecord.action == "gate_overridden")
                .order_by(AuditRecord.id)
            )
        ]


def test_the_refusal_lists_every_missing_step(any_demo_db: Database) -> None:
    customer_id = _checked_in(
        any_demo_db,
        lambda c: _expired_and_gappy(c) and c.mobile_banking == MobileBanking.NONE,
    )
    with pytest.raises(GateClosed) as refused:
        _issue(any_demo_db, customer_id)
    closed = refused.value.gate
    assert closed.required == (Requirement.DATA, Requirement.MOBILE_BANKING)
    assert [m.requirement for m in closed.missing] == [
        Requirement.DATA,
        Requirement.MOBILE_BANKING,
    ]
    message = str(refused.value)
    assert "Data incomplete (" in message and "No mobile banking" in message
    assert "A supervisor may approve" in message
    # The activation desk reads the same gate before F9.
    shown = activation.desk_customer(any_demo_db.unit_of_work(), customer_id, clock=MORNING)
    assert shown.gate == closed
    # In Chinese, as staff read it: full stops and lists as Chinese writes them.
    set_language("zh_CN")
    with pytest.raises(GateClosed) as refused:
        _issue(any_demo_db, customer_id)
    assert str(refused.value).startswith("暂不能出券。资料不完整（证件有效期已过期、")
    assert str(refused.value).endswith(
        "）：请引导客户到业务办理台。未开通手机银行：请引导客户到业务办理台开通。"
        "如需破例出券，须主管当场授权。"
    )


def test_the_gate_passes_once_the_steps_are_done(any_demo_db: Database) -> None:
    ready = _checked_in(any_demo_db, _ready)
    assert [s.offer for s in _issue(any_demo_db, ready)] == ["电影票两张"]

    # Mobile banking opened but never used: F6 at this desk makes it active.
    opened = _checked_in(
        any_demo_db,
        lambda c: not governance_gaps(c, DEMO_DATE) and c.mobile_banking == MobileBanking.OPENED,
    )
    with pytest.raises(GateClosed, match=r"log in with the customer here \(F6\)"):
        _issue(any_demo_db, opened)
    activation.record_step(
        any_demo_db.unit_of_work(),
        opened,
        activation.Step.MOBILE_BANKING_LOGIN,
        staff_session(any_demo_db.unit_of_work(), "A001", clock=MORNING),
        clock=MORNING,
    )
    assert len(_issue(any_demo_db, opened)) == 1

    # One field missing: the RM completes it at the service desk, then slips.
    gappy = _checked_in(
        any_demo_db,
        lambda c: (
            governance_gaps(c, DEMO_DATE) == {"occupation_code": "missing"}
            and c.mobile_banking == MobileBanking.ACTIVE
        ),
    )
    with pytest.raises(GateClosed, match="Occupation missing"):
        _issue(any_demo_db, gappy)
    form = desk.current_form(any_demo_db.unit_of_work(), gappy)
    desk.save_governance(
        any_demo_db.unit_of_work(),
        gappy,
        replace(form, occupation_code="2"),
        staff_session(any_demo_db.unit_of_work(), "RM001", clock=MORNING),
        clock=MORNING,
    )
    assert len(_issue(any_demo_db, gappy)) == 1
    assert _overrides(any_demo_db) == []


def test_a_supervisor_overrides_on_the_spot_and_it_is_audited(any_demo_db: Database) -> None:
    customer_id = _checked_in(any_demo_db, _expired_and_gappy)
    # Activation staff alone cannot override, nor with an approval given for something else.
    with pytest.raises(ApprovalNeeded, match="before the required steps are done"):
        _issue(any_demo_db, customer_id, override=True)
    void_approval = s001_approves(any_demo_db, Action.VOID_SLIP, MORNING)
    with pytest.raises(ApprovalNeeded):
        _issue(any_demo_db, customer_id, override=True, approval=void_approval)
    _nothing_issued(any_demo_db)

    approval = s001_approves(any_demo_db, Action.OVERRIDE_GATE, MORNING)
    issued = _issue(any_demo_db, customer_id, override=True, approval=approval)
    assert len(issued) == 1
    s001, a001 = _staff_id(any_demo_db, "S001"), _staff_id(any_demo_db, "A001")
    [(actor, approver, details)] = _overrides(any_demo_db)
    assert (actor, approver) == (a001, s001)
    assert '"missing":["data"' in details and str(issued[0].serial) in details
    with any_demo_db.unit_of_work() as uow:
        s = uow.session
        step = s.scalar(select(VisitStep).where(VisitStep.step == "gate_overridden"))
        assert step is not None and step.staff_id == s001 and step.note.startswith("data")
        assert audit.verify(s) is None

    # A supervisor working the desk overrides as themself, and is named the same way.
    other = _checked_in(any_demo_db, lambda c: _expired_and_gappy(c) and c.id != customer_id)
    _issue(any_demo_db, other, "S001", override=True)
    assert [(a, b) for a, b, _d in _overrides(any_demo_db)] == [(a001, s001), (s001, s001)]

    # An override asked for a customer who is ready changes nothing and is not recorded.
    ready = _checked_in(any_demo_db, _ready)
    _issue(any_demo_db, ready, "S001", override=True)
    assert len(_overrides(any_demo_db)) == 2


def test_the_event_sets_what_is_required(any_demo_db: Database) -> None:
    assert gate.requirements(any_demo_db.unit_of_work()) == gate.DEFAULT_REQUIREMENTS
    a001 = staff_session(any_demo_db.unit_of_work(), "A001", clock=MORNING)
    s001 = staff_session(any_demo_db.unit_of_work(), "S001", clock=MORNING)
    with pytest.raises(PermissionDenied, match="Only a supervisor"):
        gate.set_requirements(any_demo_db.unit_of_work(), [], a001)
    gate.set_requirements(
        any_demo_db.unit_of_work(), ["scan_pay", "data", "mobile_banking"], s001, clock=MORNING
    )
    assert gate.requirements(any_demo_db.unit_of_work()) == (
        Requirement.DATA,
        Requirement.MOBILE_BANKING,
        Requirement.SCAN_PAY,
    )
    ready = _checked_in(any_demo_db, _ready)
    with pytest.raises(GateClosed, match=r"Charity scan-pay not done.*\(F7\)"):
        _issue(any_demo_db, ready)
    activation.record_step(
        any_demo_db.unit_of_work(), ready, activation.Step.CHARITY_PAID, a001, clock=MORNING
    )
    assert len(_issue(any_demo_db, ready)) == 1

    # Nothing required: any checked-in customer gets slips, and no override is recorded.
    gate.set_requirements(any_demo_db.unit_of_work(), gate.parse("none"), s001, clock=MORNING)
    gappy = _checked_in(any_demo_db, _expired_and_gappy)
    assert len(_issue(any_demo_db, gappy)) == 1
    assert _overrides(any_demo_db) == []
    with any_demo_db.unit_of_work() as uow:
        changes = uow.session.scalars(
            select(AuditRecord.details).where(AuditRecord.action == "redeem_requirements_set")
        ).all()
    assert changes == [
        '{"requires":["data","mobile_banking","scan_pay"],"was":["data","mobile_banking"]}',
        '{"requires":[],"was":["data","mobile_banking","scan_pay"]}',
    ]
    with pytest.raises(KioskError, match="Unknown requirement photo"):
        gate.parse("data,photo")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from cli.main import main

    try:
        code = main(["--lang", "en", *argv])
    except SystemExit as exit_:  # argparse usage errors
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_line_goes_through_the_same_gate(
    any_demo_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from kiosk.db import open_database

    monkeypatch.setenv("KIOSK_PASSPHRASE", DEMO_PASSPHRASE)
    monkeypatch.setenv("KIOSK_PIN", "1234")  # the acting staff's PIN, where it is asked
    monkeypatch.setenv("KIOSK_SUPERVISOR_PIN", "1234")
    database = open_database(any_demo_url)
    try:
        customer_id = _checked_in(database, _expired_and_gappy)
        with database.unit_of_work() as uow:
            customer = uow.session.get(Customer, customer_id)
            assert customer is not None
            number = customer.customer_no
    finally:
        database.dispose()
    issue = ["--db", any_demo_url, "slip", "issue", "--customer", number, "--offer", "O501"]
    issue += ["--out", str(tmp_path / "slip.pdf"), "--staff", "A001"]
    code, out, err = _run(capsys, *issue)
    assert code == 1 and out == ""
    # (after the line with the request id, printed before the command acts)
    assert "\nkiosk: Not ready for slips. Data incomplete (ID validity expired" in err
    assert "send the customer to the service desk" in err
    assert not (tmp_path / "slip.pdf").exists()
    code, _out, err = _run(capsys, *issue, "--override-gate")
    assert code == 1 and err.endswith("\nkiosk: " + _approval_sentence() + "\n")
    code, out, err = _run(capsys, *issue, "--override-gate", "--supervisor", "S001")
    assert code == 0 and "Slip 1 issued" in out
    assert err.startswith("Request ") and err.count("\n") == 1  # only the request id

    database = open_database(any_demo_url)
    try:
        s001, a001 = _staff_id(database, "S001"), _staff_id(database, "A001")
        assert [(a, b) for a, b, _d in _overrides(database)] == [(a001, s001)]
    finally:
        database.dispose()

    code, out, err = _run(capsys, "--db", any_demo_url, "event", "requires")
    assert (code, out) == (0, "Before slips: Data complete and valid, Mobile banking active.\n")
    code, out, err = _run(
        capsys, "--db", any_demo_url, "event", "requires", "data,scan_pay", "--staff", "S001"
    )
    assert (code, err) == (0, "")
    assert out == "Before slips: Data complete and valid, Charity scan-pay.\n"
    code, out, err = _run(capsys, "--db", any_demo_url, "event", "requires", "photo")
    assert code == 2 and "Unknown requirement photo" in err


def _approval_sentence() -> str:
    from kiosk.permissions import approval_sentence

    return approval_sentence(Action.OVERRIDE_GATE)


def test_event_create_takes_the_requirements(
    any_empty_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIOSK_PASSPHRASE", "a long event passphrase")
    create = ["--db", any_empty_url, "event", "create", "--code", "GZ2611", "--name", "活动"]
    create += ["--date", "2026-11-28", "--slot", "AM,上午场,09:00,11:30,120"]
    code, _out, err = _run(capsys, *create, "--requires", "data,login,photo")
    assert code == 2 and "Unknown requirement photo" in err
    code, _out, err = _run(capsys, *create, "--requires", "login,data")
    assert (code, err) == (0, "")
    code, out, _err = _run(capsys, "--db", any_empty_url, "event", "requires")
    assert out == "Before slips: Data complete and valid, Mobile-banking login at the event.\n"
