"""English says "1 slip" and "2 slips"; Chinese has one form for both."""

from __future__ import annotations

from kiosk.i18n import n_, set_language


def test_one_and_many() -> None:
    one, many = "{n} slip issued for {name}: {numbers}.", "{n} slips issued for {name}: {numbers}."
    set_language("en")
    assert n_(1, one, many).format(n=1, name="A", numbers="No. 1") == "1 slip issued for A: No. 1."
    assert n_(2, one, many).format(n=2, name="A", numbers="x").startswith("2 slips issued")
    assert n_(0, one, many).startswith("{n} slips")
    set_language("zh_CN")
    assert n_(1, one, many) == n_(3, one, many) == "已为{name}出券 {n} 张：{numbers}。"
