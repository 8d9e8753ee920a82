"""The screen turned to the customer at a desk (issue #24, item 3): who they are (masked),
what is being changed, their points, the services chosen for them added up against their
points, and the slips being issued, in large type.

A second monitor, or this window dragged to a screen the staff turn round. The main window
owns it (as it owns the public call display), so it stays open across a re-layout or a
language switch; the desk on screen publishes a ``kiosk.customer_view.CustomerView`` (plain,
masked values) and this window only lays it out. No customer at the desk (none called, the
station switched, signed out, the idle lock): a neutral welcome with the event's name, so
nothing of the last customer stays.

Type and colours follow the MIIT 2021 ageing-friendly guidance: main text 24 pt (never under
18 pt), near-black on white (18:1) and every accent at least 7:1; the state of the changes
("please check", "saved") and a cart over the customer's points ("not enough points: N
short") said in words, not in colour alone.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.customer_view import CartSums, CustomerView
from kiosk.i18n import _, n_
from ui.settings import Settings

# Contrast on white: #111111 18.9:1, #0b3d91 10.6:1, #5c3b00 on #fff4d6 9.6:1,
# #0f5132 on #dff2e6 8.2:1, #8a1111 on #fdecec 8.5:1 (WCAG relative luminance;
# tests/ui/test_customer_screen.py).
TEXT = "#111111"
ACCENT = "#0b3d91"
PAPER = "#ffffff"
CONFIRM_TEXT, CONFIRM_PAPER = "#5c3b00", "#fff4d6"
SAVED_TEXT, SAVED_PAPER = "#0f5132", "#dff2e6"
SHORT_TEXT, SHORT_PAPER = "#8a1111", "#fdecec"

# Every rule under the window's name: a rule for all its labels would otherwise outrank
# the ones for a single label (Qt style sheets weigh selectors as CSS does).
_ME = "QWidget#customer_screen"
STYLE = f"""
{_ME}, {_ME} QWidget {{ background: {PAPER}; }}
{_ME} QLabel {{ color: {TEXT}; font-size: 24pt; background: transparent; }}
{_ME} QLabel#cs_welcome {{ font-size: 54pt; font-weight: bold; color: {ACCENT}; }}
{_ME} QLabel#cs_event, {_ME} QLabel#cs_wait {{ font-size: 32pt; }}
{_ME} QLabel#cs_name {{ font-size: 40pt; font-weight: bold; color: {ACCENT}; }}
{_ME} QLabel#cs_points {{ font-size: 30pt; font-weight: bold; }}
{_ME} QLabel[cs="title"] {{ font-size: 26pt; font-weight: bold; color: {ACCENT}; }}
{_ME} QLabel[cs="head"] {{ font-size: 20pt; font-weight: bold; }}
{_ME} QLabel#cs_state[state="confirm"] {{
    color: {CONFIRM_TEXT}; background: {CONFIRM_PAPER}; padding: 8px; font-weight: bold;
}}
{_ME} QLabel#cs_state[state="saved"] {{
    color: {SAVED_TEXT}; background: {SAVED_PAPER}; padding: 8px; font-weight: bold;
}}
{_ME} QLabel[cs="sum"] {{ font-size: 28pt; }}
{_ME} QLabel[cs="sum_figure"] {{ font-size: 28pt; font-weight: bold; }}
{_ME} QLabel#cs_sum_left {{ font-size: 28pt; font-weight: bold; }}
{_ME} QLabel#cs_sum_left_figure {{ font-size: 32pt; font-weight: bold; color: {ACCENT}; }}
{_ME} QLabel#cs_state[state="short"] {{
    color: {SHORT_TEXT}; background: {SHORT_PAPER}; padding: 8px; font-size: 30pt;
    font-weight: bold;
}}
"""


class CustomerScreen(QWidget):
    """The customer's screen: the welcome, or the customer the desk publishes."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.setObjectName("customer_screen")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(STYLE)
        self.view: CustomerView | None = None
        self.event_name = ""
        self.pages = QStackedWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 36, 48, 36)
        layout.addWidget(self.pages)

        self.welcome = QWidget()
        self.welcome.setObjectName("cs_welcome_page")
        column = QVBoxLayout(self.welcome)
        column.addStretch(1)
        self.welcome_title = self._label("cs_welcome", Qt.AlignmentFlag.AlignCenter)
        self.event_label = self._label("cs_event", Qt.AlignmentFlag.AlignCenter)
        self.wait_label = self._label("cs_wait", Qt.AlignmentFlag.AlignCenter)
        for label in (self.welcome_title, self.event_label, self.wait_label):
            column.addWidget(label)
        column.addStretch(1)
        self.pages.addWidget(self.welcome)

        self.customer = QWidget()
        self.customer.setObjectName("cs_customer_page")
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.customer)
        self.customer_column = QVBoxLayout(self.customer)
        self.customer_column.setSpacing(14)
        self.pages.addWidget(scroll)
        self.resize(1100, 700)
        self.show_view(None, "")

    # -- where it goes ------------------------------------------------------------------------

    def place(self, beside: QScreen | None) -> None:
        """Full screen on another monitor than the staff's, when there is one and the
        setting allows it; else an ordinary window the staff can drag where they like."""
        target = choose_screen(QGuiApplication.screens(), beside, self.settings)
        if target is None:
            self.setWindowState(self.windowState() & ~Qt.WindowState.WindowFullScreen)
            self.show()
            return
        self.setScreen(target)
        self.setGeometry(target.geometry())
        self.showFullScreen()

    # -- what it shows ------------------------------------------------------------------------

    def show_view(self, view: CustomerView | None, event_name: str) -> None:
        """The customer the desk published, or the welcome; in the language now current."""
        self.view = view
        self.event_name = event_name
        self.setWindowTitle(_("Customer screen"))
        if view is None:
            self._clear_customer()  # nothing of the last customer stays, hidden or not
            self.welcome_title.setText(_("Welcome"))
            self.event_label.setText(event_name)
            self.event_label.setVisible(bool(event_name))
            self.wait_label.setText(_("Please wait a moment"))
            self.pages.setCurrentIndex(0)
            return
        self._show_customer(view)
        self.pages.setCurrentIndex(1)

    def label_texts(self) -> list[str]:
        """Every label's text on the screen (visible or not): what the customer could see."""
        return [label.text() for label in self.findChildren(QLabel)]

    def _clear_customer(self) -> None:
        column = self.customer_column
        while column.count():
            item = column.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.hide()
                widget.setParent(None)
                widget.deleteLater()
            layout = item.layout()
            if layout is not None:
                _drop_layout(layout)

    def _show_customer(self, view: CustomerView) -> None:
        self._clear_customer()
        column = self.customer_column
        column.addWidget(
            self._label("cs_name", text=_("Hello, {name}").format(name=view.masked_name))
        )
        facts = []
        if view.ticket:
            facts.append(_("Ticket {ticket}").format(ticket=view.ticket))
        if view.points is not None:
            facts.append(_("Points to spend: {points:,}").format(points=view.points))
        if facts:
            column.addWidget(self._label("cs_points", text="    ".join(facts)))

        if view.changes or view.saved is not None:
            column.addWidget(self._title(_("Your details")))
            if view.confirming:
                column.addWidget(
                    self._state("confirm", _("Please check these changes and tell the staff"))
                )
            elif view.saved is not None and not view.changes:
                column.addWidget(
                    self._state(
                        "saved",
                        _("✓ Saved: {n} changes").format(n=view.saved)
                        if view.saved
                        else _("✓ Your details are up to date"),
                    )
                )
            if view.changes:
                grid = QGridLayout()
                grid.setHorizontalSpacing(28)
                grid.setVerticalSpacing(8)
                for c, head in enumerate((_("Item"), _("Before"), _("After"))):
                    grid.addWidget(self._head(head), 0, c)
                for r, change in enumerate(view.changes, start=1):
                    for c, text in enumerate((change.item, change.before, "→ " + change.after)):
                        cell = self._label("cs_change", text=text)
                        cell.setWordWrap(True)
                        grid.addWidget(cell, r, c)
                grid.setColumnStretch(1, 1)
                grid.setColumnStretch(2, 1)
                column.addLayout(grid)

        if view.chosen:
            column.addWidget(self._title(_("Chosen for you")))
            for line in view.chosen:
                column.addWidget(
                    self._label(
                        "cs_chosen",
                        text=_("{service} × {n}: {points:,} points").format(
                            service=line.service, n=line.quantity, points=line.points
                        ),
                        wrap=True,
                    )
                )
            if view.sums is not None:
                self._show_sums(view.sums)
        if view.slips:
            column.addWidget(self._title(_("Your slips")))
            for slip in view.slips:
                column.addWidget(
                    self._label(
                        "cs_slip",
                        text=_("No. {serial:06d}  {service} × {n}: {points:,} points").format(
                            serial=slip.serial,
                            service=slip.service,
                            n=slip.quantity,
                            points=slip.points,
                        ),
                        wrap=True,
                    )
                )
            total = sum(slip.points for slip in view.slips)
            column.addWidget(
                self._label(
                    "cs_slip_total",
                    text=n_(
                        len(view.slips),
                        "{n} slip, {points:,} points in all",
                        "{n} slips, {points:,} points in all",
                    ).format(n=len(view.slips), points=total),
                )
            )
        column.addStretch(1)

    def _show_sums(self, sums: CartSums) -> None:
        """The chosen services added up as a sum on paper: their points, the services' total,
        and what is left, figures aligned on the right; a cart over their points says by how
        much, in words, where the figure left would be."""
        grid = QGridLayout()
        grid.setHorizontalSpacing(28)
        grid.setVerticalSpacing(6)
        rows = [
            ("cs_sum_balance", _("Your points"), sums.balance),
            ("cs_sum_total", _("Total of these services"), sums.total),
        ]
        if not sums.short:
            rows.append(("cs_sum_left", _("Left after the slips"), sums.left))
        for r, (name, words, points) in enumerate(rows):
            label = self._label(name, text=words)
            label.setProperty("cs", "sum")
            figure = self._label(
                f"{name}_figure",
                Qt.AlignmentFlag.AlignRight,
                text=_("{points:,} points").format(points=points),
                wrap=False,
            )
            figure.setProperty("cs", "sum_figure")
            grid.addWidget(label, r, 0)
            grid.addWidget(figure, r, 1)
        grid.setColumnStretch(2, 1)  # the words and their figures side by side, not apart
        column = self.customer_column
        column.addSpacing(12)  # a sum under the lines, not one more line
        column.addLayout(grid)
        if sums.short:
            column.addWidget(
                self._state("short", _("Not enough points: {n:,} short").format(n=sums.short))
            )

    # -- pieces ---------------------------------------------------------------------------

    def _label(
        self,
        name: str,
        align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft,
        *,
        text: str = "",
        wrap: bool = True,
    ) -> QLabel:
        label = QLabel(text)
        label.setObjectName(name)
        label.setAlignment(align | Qt.AlignmentFlag.AlignVCenter)
        label.setWordWrap(wrap)
        label.setTextFormat(Qt.TextFormat.PlainText)  # a name is never markup
        return label

    def _title(self, text: str) -> QLabel:
        label = self._label("cs_title", text=text)
        label.setProperty("cs", "title")
        return label

    def _head(self, text: str) -> QLabel:
        label = self._label("cs_head", text=text)
        label.setProperty("cs", "head")
        return label

    def _state(self, state: str, text: str) -> QLabel:
        label = self._label("cs_state", text=text)
        label.setProperty("state", state)
        return label


def choose_screen(
    screens: list[QScreen], beside: QScreen | None, settings: Settings
) -> QScreen | None:
    """The monitor for the customer screen: the one the settings name (1 is the first),
    else the first that is not the staff's; None for a window (one monitor, or the setting
    says a window)."""
    mode = settings.customer_screen
    if mode == "window" or len(screens) < 2:
        return None
    number = settings.customer_screen_number
    if 1 <= number <= len(screens) and screens[number - 1] is not beside:
        return screens[number - 1]
    return next((s for s in screens if s is not beside), None)


def _drop_layout(layout: object) -> None:
    from PySide6.QtWidgets import QLayout

    assert isinstance(layout, QLayout)
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget()
        if widget is not None:
            widget.hide()
            widget.setParent(None)
            widget.deleteLater()
    layout.setParent(None)
    layout.deleteLater()
