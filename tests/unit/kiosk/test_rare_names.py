"""Names with rare characters (生僻字) through reception on both backends (issue #28).

A walk-in named with CJK Extension A–E characters is registered, found by the whole name, by
the rare character alone and by pinyin initials (Extension B–E characters have readings in
pypinyin), checked in, and gets a queue ticket whose PDF text keeps the masked name's first
character, never a blank.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pdfplumber
import pytest

from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.masking import mask_name
from kiosk.pinyin import is_han, name_initials, surname
from kiosk.services import reception
from kiosk.services.auth import staff_session
from printing.tickets import render_queue_ticket

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)

# name, the surname or given name typed alone (a rare character in it), the pinyin initials
RARE = [
    ("赵孟𫖯", "孟𫖯", "zmf"),  # U+2B5AF, Extension C
    ("𬌗明亮", "𬌗", "hml"),  # U+2C317, Extension E, as the surname
    ("䶮小龙", "䶮", "yxl"),  # U+4DAE, Extension A
    ("欧阳䶮", "䶮", "oyy"),  # a compound surname with a rare given name
    ("𠂇丽", "𠂇", "zl"),  # U+20087, the GB 18030-2022 mapping of FE51
]


def test_every_ideograph_block_is_han() -> None:
    for char in "一龥鿯㐀䶿豈𠀀𫖯𬌗𰀀":
        assert is_han(char), f"U+{ord(char):04X}"
    for char in "A1·（ｱ":
        assert not is_han(char)


@pytest.mark.parametrize(("name", "_rare", "initials"), RARE)
def test_initials_of_rare_names(name: str, _rare: str, initials: str) -> None:
    assert name_initials(name)[0] == initials


def test_masking_keeps_a_whole_character() -> None:
    assert mask_name("𫖯小龙") == "𫖯**"
    assert mask_name("赵孟𫖯") == "赵**"
    assert len(mask_name("𬌗")) == 2  # the character and one star, never half a surrogate pair


def test_rare_names_are_found_checked_in_and_printed(any_demo_db: Database, tmp_path: Path) -> None:
    clock = FixedClock(MORNING)
    staff = staff_session(any_demo_db.unit_of_work(), "R001", clock=clock)
    ids = {}
    for index, (name, _rare, _initials) in enumerate(RARE):
        ids[name] = reception.register_walk_in(
            any_demo_db.unit_of_work(),
            name=name,
            phone=f"1390000{2000 + index}",
            branch_code="B03",
            staff=staff,
            clock=clock,
        )
    for name, rare, initials in RARE:
        for query in (name, rare, initials, initials.upper()):
            hits = reception.search(any_demo_db.unit_of_work(), query)
            assert ids[name] in [h.customer_id for h in hits], (name, query)
        hit = next(
            h
            for h in reception.search(any_demo_db.unit_of_work(), name)
            if h.customer_id == ids[name]
        )
        assert hit.name == name  # stored and read back whole, on SQLite and PostgreSQL
        result = reception.check_in(any_demo_db.unit_of_work(), ids[name], staff, clock=clock)
        ticket = reception.queue_ticket(any_demo_db.unit_of_work(), result)
        assert ticket.masked_name == mask_name(name)
        pdf = render_queue_ticket(ticket, tmp_path / f"{ticket.ticket}.pdf")
        with pdfplumber.open(pdf) as document:
            page_text = document.pages[0].extract_text()
        assert mask_name(name) in page_text, (name, page_text)


# The compound surnames (复姓) a greeting must keep whole: every one in the list, and the
# single surnames that merely look like the start of one.
COMPOUND = [
    "欧阳", "司马", "上官", "诸葛", "尉迟", "万俟", "长孙", "皇甫", "司徒", "令狐", "慕容",
    "公孙", "夏侯", "东方", "端木", "澹台", "闻人", "赫连", "公羊", "公冶", "宗政", "濮阳",
    "淳于", "太叔", "申屠", "仲孙", "轩辕", "钟离", "宇文", "鲜于", "闾丘", "司空", "亓官",
    "司寇", "颛孙", "巫马", "漆雕", "乐正", "拓跋", "呼延", "羊舌", "南宫", "西门", "左丘",
    "梁丘", "公良", "谷梁", "段干", "东郭",
]  # fmt: skip


@pytest.mark.parametrize("family", COMPOUND)
def test_compound_surnames_are_kept_whole(family: str) -> None:
    assert surname(family + "娜娜") == family
    assert surname(family + "䶮") == family


@pytest.mark.parametrize(
    ("name", "family"),
    [("欧娜", "欧"), ("司琴", "司"), ("单于明", "单"), ("𬌗明亮", "𬌗"), ("王", "王"), ("", "")],
)
def test_single_surnames(name: str, family: str) -> None:
    assert surname(name) == family


def test_the_reminder_greets_a_compound_surname_whole(any_demo_db: Database) -> None:
    from sqlalchemy import select, update

    from kiosk import audit
    from kiosk.models import Customer, Invitation, InvitationStatus
    from kiosk.services import tracking

    with any_demo_db.unit_of_work() as uow, audit.unaudited():
        customer = uow.session.scalars(
            select(Customer)
            .join(Invitation, Invitation.customer_id == Customer.id)
            .where(Invitation.status == InvitationStatus.CONFIRMED, Customer.gender == "F")
            .order_by(Customer.id)
        ).first()
        assert customer is not None
        number = customer.customer_no
        uow.session.execute(
            update(Customer).where(Customer.id == customer.id).values(name="欧阳娜娜")
        )
        uow.commit()
    reminder = next(
        r for r in tracking.reminders(any_demo_db.unit_of_work()) if r.customer_no == number
    )
    assert reminder.text.startswith("尊敬的欧阳女士")
