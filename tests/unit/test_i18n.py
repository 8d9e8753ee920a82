"""Every message the code shows has a Simplified Chinese translation with the same fields."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

from kiosk.i18n import _, catalog, set_language

ROOT = Path(__file__).resolve().parents[2]
FIELD = re.compile(r"\{(\w+)\}")


def test_every_message_is_translated() -> None:
    messages = runpy.run_path(str(ROOT / "scripts" / "messages.py"))
    missing = messages["missing"]("zh_CN")
    assert missing == {}, "untranslated (run scripts/messages.py): " + ", ".join(
        f"{where}: {m!r}" for m, where in missing.items()
    )


def test_translations_keep_their_fields() -> None:
    for message, translation in catalog("zh_CN").items():
        assert set(FIELD.findall(message)) == set(FIELD.findall(translation)), message


def test_switching_language() -> None:
    set_language("zh_CN")
    assert _("Sign in") == "登录"
    set_language("en")
    assert _("Sign in") == "Sign in"
    set_language("xx")  # unknown: back to the default
    assert _("Sign in") == "登录"


def test_one_request_speaks_its_own_language() -> None:
    """The booth gateway answers each request in its caller's language (``speaking``) while
    the laptop's own language, and another thread's, stay as they are."""
    import threading

    from kiosk.i18n import get_language, sentences, speaking

    set_language("en")
    heard: list[str] = []
    with speaking("zh_CN"):
        assert _("Sign in") == "登录" and get_language() == "zh_CN"
        assert sentences("一。", "二。") == "一。二。"
        thread = threading.Thread(target=lambda: heard.append(_("Sign in")))
        thread.start()
        thread.join()
        with speaking("xx"):  # unknown: the default
            assert _("Sign in") == "登录"
    assert heard == ["Sign in"]  # the other thread kept the laptop's language
    assert _("Sign in") == "Sign in" and get_language() == "en"
