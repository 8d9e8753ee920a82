"""Look and feel: large, high-contrast, one CJK font, and a large-print mode.

Sizes are in points and derive from one base size so large print scales everything at once;
large print puts main text at 20 pt for elderly customers reading along.
"""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from ui.fonts import app_font

NORMAL_PT = 13
LARGE_PT = 20
# MIIT's ageing-friendly guidance (2021): touch targets at least 60 px. Large print meets it
# on every button, field, choice and switch; normal print keeps the denser staff layout.
LARGE_TARGET_PX = 60


def base_point_size(large_print: bool) -> int:
    return LARGE_PT if large_print else NORMAL_PT


def is_large_print() -> bool:
    """Whether the running app is in large print (layouts with two columns stack then)."""
    return QApplication.font().pointSize() >= LARGE_PT


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
    """


def style_sheet(base: int) -> str:
    title = round(base * 1.8)
    subtitle = round(base * 1.3)
    return (
        _targets(base)
        + f"""
    QWidget {{ font-size: {base}pt; color: #1b1f24; }}
    QMainWindow, QWidget#page {{ background: #f5f6f8; }}
    QLabel[role="title"] {{ font-size: {title}pt; font-weight: bold; color: #8a1c1c; }}
    QLabel[role="subtitle"] {{ font-size: {subtitle}pt; font-weight: bold; }}
    QLabel[role="hint"] {{ color: #4a5360; }}
    QLabel[role="error"] {{ color: #b00020; font-weight: bold; }}
    QLabel[role="figure"] {{ font-size: {title}pt; font-weight: bold; color: #0b4f8a; }}
    QFrame#header {{ background: #8a1c1c; }}
    QFrame#header QLabel, QFrame#header QCheckBox {{ color: white; }}
    QFrame#card {{ background: white; border: 1px solid #d5d9e0; border-radius: 8px; }}
    QLineEdit {{ padding: 6px; border: 2px solid #9aa3ad; border-radius: 6px; background: white; }}
    QLineEdit:focus {{ border-color: #0b4f8a; }}
    QLineEdit[invalid="true"], QComboBox[invalid="true"] {{ border: 2px solid #b00020;
                  background: #fde8e8; }}
    QPushButton {{ padding: 8px 18px; border-radius: 6px; background: #e7eaee;
                  border: 1px solid #b8bfc8; }}
    QPushButton:focus {{ border: 2px solid #0b4f8a; }}
    QPushButton[role="primary"] {{ background: #0b4f8a; color: white; font-weight: bold; }}
    QPushButton:checked {{ background: #0b4f8a; color: white; font-weight: bold;
                  border: 2px solid #06345c; }}
    QPushButton:disabled, QPushButton[role="primary"]:disabled {{ background: #eceef1;
                  color: #9aa3ad; border-color: #d5d9e0; }}
    QFrame#header QPushButton {{ background: #a83a3a; color: white; border-color: #c86a6a; }}
    QListWidget#stations {{ background: white; border: none; }}
    QListWidget#stations::item {{ padding: 14px 12px; border-bottom: 1px solid #e3e6ea; }}
    QListWidget#stations::item:selected {{ background: #0b4f8a; color: white; }}
    QHeaderView::section {{ background: #e7eaee; padding: 4px; font-weight: bold;
                           border: none; border-right: 1px solid #d5d9e0; }}
    QTableWidget {{ background: white; gridline-color: #e3e6ea; }}
    """
    )


def apply_theme(app: QApplication, large_print: bool) -> None:
    base = base_point_size(large_print)
    font = app_font()
    font.setPointSize(base)
    app.setFont(font)
    app.setStyleSheet(style_sheet(base))
