"""Reception's scan field: what Enter may act on, what a burst is, what an odd input is
(#16 symptoms 2 and 7), and the resolve messages on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from kiosk import audit
from kiosk.db import Database
from kiosk.invitations import event_tag
from kiosk.models import Customer, Event, Invitation
from kiosk.scanning import (
    Enter,
    Odd,
    Shown,
    WedgeDetector,
    odd_input,
    on_enter,
    query_key,
)
from kiosk.search import SearchError
from kiosk.services import reception
from kiosk.services.reception import CheckInError
from tests.conftest import DEMO_DATE

WECHAT = "https://weixin.qq.com/r/mp/3xIyfk7EBfGdrY6Y90ZI"
SLIP = "KX" + "BCDEFGHIJKLNOPRS" * 6  # the slip alphabet, as a booth's QR carries it


# -- Enter -----------------------------------------------------------------------------------


def test_enter_on_an_empty_field_does_nothing() -> None:
    """After Esc the field is empty; whatever list or card was shown, Enter acts on nobody."""
    assert on_enter("", None) == (Enter.NOTHING, None)
    assert on_enter("", Shown(query_key("lyy"), 153)) == (Enter.NOTHING, None)
    assert on_enter("   ", Shown(query_key("lyy"), 153)) == (Enter.NOTHING, None)


def test_enter_checks_in_only_the_selection_for_this_very_text() -> None:
    shown = Shown(query_key("lyy"), 153)
    assert on_enter("lyy", shown) == (Enter.CHECK_IN, 153)
    assert on_enter("LYY", shown) == (Enter.CHECK_IN, 153)  # the same search
    assert on_enter(" l y y ", shown) == (Enter.CHECK_IN, 153)
    # One more key, or another text: the list on screen is an older search's.
    assert on_enter("lyyx", shown) == (Enter.SEARCH, None)
    assert on_enter("ly", shown) == (Enter.SEARCH, None)
    assert on_enter("lyy", None) == (Enter.SEARCH, None)
    # The list for this text is empty (nobody, or an odd input): nobody is checked in.
    assert on_enter("zzzz", Shown(query_key("zzzz"), None)) == (Enter.NOBODY, None)


def test_a_whole_invitation_code_typed_resolves_like_a_scan() -> None:
    code = event_tag("DEMO") + "ABCDEF"
    assert on_enter(code, None) == (Enter.RESOLVE, None)
    assert on_enter(code.lower(), Shown(query_key("lyy"), 1)) == (Enter.RESOLVE, None)
    assert on_enter(code, Shown(query_key(code), 7)) == (Enter.CHECK_IN, 7)


# -- scanner bursts --------------------------------------------------------------------------


def _keys(detector: WedgeDetector, text: str, start: float, gap: float) -> float:
    for i, char in enumerate(text):
        detector.key(start + i * gap, char)
    return start + len(text) * gap


def test_a_burst_after_typing_is_the_code_alone() -> None:
    """Typed "wj" at a person's pace, looked at the list, then the scanner: the scan is the
    burst only."""
    detector = WedgeDetector()
    end = _keys(detector, "wj", 0.0, 0.12)
    _keys(detector, "BW7K2M9Q", end + 1.5, 0.004)
    assert detector.finish() is True
    assert detector.burst == "BW7K2M9Q"
    # Slow typing of a whole code is typed, not scanned.
    _keys(detector, "BW7K2M9Q", 10.0, 0.11)
    assert detector.finish() is False and detector.burst == ""


def test_a_held_up_first_key_is_not_cut_off() -> None:
    """A scan whose first key was held up (a busy moment) is still a scan, and none of its
    characters is dropped: with keys just before the burst, the whole text is the code."""
    detector = WedgeDetector()
    detector.key(20.0, "Q")
    _keys(detector, "Q9ZZZZZ", 20.2, 0.003)
    assert detector.finish() is True
    assert detector.burst == ""  # the field's whole text: QQ9ZZZZZ
    # A clock going backwards (a wrapped event time) is a pause, not a burst.
    _keys(detector, "ABCD", 30.0, 0.003)
    _keys(detector, "EFGH", 29.0, 0.003)
    assert detector.finish() is True and detector.burst == "EFGH"


@pytest.mark.parametrize("gap", [0.002, 0.005, 0.008])
def test_scanner_speeds(gap: float) -> None:
    detector = WedgeDetector()
    _keys(detector, "6200000153", 0.0, gap)
    assert detector.finish() is True and detector.burst == "6200000153"


# -- odd inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (WECHAT, Odd.WEB_LINK),
        ("weixin://wxpay/bizpayurl?pr=abc", Odd.WEB_LINK),
        ("www.icbc.com.cn", Odd.WEB_LINK),
        ("u.wechat.com/EKlC1Lqj", Odd.WEB_LINK),
        (SLIP, Odd.SLIP),
        (SLIP.lower(), Odd.SLIP),
        ("%%$$##!!", Odd.WRONG_LAYOUT),
        ("hello world!", Odd.NOT_A_CODE),
        ("QQ9ZZZZZ", None),  # may be a code: only the database can tell
        ("lyy", None),
        ("李永玉", None),
        ("6200000153", None),
        ("&é\"'(", None),  # a French keyboard's digits
    ],
)
def test_odd_inputs(text: str, kind: Odd | None) -> None:
    assert odd_input(text) == kind


# -- the sentences reception shows, on both backends ------------------------------------------


def test_each_wrong_scan_gets_the_sentence_that_fits(any_demo_db: Database) -> None:
    def refused(text: str) -> str:
        with pytest.raises(CheckInError) as error:
            reception.resolve_code(any_demo_db.unit_of_work(), text)
        return str(error.value)

    # A random code is no invitation of this event; it is not "another event's" on its
    # shape alone.
    assert refused("QQ9ZZZZZ") == (
        "“QQ9ZZZZZ” is not an invitation code of this event: check the invitation, "
        "or type the customer's name."
    )
    assert refused(WECHAT).startswith("This is a web link")
    assert "keyboard" not in refused(WECHAT)
    assert refused(SLIP) == "This is a redemption slip: please go to the merchant's booth."
    assert "wrong keyboard layout" in refused("%%$$##!!")
    assert "No invitation or customer number" in refused("62000000")
    # Another event's invitation, when this database holds that event.
    with audit.unaudited(), any_demo_db.unit_of_work() as uow:
        uow.session.add(
            Event(
                code="GZ2025",
                name="2025 年尊享积分活动",
                event_date=DEMO_DATE.replace(year=2025),
                closed_at=datetime(2025, 11, 30, tzinfo=UTC),
                created_at=datetime(2025, 10, 1, tzinfo=UTC),
            )
        )
        uow.commit()
    assert refused(event_tag("GZ2025") + "ABCDEF") == (
        f"Invitation {event_tag('GZ2025')}ABCDEF is for another event, “2025 年尊享积分活动”."
    )
    # Typed into the search instead of scanned, the same sentences.
    for text, start in ((WECHAT, "This is a web link"), (SLIP, "This is a redemption slip")):
        with pytest.raises(SearchError, match=start):
            reception.search(any_demo_db.unit_of_work(), text)


def test_the_sentences_in_chinese(any_demo_db: Database) -> None:
    from kiosk.i18n import set_language

    set_language("zh_CN")
    for text, expected in (
        (SLIP, "这是兑换券，请到商户摊位。"),
        ("QQ9ZZZZZ", "“QQ9ZZZZZ”不是本次活动的邀请码"),
        (WECHAT, "这是网页链接"),
    ):
        with pytest.raises(CheckInError) as error:
            reception.resolve_code(any_demo_db.unit_of_work(), text)
        assert str(error.value).startswith(expected), str(error.value)
        assert "英文" not in str(error.value)


def test_a_real_invitation_still_resolves(any_demo_db: Database) -> None:
    with any_demo_db.unit_of_work() as uow:
        customer_id, code = uow.session.execute(
            select(Customer.id, Invitation.code)
            .join(Invitation)
            .where(Customer.customer_no == "6200000153")
        ).one()
    assert reception.resolve_code(any_demo_db.unit_of_work(), code) == customer_id
    assert reception.resolve_code(any_demo_db.unit_of_work(), code.lower()) == customer_id
