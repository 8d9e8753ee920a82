"""Items listed with a semicolon read as Chinese in Chinese: "；", never an ASCII "; " between
Chinese words."""

from __future__ import annotations

from kiosk.i18n import listing, set_language


def test_semicolons_follow_the_language() -> None:
    assert listing(["a", "", "b"]) == "a; b"
    set_language("zh_CN")
    assert listing(["信息治理", "开通手机银行", "激活兑换"]) == "信息治理；开通手机银行；激活兑换"
