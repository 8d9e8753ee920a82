"""The governance form as a person fills it in (#16 symptoms 3 and 4): 长期 without leftovers,
dates typed as on the card, no ID number retyped for new dates, live marks, and a summary in
words. The saves run on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.governance import (
    KycForm,
    OnRecord,
    field_states,
    is_long_term_text,
    normalized,
    read_date,
    summary,
    validate,
)
from kiosk.i18n import set_language
from kiosk.idcard import check_digit
from kiosk.kyc import governance_gaps
from kiosk.models import Customer, GovernanceChange, MobileBanking
from kiosk.services import desk, reception
from kiosk.services.auth import staff_session
from tests.conftest import DEMO_DATE

TODAY = DEMO_DATE
MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)


def _id(first17: str) -> str:
    return first17 + check_digit(first17)


# The form as the desk loads it for a customer whose ID expired: the sealed fields as masks.
LOADED = KycForm(
    name="张三",
    gender="M",
    nationality="CHN",
    occupation_code="4",
    address="广州市天河区****",
    phone="138****5678",
    id_type="resident_id",
    id_number="440106********0013",
    id_valid_from=date(2006, 5, 3),
    id_valid_to=date(2026, 5, 3),
    id_long_term=False,
    tax_residency="CN",
)
RECORD = OnRecord(
    phone_masked="138****5678",
    id_masked="440106********0013",
    id_number_valid=True,
    address_masked="广州市天河区****",
    id_type="resident_id",
    id_valid_from=date(2006, 5, 3),
    id_valid_to=date(2026, 5, 3),
    id_long_term=False,
)
# What the RM leaves the masked fields as: untouched (None keeps the sealed value).
UNTOUCHED = replace(LOADED, phone=None, id_number=None, address=None)


def test_ticking_long_term_drops_the_end_date_left_in_the_field() -> None:
    renewed = replace(UNTOUCHED, id_valid_from=date(2026, 11, 20), id_long_term=True)
    assert renewed.id_valid_to == date(2026, 5, 3)  # still in the field when ticked
    assert normalized(renewed).id_valid_to is None
    assert validate(renewed, TODAY, RECORD) == {}


def test_new_dates_need_no_retyped_number() -> None:
    """The sealed number on record passed its check when stored; new dates are judged
    by the law's periods without it."""
    renewed = replace(UNTOUCHED, id_valid_from=date(2026, 11, 20), id_valid_to=date(2046, 11, 20))
    assert validate(renewed, TODAY, RECORD) == {}
    for years in (5, 10):
        end = date(2026 + years, 11, 20)
        assert validate(replace(renewed, id_valid_to=end), TODAY, RECORD) == {}
    odd = validate(replace(renewed, id_valid_to=date(2033, 11, 20)), TODAY, RECORD)
    assert set(odd) == {"id_valid_to"} and "5, 10 or 20 years" in odd["id_valid_to"]
    # Another kind of document is another number: that one is typed.
    passport = validate(replace(renewed, id_type="passport"), TODAY, RECORD)
    assert "id_number" in passport
    # A number typed from the card is still checked against its birth date, as before.
    typed = replace(renewed, id_number=_id("44010619900101001"))  # born 1990: 20 years at 36
    assert validate(typed, TODAY, RECORD) == {}
    assert (
        "valid for 20 years"
        in validate(replace(typed, id_long_term=True), TODAY, RECORD)["id_valid_to"]
    )


def test_marks_follow_the_typing() -> None:
    states = field_states(UNTOUCHED, TODAY, RECORD)
    assert states["id_valid_to"] == "expired"
    assert {f for f, s in states.items() if s != "ok"} == {"id_valid_to"}
    fixed = replace(UNTOUCHED, id_valid_from=date(2026, 11, 20), id_valid_to=date(2046, 11, 20))
    assert set(field_states(fixed, TODAY, RECORD).values()) == {"ok"}
    long_term = replace(UNTOUCHED, id_valid_from=date(2026, 11, 20), id_long_term=True)
    assert set(field_states(long_term, TODAY, RECORD).values()) == {"ok"}
    cleared = replace(UNTOUCHED, id_valid_to=None)
    assert field_states(cleared, TODAY, RECORD)["id_valid_to"] == "missing"
    assert field_states(replace(UNTOUCHED, occupation_code=None), TODAY, RECORD)[
        "occupation_code"
    ] == ("missing")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2016.05.03", date(2016, 5, 3)),
        ("2016-05-03", date(2016, 5, 3)),
        ("20160503", date(2016, 5, 3)),
        ("2016/5/3", date(2016, 5, 3)),
        ("2016年5月3日", date(2016, 5, 3)),
        ("２０１６．０５．０３", date(2016, 5, 3)),
        ("", None),
        ("  ", None),
    ],
)
def test_dates_as_on_the_card(text: str, expected: date | None) -> None:
    assert read_date(text) == expected


@pytest.mark.parametrize("text", ["2016.13.03", "2016.02.30", "201653", "yesterday", "长期"])
def test_text_that_is_no_date(text: str) -> None:
    with pytest.raises(ValueError, match="is not a date"):
        read_date(text)


def test_long_term_as_the_card_prints_it() -> None:
    for text in ("长期", " 长期 ", "长期有效", "Long-term"):
        assert is_long_term_text(text), text
    assert not is_long_term_text("2036.05.03")


def test_the_summary_says_what_the_customer_would_say() -> None:
    set_language("zh_CN")
    after = replace(
        UNTOUCHED,
        occupation_code="9",
        id_valid_from=date(2026, 11, 20),
        id_long_term=True,  # the old end date still in the field
        id_number="440106199001010013",  # retyped: the same visible digits
        phone="13912345678",
    )
    rows = summary(LOADED, after, RECORD)
    by_item = {item: (old, new) for item, old, new in rows}
    assert by_item["职业"] == ("社会生产服务和生活服务人员", "离退休人员")
    assert by_item["证件有效期"] == ("2006-05-03 至 2026-05-03", "2026-11-20 至 长期")
    assert by_item["手机号"] == ("138****5678", "139****5678")
    assert by_item["证件号码"] == ("440106********0013", "440106********0013（重新录入）")
    assert len(rows) == 4  # untouched fields and the address kept on record are not listed
    for _item, old, new in rows:  # no code, flag or Python value reaches the customer
        for value in (old, new):
            assert not value.isdigit() and value not in ("True", "False", "None"), value
            assert "resident_id" not in value and "True" not in value
    blank = replace(LOADED, id_valid_from=None, id_valid_to=None)  # a walk-in's first form
    assert summary(blank, replace(blank, id_valid_from=date(2016, 5, 3), id_long_term=True)) == [
        ("证件有效期", "—", "2016-05-03 至 长期")
    ]
    gender = summary(LOADED, replace(UNTOUCHED, gender="F", tax_residency="CN_AND_OTHER"), RECORD)
    assert ("性别", "男", "女") in gender
    assert ("税收居民身份", "仅为中国税收居民", "既是中国也是其他国家税收居民") in gender


# -- saved, on both backends -----------------------------------------------------------------


def _expired_customer(db: Database) -> int:
    with db.unit_of_work() as uow:
        for customer in uow.session.scalars(select(Customer).order_by(Customer.id)):
            if (
                customer.id_valid_to is not None
                and customer.id_valid_to < TODAY
                and customer.id_number_valid
                and customer.rm is not None
                and customer.mobile_banking == MobileBanking.NONE
            ):
                return customer.id
    raise AssertionError("the demo has an expired ID")


def test_a_long_term_id_is_saved_without_retyping(any_demo_db: Database) -> None:
    clock = FixedClock(MORNING)
    customer_id = _expired_customer(any_demo_db)
    staff = staff_session(any_demo_db.unit_of_work(), "R001", clock=clock)
    reception.check_in(any_demo_db.unit_of_work(), customer_id, staff, clock=clock)
    with any_demo_db.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None and customer.rm is not None
        rm_no, mask_before = customer.rm.staff_no, customer.id_masked
    rm = staff_session(any_demo_db.unit_of_work(), rm_no, clock=clock)
    called = desk.call_next(any_demo_db.unit_of_work(), rm, desk="D1", clock=clock)
    assert called is not None and called.customer_id == customer_id
    context = desk.form_context(any_demo_db.unit_of_work(), customer_id, clock=clock)
    assert field_states(context.form, context.today, context.record)["id_valid_to"] == "expired"
    # As the form reads it: the masked fields left alone, 长期 ticked over the old end date,
    # the other gaps of the demo filled in.
    form = replace(
        context.form,
        phone=None if context.record.phone_masked else "13912345678",
        id_number=None,
        address=None if context.record.address_masked else "广州市天河区天河路 1 号",
        id_valid_from=date(2026, 11, 20),
        id_long_term=True,
        occupation_code=context.form.occupation_code or "2",
        nationality=context.form.nationality or "CHN",
        gender=context.form.gender or ("M" if int(mask_before[-2]) % 2 else "F"),
        tax_residency=context.form.tax_residency or "CN",
    )
    assert form.id_valid_to is not None  # the expired date is still in the form
    assert (
        desk.check_form(any_demo_db.unit_of_work(), form, customer_id=customer_id, clock=clock)
        == {}
    )
    changed = desk.save_governance(
        any_demo_db.unit_of_work(),
        customer_id,
        form,
        rm,
        visit_id=called.visit_id,
        clock=clock,
    )
    assert {"id_valid_from", "id_valid_to", "id_long_term"} <= set(changed)
    assert "id_number" not in changed
    with any_demo_db.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None
        assert customer.id_long_term is True and customer.id_valid_to is None
        assert customer.id_valid_from == date(2026, 11, 20)
        assert customer.id_masked == mask_before  # the sealed number untouched
        assert "id_valid_to" not in governance_gaps(customer, TODAY)
        recorded = {
            change.field: (change.old_value, change.new_value)
            for change in uow.session.scalars(
                select(GovernanceChange).where(GovernanceChange.customer_id == customer_id)
            )
        }
    assert recorded["id_long_term"] == ("0", "1")
    assert recorded["id_valid_to"][1] is None
    # The desk opens mobile banking now: the ID is no longer expired.
    desk.open_mobile_banking(
        any_demo_db.unit_of_work(), customer_id, rm, visit_id=called.visit_id, clock=clock
    )
