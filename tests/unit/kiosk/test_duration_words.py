"""Minutes early or late as reception reads them: past an hour in hours and minutes."""

from __future__ import annotations

from kiosk.i18n import set_language
from kiosk.labels import duration_words


def test_minutes_then_hours() -> None:
    assert duration_words(0) == "0 min"
    assert duration_words(59) == "59 min"
    assert duration_words(60) == "1 h"
    assert duration_words(270) == "4 h 30 min"
    set_language("zh_CN")
    assert duration_words(43) == "43 分钟"
    assert duration_words(587) == "9 小时 47 分钟"
