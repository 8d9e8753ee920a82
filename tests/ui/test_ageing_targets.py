"""MIIT 2021 ageing-friendly targets on every screen (issue #24, item 2).

A supervisor (S001) signs in and opens every station and every administration tab, in normal
print and in large print; the sign-in page, the booth, the public call display, the points
statement and the before/after summary the customer confirms are opened too. On each, every
text on screen is measured against what it is drawn on (WCAG contrast ≥ 4.5:1, disabled and
done states included); in large print every text is ≥ 18 pt and every button, field, choice,
tab and station ≥ 60 px high; what the customer reads is ≥ 18 pt in both modes, the booth's
verdict ≥ 36 pt. See tests/ui/ageing_support.py for how each figure is measured.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.i18n import _
from kiosk.services.statement import statement
from printing.printer import Printer
from tests.booth_support import issue, new_booth, pack_bytes
from ui.app import ensure_application
from ui.booth_window import BoothWindow
from ui.language import apply_language
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.statement_dialog import StatementDialog
from ui.stations.activation import ActivationStation
from ui.stations.admin import AdminStation
from ui.stations.kyc_form import ConfirmChanges
from ui.theme import apply_theme, fit_rows
from ui.widgets import ResultBanner, Tone

from .ageing_support import (
    MIN_PT,
    TARGET_PX,
    Shot,
    contrast,
    contrast_faults,
    point_size,
    shown,
    size_faults,
)
from .conftest import sign_in
from .test_activation import _customer_for_activation

pytestmark = pytest.mark.ui

MODES = [pytest.param(False, id="normal"), pytest.param(True, id="large")]


def _settle() -> None:
    for _turn in range(3):
        QApplication.processEvents()


def _ink(button: QPushButton) -> QColor:
    group = QPalette.ColorGroup.Active if button.isEnabled() else QPalette.ColorGroup.Disabled
    return button.palette().color(group, QPalette.ColorRole.ButtonText)


def _faults(where: str, window: QWidget, large: bool) -> list[str]:
    _settle()
    found = contrast_faults(window)
    if large:
        found += size_faults(window)
    return [f"{where}: {fault}" for fault in found]


def test_the_measures_see_what_is_drawn(qtbot: QtBot) -> None:
    """The measuring itself, on colours known by hand: the old disabled grey (2.2:1) and the
    half-opaque placeholder (3.25:1) are found; black on white is 21:1."""
    assert round(contrast(QColor("#000000"), QColor("#ffffff")), 1) == 21.0
    assert round(contrast(QColor("#9aa3ad"), QColor("#eceef1")), 1) == 2.2
    app = ensure_application()
    apply_theme(app, False)
    page = QWidget()
    page.setObjectName("page")
    qtbot.addWidget(page)
    layout = QVBoxLayout(page)
    old = QPushButton("old disabled grey")
    old.setObjectName("old")
    old.setStyleSheet("QPushButton:disabled { color: #9aa3ad; background: #eceef1; }")
    old.setEnabled(False)
    layout.addWidget(old)
    checked = QPushButton("checked, pale text")
    checked.setObjectName("checked")
    checked.setCheckable(True)
    checked.setChecked(True)
    checked.setStyleSheet("QPushButton:checked { color: #7f9fbf; background: #0b4f8a; }")
    layout.addWidget(checked)
    page.resize(500, 200)
    page.show()
    qtbot.waitExposed(page)
    found = contrast_faults(page)
    assert any(f.startswith("old ") and "#9aa3ad on #eceef1" in f for f in found), found
    assert any(f.startswith("checked ") and "(checked)" in f for f in found), found


def _controls_inside(qtbot: QtBot) -> QWidget:
    """A table whose rows are chosen, combo boxes (one typed into), a spin box, a list with a
    tick box: the targets that sit inside a control rather than being one."""
    page = QWidget()
    page.setObjectName("page")
    qtbot.addWidget(page)
    layout = QVBoxLayout(page)
    table = QTableWidget(3, 2)
    table.setObjectName("rows")
    table.verticalHeader().setVisible(False)  # as every table of the app
    for row in range(3):
        table.setItem(row, 0, QTableWidgetItem(f"row {row}"))
    fit_rows(table)
    layout.addWidget(table)
    combo = QComboBox()
    combo.setObjectName("choices")
    combo.addItems(["上午场", "下午场"])
    layout.addWidget(combo)
    typed = QComboBox()
    typed.setObjectName("typed")
    typed.setEditable(True)
    typed.addItem("3 号柜台")
    layout.addWidget(typed)
    spin = QSpinBox()
    spin.setObjectName("number")
    spin.setValue(3)
    layout.addWidget(spin)
    ticks = QListWidget()
    ticks.setObjectName("ticks")
    item = QListWidgetItem("B01 天河支行")
    item.setCheckState(Qt.CheckState.Checked)
    ticks.addItem(item)
    layout.addWidget(ticks)
    page.resize(700, 700)
    page.show()
    qtbot.waitExposed(page)
    _settle()
    return page


def test_the_measures_see_targets_inside_controls(qtbot: QtBot) -> None:
    """Measured in normal print, where they are Qt's own sizes, each inner target is found
    too small (rows ~30 px, menu-like choices ~39, stacked arrows ~14×14, a 14-px tick box);
    in large print the theme (and ``fit_rows``) makes every one of them 60 px."""
    app = ensure_application()
    apply_theme(app, False)
    found = size_faults(_controls_inside(qtbot), pt=0)
    for expected in (
        "rows: rows ",
        "choices ",
        "typed '3 号柜台': its opener",
        "number '3': its up button",
        "number '3': its down button",
        "ticks: the check box of row 0",
    ):
        assert any(f.startswith(expected) for f in found), (expected, found)
    apply_theme(app, True)
    try:
        assert size_faults(_controls_inside(qtbot), pt=0) == []
    finally:
        apply_theme(app, False)


def _visit_every_station(qtbot: QtBot, window: MainWindow, large: bool) -> list[str]:
    found = _faults("sign-in", window, large)
    # The switch into large print is itself a 60-px target with a big box, in normal print
    # too: it is what a person who needs large print must find first.
    found += [f"switch: {f}" for f in size_faults(window.large, pt=0)]
    if window.large.height() < TARGET_PX:
        found.append(f"the large-print switch is {window.large.height()} px high")
    sign_in(qtbot, window, "S001", "1234")
    qtbot.waitUntil(lambda: window.current_station() is not None)
    titles = window.station_titles()
    assert _("Administration") in titles and len(titles) >= 6
    for row, title in enumerate(titles):
        window.switcher.setCurrentRow(row)
        _settle()
        station = window.current_station()
        if isinstance(station, AdminStation):
            for tab in range(station.tabs.count()):
                station.tabs.setCurrentIndex(tab)
                _settle()
                found += _faults(f"{title} / {station.tabs.tabText(tab)}", window, large)
        else:
            found += _faults(title, window, large)
    return found


@pytest.mark.parametrize("language", ["en", "zh_CN"])
@pytest.mark.parametrize("large", MODES)
def test_every_station_meets_the_targets(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    settings: Settings,
    large: bool,
    language: str,
) -> None:
    settings.large_print = large
    settings.language = language
    window = make_window(demo_url)
    window.resize(1366, 700)
    found = _visit_every_station(qtbot, window, large)
    assert not found, f"{len(found)} faults:\n" + "\n".join(dict.fromkeys(found))


@pytest.mark.parametrize("large", MODES)
def test_banners_and_disabled_states(qtbot: QtBot, large: bool) -> None:
    """Every tone of a result banner, and every kind of control when disabled: readable,
    and each banner says its state with a sign as well as its colour."""
    apply_theme(ensure_application(), large)
    apply_language("en")
    page = QWidget()
    page.setObjectName("page")
    qtbot.addWidget(page)
    layout = QVBoxLayout(page)
    banners: list[ResultBanner] = []
    for tone in Tone:
        banner = ResultBanner()
        layout.addWidget(banner)  # first: a shown widget given a parent is hidden again
        banner.show_result(tone, f"{tone.value} headline", "the detail under it")
        banners.append(banner)
    from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit

    for kind in (QPushButton("a button"), QCheckBox("a choice"), QComboBox(), QLineEdit()):
        if isinstance(kind, QComboBox):
            kind.addItem("a list")
        if isinstance(kind, QLineEdit):
            kind.setPlaceholderText("Scan the slip's QR code")
        kind.setEnabled(False)
        layout.addWidget(kind)
    hint = QLineEdit()
    hint.setPlaceholderText("Scan invitation or type customer number")
    layout.addWidget(hint)
    page.resize(1000, 1800)  # room for every banner at its full height
    page.show()
    qtbot.waitExposed(page)
    enabled = QPushButton("a button")
    layout.addWidget(enabled)
    _settle()
    found = _faults("banners", page, large)
    assert all(banner.isVisibleTo(page) for banner in banners)
    # Disabled still looks disabled: another fill, another text colour, a dashed border.
    disabled = next(w for w in page.findChildren(QPushButton) if not w.isEnabled())
    shot = Shot(page)
    fills = {str(shot.background(shot.rect_of(b))) for b in (enabled, disabled)}
    inks = {_ink(b).name() for b in (enabled, disabled)}
    assert len(fills) == 2 and len(inks) == 2, (fills, inks)
    assert "dashed" in ensure_application().styleSheet().split("QPushButton:disabled")[1][:200]
    assert not found, "\n".join(found)


def _customer_reads(root: QWidget, pt: float = MIN_PT) -> list[str]:
    """Every text in ``root`` at least ``pt``, its buttons ≥ 60 px, in either mode."""
    found = []
    for widget in shown(root):
        if isinstance(widget, QPushButton) and widget.height() < TARGET_PX:
            found.append(f"{widget.objectName() or widget.text()}: {widget.height()} px high")
    found += [f for f in size_faults(root) if " pt, under " in f]
    return found


@pytest.mark.parametrize("large", MODES)
def test_what_the_customer_reads_in_both_modes(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    settings: Settings,
    large: bool,
    tmp_path: Path,
) -> None:
    """The before/after summary, the points statement and the public call display: ≥ 18 pt,
    60-px buttons and 4.5:1 in normal print too."""
    settings.large_print = large
    window = make_window(demo_url)
    sign_in(qtbot, window, "S001", "1234")
    qtbot.waitUntil(lambda: window.current_station() is not None)

    summary = ConfirmChanges(
        [("Mobile", "138****0000", "139****1111"), ("Occupation", "Teacher", "Retired")], window
    )
    qtbot.addWidget(summary)
    summary.show()
    qtbot.waitExposed(summary)
    _settle()
    found = [f"summary: {f}" for f in _customer_reads(summary) + contrast_faults(summary)]

    station = window.current_station()
    assert station is not None
    context = station.context
    document = statement(context.uow(), 1, context.staff, clock=context.app.clock)
    dialog = StatementDialog(context, document, Printer.from_environment(), "test", window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    _settle()
    found += [f"statement: {f}" for f in _customer_reads(dialog) + contrast_faults(dialog)]

    display = window.open_call_display()
    qtbot.waitExposed(display)
    _settle()
    found += [f"call display: {f}" for f in _customer_reads(display) + contrast_faults(display)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("large", MODES)
def test_the_booth_verdict_from_three_metres(
    qtbot: QtBot,
    demo_db: Database,
    settings: Settings,
    tmp_path: Path,
    large: bool,
) -> None:
    """The booth in either mode: the verdict's words ≥ 36 pt with a sign per state, its
    detail ≥ 18 pt, every text 4.5:1; in large print the whole booth as every station."""
    (code,) = issue(demo_db, ["O101"])
    settings.large_print = large
    apply_theme(ensure_application(), large)
    apply_language("en")
    booth = new_booth(tmp_path / "booth.sqlite3")
    booth.install(pack_bytes(demo_db))
    window = BoothWindow(booth, settings)
    qtbot.addWidget(window)
    window.resize(1366, 700)
    window.show()
    qtbot.waitExposed(window)
    panel = window.panel
    assert panel is not None
    panel.staff.setText("李四")
    panel._save_staff()
    found = _faults("booth idle", window, large)
    signs = {}
    for what in (code, "garbage", code):  # valid (waiting), unreadable, valid again
        panel.handle(what)
        _settle()
        banner = panel.banner
        assert point_size(banner.headline) >= 36, banner.headline.text()
        assert point_size(banner.detail) >= MIN_PT
        assert banner.symbol.isVisible() and point_size(banner.symbol) >= 36
        signs[banner.tone] = banner.symbol.text()
        found += _faults(f"booth {banner.headline.text()!r}", window, large)
    panel.confirm()
    _settle()
    assert panel.banner.tone == Tone.OK
    signs[Tone.OK] = panel.banner.symbol.text()
    panel.handle(code)  # already redeemed: refused
    _settle()
    assert panel.banner.tone == Tone.ERROR
    signs[Tone.ERROR] = panel.banner.symbol.text()
    found += _faults("booth refused", window, large)
    assert len(set(signs.values())) == len(signs) == 4, signs  # each state its own sign
    window.close()
    booth.database.dispose()
    assert not found, "\n".join(dict.fromkeys(found))


@pytest.mark.parametrize("large", MODES)
def test_the_activation_desk_with_steps_recorded(
    qtbot: QtBot,
    make_window: Callable[[str], MainWindow],
    demo_url: str,
    settings: Settings,
    clock: FixedClock,
    large: bool,
) -> None:
    """Recorded steps (done: disabled, "✓", time and staff; were 2.2:1) and services out of
    the customer's reach (grey; were 3.45:1) on the desk as a customer is served."""
    customer_id, _codes = _customer_for_activation(demo_url, clock)
    settings.large_print = large
    window = make_window(demo_url)
    window.resize(1366, 700)
    sign_in(qtbot, window, "A001", "1234")
    station = window.current_station()
    assert isinstance(station, ActivationStation)
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert station.customer is not None and station.customer.customer_id == customer_id
    for key in (Qt.Key.Key_F6, Qt.Key.Key_F7, Qt.Key.Key_F8):
        qtbot.keyClick(window, key)
    done = list(station.step_buttons.values())
    assert all(b.text().startswith("✓") and not b.isEnabled() for b in done)
    expensive = max(station.offers.values(), key=lambda o: o.points_price)
    station.customer = station.customer.__class__(
        **{**station.customer.__dict__, "balance": expensive.points_price - 1}
    )
    station.refresh_catalog()
    if station.catalog_panel.showing_short:
        qtbot.keyClick(window, Qt.Key.Key_F3)  # every service, the ones out of reach too
    found = _faults("activation with a customer", window, large)
    assert not found, "\n".join(dict.fromkeys(found))
