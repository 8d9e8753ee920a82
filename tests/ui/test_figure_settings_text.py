"""Administration -> Figures (统计口径) says its settings in Chinese with a Chinese semicolon,
never an ASCII "; " between Chinese words."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.i18n import set_language
from kiosk.services.figure_settings import FigureSettings
from ui.figure_settings_panel import FigureSettingsPanel

pytestmark = pytest.mark.ui


def test_the_figure_settings_summary_in_chinese() -> None:
    set_language("zh_CN")
    settings = FigureSettings(
        event_date=date(2026, 11, 28),
        bank_points_stock=None,
        next_event_on=None,
        default_next_event_on=date(2027, 11, 28),
        call_points_floor=14000,
    )
    text = FigureSettingsPanel.describe(settings)
    assert "; " not in text and text.count("；") == 2
