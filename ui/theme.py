"""Look and feel: large, high-contrast, one CJK font, and a large-print mode.

Sizes are in points and derive from one base size so large print scales everything at once;
large print puts main text at 20 pt for elderly customers reading along.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from PySide6.QtWidgets import QApplication, QTableView

from ui.fonts import app_font

# The header's switch is white on red: Qt drew its tick in the header's white text colour,
# pale grey on the white box. The tick is drawn from this file instead, dark on white (a PNG,
# which needs no image plugin in the frozen builds).
_TICK = Path(str(resources.files("assets") / "icons" / "tick.png")).as_posix()
# A large-print spin box's step buttons, minus on the left and plus on the right
# (scripts/make_icons.py draws them).
_MINUS = Path(str(resources.files("assets") / "icons" / "minus.png")).as_posix()
_PLUS = Path(str(resources.files("assets") / "icons" / "plus.png")).as_posix()
_DOWN = Path(str(resources.files("assets") / "icons" / "down.png")).as_posix()

NORMAL_PT = 13
LARGE_PT = 20
# MIIT's ageing-friendly guidance (2021): touch targets at least 60 px. Large print meets it
# on every button, field, choice and switch; normal print keeps the denser staff layout.
LARGE_TARGET_PX = 60
# What the customer reads over the staff's shoulder (the before/after summary they confirm,
# the points statement, the booth's verdict) is at least this big in normal print too.
CUSTOMER_PT = 20
# A widget the customer reads carries this property (``widget.setProperty(CUSTOMER, True)``):
# the theme gives it and everything in it ``CUSTOMER_PT`` and 60-px targets in both modes.
CUSTOMER = "customer"

# Every colour that carries text, chosen for WCAG contrast of at least 4.5:1 on what it is
# drawn on (tests/ui/test_ageing_targets.py measures them on the real widgets).
INK = "#1b1f24"
PAGE = "#f5f6f8"
HINT = "#4a5360"  # 7.2:1 on the page
# A field's placeholder: Qt draws it in the text colour at half opacity by default, 3.25:1.
PLACEHOLDER = "#5d6670"  # 5.8:1 on white
# Disabled and done: lighter fill and a dashed border say "not now", the text stays readable.
DISABLED_TEXT = "#5b6470"  # 5.45:1 on DISABLED_FILL
DISABLED_FILL = "#f3f4f6"
DISABLED_LINE = "#8a939e"
MUTED = "#5d6670"  # table rows that no longer count (a voided slip): 5.8:1 on white
# Result banners, (background, words and border) per tone ("ok", "warn", "error", "info"):
# amber words were #9a6700, 4.44:1 on their background.
BANNER_COLOURS = {
    "ok": ("#e3f4e6", "#1a6e2e"),  # 5.5:1
    "warn": ("#fff4d6", "#7a5200"),  # 6.3:1
    "error": ("#fde8e8", "#b00020"),  # 6.2:1
    "info": ("#e6effa", "#1f4e8c"),  # 7.2:1
}


def base_point_size(large_print: bool) -> int:
    return LARGE_PT if large_print else NORMAL_PT


def is_large_print() -> bool:
    """Whether the running app is in large print (layouts with two columns stack then)."""
    return QApplication.font().pointSize() >= LARGE_PT


def _customer() -> str:
    """Both modes: what the customer reads is ``CUSTOMER_PT``, its buttons 60 px, the
    large-print switch itself 60 px with a big box (an elderly customer or a member of staff
    must find it before large print is on)."""
    target = LARGE_TARGET_PX
    return f"""
    *[{CUSTOMER}="true"], *[{CUSTOMER}="true"] QWidget {{ font-size: {CUSTOMER_PT}pt; }}
    *[{CUSTOMER}="true"] QPushButton {{ min-height: {target - 2 * 8 - 2}px; }}
    QCheckBox#large_print {{ min-height: {target}px; spacing: 12px; }}
    QCheckBox#large_print::indicator {{ width: {target - 24}px; height: {target - 24}px; }}
    """


def _targets(base: int) -> str:
    """Large print: every control at least ``LARGE_TARGET_PX`` high, a switch's box too.

    Qt's ``min-height`` counts the content only, so each rule takes away the padding and
    border the rules of ``style_sheet`` put around it.
    """
    if base < LARGE_PT:
        return ""
    target = LARGE_TARGET_PX
    box = target - 24
    return f"""
    QPushButton {{ min-height: {target - 2 * 8 - 2}px; }}
    QLineEdit {{ min-height: {target - 2 * 6 - 4}px; }}
    QComboBox, QSpinBox, QDateEdit, QTimeEdit, QDateTimeEdit {{ min-height: {target - 2 * 6 - 2}px;
                  padding: 6px; }}
    QCheckBox, QRadioButton {{ min-height: {target}px; spacing: 12px; }}
    QCheckBox::indicator, QRadioButton::indicator {{ width: {box}px; height: {box}px; }}
    QTabBar::tab {{ min-height: {target - 2 * 8}px; padding: 8px 14px; }}
    QListView::item {{ min-height: {target}px; padding: 0px 8px; }}
    QListWidget#stations::item {{ min-height: 0px; }}  /* its padding makes it 60 px */
    QAbstractItemView::indicator {{ width: {box}px; height: {box}px; }}  /* a list's ticks */
    /* A visit timeline's rows wrap: Qt lays a wrapped row out at the row's whole width but
       draws it inside the padding, so a row just too long for the padded width was cut
       ("已叫号 · 潘…"). The room at the sides is the list's own, outside the rows. */
    QListWidget#timeline {{ padding: 0px 8px; }}
    QListWidget#timeline::item {{ padding: 0px; }}
    /* A combo box's choices: Qt's menu-like pop-up sizes its rows from the menu font (39 px);
       as a list its rows take the rule above. */
    QComboBox {{ combobox-popup: 0; }}
    /* In a combo box one can type into, only its opener opens the list: 60 px wide then
       (elsewhere the whole box is the target, and the words keep the width). */
    QComboBox[editable="true"]::drop-down {{ subcontrol-origin: border;
                  subcontrol-position: center right; width: {target}px; height: {target}px;
                  border-left: 1px solid #b8bfc8; }}
    QComboBox[editable="true"]::down-arrow {{ image: url("{_DOWN}"); width: 28px; height: 28px; }}
    /* A spin box's stacked arrows were 14x29 px: one 60-px button at each end instead,
       minus on the left, plus on the right. */
    QAbstractSpinBox {{ padding-left: {target + 6}px; padding-right: {target + 6}px;
                  border: 2px solid #9aa3ad; border-radius: 6px; background: white;
                  qproperty-alignment: AlignCenter; }}
    QAbstractSpinBox::up-button, QAbstractSpinBox::down-button {{ subcontrol-origin: border;
                  width: {target - 2}px; height: {target - 2}px; background: #e7eaee;
                  border: 1px solid #b8bfc8; border-radius: 6px; }}
    QAbstractSpinBox::up-button {{ subcontrol-position: center right; }}
    QAbstractSpinBox::down-button {{ subcontrol-position: center left; }}
    QAbstractSpinBox::up-button:pressed, QAbstractSpinBox::down-button:pressed {{
                  background: #c9d3de; }}
    QAbstractSpinBox::up-arrow {{ image: url("{_PLUS}"); width: 28px; height: 28px; }}
    QAbstractSpinBox::down-arrow {{ image: url("{_MINUS}"); width: 28px; height: 28px; }}
    QAbstractSpinBox::up-arrow:disabled, QAbstractSpinBox::up-arrow:off,
    QAbstractSpinBox::down-arrow:disabled, QAbstractSpinBox::down-arrow:off {{ image: none; }}
    """


def style_sheet(base: int) -> str:
    title = round(base * 1.8)
    subtitle = round(base * 1.3)
    return (
        _targets(base)
        + f"""
    QWidget {{ font-size: {base}pt; color: {INK}; }}
    QMainWindow, QWidget#page {{ background: {PAGE}; }}
    QLabel[role="title"] {{ font-size: {title}pt; font-weight: bold; color: #8a1c1c; }}
    QLabel[role="subtitle"] {{ font-size: {subtitle}pt; font-weight: bold; }}
    QLabel[role="hint"] {{ color: {HINT}; }}
    QLabel[role="error"] {{ color: #b00020; font-weight: bold; }}
    QLabel[role="figure"] {{ font-size: {title}pt; font-weight: bold; color: #0b4f8a; }}
    QFrame#header {{ background: #8a1c1c; }}
    QFrame#header QLabel, QFrame#header QCheckBox {{ color: white; }}
    QFrame#header QCheckBox::indicator {{ background: white; border: 2px solid white;
                  border-radius: 4px; }}
    QFrame#header QCheckBox::indicator:checked {{ image: url("{_TICK}"); }}
    QFrame#card {{ background: white; border: 1px solid #d5d9e0; border-radius: 8px; }}
    QLineEdit {{ padding: 6px; border: 2px solid #9aa3ad; border-radius: 6px; background: white;
                placeholder-text-color: {PLACEHOLDER}; }}
    QPlainTextEdit, QTextEdit {{ placeholder-text-color: {PLACEHOLDER}; }}
    QLineEdit:disabled, QComboBox:disabled, QAbstractSpinBox:disabled {{
                background: {DISABLED_FILL}; color: {DISABLED_TEXT};
                border: 2px dashed {DISABLED_LINE}; }}
    QCheckBox:disabled, QRadioButton:disabled, QLabel:disabled {{ color: {DISABLED_TEXT}; }}
    QLineEdit:focus {{ border-color: #0b4f8a; }}
    QLineEdit[invalid="true"], QComboBox[invalid="true"] {{ border: 2px solid #b00020;
                  background: #fde8e8; }}
    QPushButton {{ padding: 8px 18px; border-radius: 6px; background: #e7eaee;
                  border: 1px solid #b8bfc8; }}
    QPushButton:focus {{ border: 2px solid #0b4f8a; }}
    QPushButton[role="primary"] {{ background: #0b4f8a; color: white; font-weight: bold; }}
    QPushButton:checked {{ background: #0b4f8a; color: white; font-weight: bold;
                  border: 2px solid #06345c; }}
    QPushButton:disabled, QPushButton[role="primary"]:disabled {{ background: {DISABLED_FILL};
                  color: {DISABLED_TEXT}; font-weight: normal;
                  border: 1px dashed {DISABLED_LINE}; }}
    QFrame#header QPushButton {{ background: #a83a3a; color: white; border-color: #c86a6a; }}
    QListWidget#stations {{ background: white; border: none; }}
    QListWidget#stations::item {{ padding: 14px 12px; border-bottom: 1px solid #e3e6ea; }}
    QListWidget#stations::item:selected {{ background: #0b4f8a; color: white; }}
    QHeaderView::section {{ background: #e7eaee; padding: 4px; font-weight: bold;
                           border: none; border-right: 1px solid #d5d9e0; }}
    QTableWidget {{ background: white; gridline-color: #e3e6ea; }}
    """
        + _customer()
    )


def fit_rows(view: QTableView) -> None:
    """Large print: a table's rows are 60-px targets like every other control.

    A style sheet cannot reach a table's row height (it is the vertical header's section
    size, set from the style when the header is made), so each table whose rows are chosen
    by a tap calls this once; large print rebuilds the widgets, so once is enough.
    """
    if not is_large_print():
        return
    rows = view.verticalHeader()
    rows.setMinimumSectionSize(LARGE_TARGET_PX)
    rows.setDefaultSectionSize(max(rows.defaultSectionSize(), LARGE_TARGET_PX))


def apply_theme(app: QApplication, large_print: bool) -> None:
    base = base_point_size(large_print)
    font = app_font()
    font.setPointSize(base)
    app.setFont(font)
    app.setStyleSheet(style_sheet(base))
