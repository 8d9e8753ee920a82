"""The personal points statement (issue #19): its figures are the customer's own lots, tier
and short list, read back from the printed PDF (80 mm and A4) with pdftotext; nothing on it
is a full ID number or phone; only reception, activation and a supervisor may print it, and
each print is audited without personal data. Both backends."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk import audit
from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.errors import KioskError, PermissionDenied
from kiosk.models import AuditRecord, Customer
from kiosk.points import LotInput, set_lots
from kiosk.privacy import full_values
from kiosk.services.auth import staff_session
from kiosk.services.customer_offers import offers_for
from kiosk.services.statement import customer_id_for, statement
from printing.flow import print_statement
from printing.paper import StatementPaper
from tests.points_support import drop_lots

MORNING = FixedClock(datetime(2026, 11, 28, 1, 10, tzinfo=UTC))  # 09:10 on the demo day
NUMBER = "6200000030"
LOTS = [
    LotInput("1", 1_200, date(2027, 1, 15)),  # within 3 months of 2026-11-28
    LotInput("2", 3_300, date(2027, 9, 30)),  # within 12 months
    LotInput("3", 40_000, None),  # never
]


def _customer(db: Database, *, aum: int | None) -> int:
    with audit.unaudited(), db.unit_of_work() as uow:  # test setup: the snapshot's lots
        customer = uow.session.scalar(select(Customer).where(Customer.customer_no == NUMBER))
        assert customer is not None
        drop_lots(uow.session, Customer.id == customer.id)
        set_lots(uow.session, customer, LOTS)
        customer.aum = aum
        customer_id = customer.id
        uow.commit()
    return customer_id


def _text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize("paper", [StatementPaper.ROLL_80MM, StatementPaper.A4])
def test_the_printed_statement_shows_the_lots_tier_and_short_list(
    any_demo_db: Database, tmp_path: Path, paper: StatementPaper
) -> None:
    customer_id = _customer(any_demo_db, aum=3_500_000)  # 钻石 (from 300万)
    r001 = staff_session(any_demo_db.unit_of_work(), "R001", clock=MORNING)
    pdf = tmp_path / "statement.pdf"
    outcome = print_statement(
        any_demo_db.unit_of_work, customer_id, r001, pdf, paper=paper, clock=MORNING
    )
    assert not outcome.failed and pdf.exists()
    words = _text(pdf)
    flat = " ".join(words.split())
    assert "44,500 points" in flat  # the balance: every lot's points
    # (On the roll a label may wrap beside its figure: each part is looked for.)
    assert "Within 3 months" in flat and "2027-02-28" in flat and "1,200 points" in flat
    assert "2027-01-15" in flat and "2027-09-30" in flat and "3,300 points" in flat
    assert "4,500 points" in flat  # within 12 months: both dated lots
    assert "Your tier: 钻石" in flat
    assert "部分服务享更低的积分价和专属名额" in "".join(words.split())  # the tier's meaning
    assert "Points come from your assets" in flat
    # The short list: offers_for's, each with its price and what is left after it.
    short = offers_for(any_demo_db.unit_of_work(), customer_id, clock=MORNING).short
    assert 3 <= len(short) <= 5
    for offer in short:
        assert offer.name in "".join(words.split())
        assert f"{offer.left_after:,} points" in flat
    # 钻石 pays 7,000 for 双人自助晚餐 (its own price is 9,000) when it is on the list.
    dinner = next((o for o in short if o.code == "O602"), None)
    if dinner is not None:
        assert "7,000 points" in flat and "(instead of 9,000)" in flat
    # Only masked personal data: the full ID number and phone are nowhere.
    everyone = full_values(any_demo_db.unit_of_work(), DEMO_PASSPHRASE)
    full = next(p for p in everyone if p.customer_no == NUMBER)
    with any_demo_db.unit_of_work() as uow:
        name = uow.session.scalar(select(Customer.name).where(Customer.id == customer_id))
    assert name
    raw = pdf.read_bytes().decode("latin-1")
    for secret in (full.id_number, full.phone, name, NUMBER):
        assert secret and secret not in words and secret not in raw
    assert name[0] + "*" * max(len(name) - 1, 1) in flat
    assert "62******30" in flat


def test_a_customer_in_no_tier_is_told_the_offers_own_prices_apply(any_demo_db: Database) -> None:
    customer_id = _customer(any_demo_db, aum=10_000)  # below 金卡's 5万
    a001 = staff_session(any_demo_db.unit_of_work(), "A001", clock=MORNING)
    document = statement(any_demo_db.unit_of_work(), customer_id, a001, clock=MORNING)
    assert document.tier_name == ""
    assert "every service is at its own price" in document.tier_meaning
    assert (document.balance, document.expiring_3m, document.expiring_12m) == (
        44_500,
        1_200,
        4_500,
    )
    assert [(lot.expires_on, lot.points, lot.soon) for lot in document.lots] == [
        (date(2027, 1, 15), 1_200, True),
        (date(2027, 9, 30), 3_300, False),
    ]
    assert all(o.price == o.list_price for o in document.offers)


def test_a_merchant_may_not_and_a_print_is_audited_without_personal_data(
    any_demo_db: Database, tmp_path: Path
) -> None:
    customer_id = _customer(any_demo_db, aum=None)
    m001 = staff_session(any_demo_db.unit_of_work(), "M001", clock=MORNING)
    with pytest.raises(PermissionDenied, match="Only reception staff, activation staff"):
        statement(any_demo_db.unit_of_work(), customer_id, m001, clock=MORNING)
    with pytest.raises(PermissionDenied):
        print_statement(any_demo_db.unit_of_work, customer_id, m001, tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()
    s001 = staff_session(any_demo_db.unit_of_work(), "S001", clock=MORNING)
    print_statement(any_demo_db.unit_of_work, customer_id, s001, tmp_path / "s.pdf", clock=MORNING)
    with any_demo_db.unit_of_work() as uow:
        record = uow.session.scalar(
            select(AuditRecord).where(AuditRecord.action == "statement_printed")
        )
        assert record is not None
        assert (record.entity, record.entity_id, record.staff_id) == (
            "customer",
            str(customer_id),
            s001.staff_id,
        )
        assert json.loads(record.details) == {"paper": "80mm"}
    with pytest.raises(KioskError, match="No customer has the customer number 6299999999"):
        customer_id_for(any_demo_db.unit_of_work(), "6299999999")
