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
