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

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QResizeEvent, QScreen, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
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
        scroll = self._scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.customer)
        self.customer_column = QVBoxLayout(self.customer)
        self.customer_column.setSpacing(14)
        self._sides: tuple[QVBoxLayout, QVBoxLayout, QHBoxLayout] | None = None
        self._chosen_lines: list[QLabel] = []
        self._slip_lines: list[QLabel] = []
        self._chosen_more: QLabel | None = None
        self._slips_more: QLabel | None = None
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
        self._sides, self._chosen_lines, self._slip_lines = None, [], []
        self._chosen_more = self._slips_more = None
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

        # The chosen services with their sum, and the slips: side by side when there are
        # both (the slips of an earlier round stay while the next is chosen), one above the
        # other otherwise. ``_fit`` keeps them on the screen: the customer cannot scroll.
        left, right = QVBoxLayout(), QVBoxLayout()
        for side in (left, right):
            side.setSpacing(14)
        self._chosen_lines, self._slip_lines = [], []
        self._chosen_more = self._slips_more = None
        if view.chosen:
            left.addWidget(self._title(_("Chosen for you")))
            for line in view.chosen:
                label = self._label(
                    "cs_chosen",
                    text=_("{service} × {n}: {points:,} points").format(
                        service=line.service, n=line.quantity, points=line.points
                    ),
                    wrap=True,
                )
                left.addWidget(label)
                self._chosen_lines.append(label)
            self._chosen_more = self._label("cs_more", wrap=True)
            self._chosen_more.setHidden(True)
            left.addWidget(self._chosen_more)
            if view.sums is not None:
                self._show_sums(view.sums, left)
        if view.slips:
            side = right if view.chosen else left
            side.addWidget(self._title(_("Your slips")))
            self._slips_more = self._label("cs_more", wrap=True)
            self._slips_more.setHidden(True)
            side.addWidget(self._slips_more)
            for slip in view.slips:
                label = self._label(
                    "cs_slip",
                    text=_("No. {serial:06d}  {service} × {n}: {points:,} points").format(
                        serial=slip.serial,
                        service=slip.service,
                        n=slip.quantity,
                        points=slip.points,
                    ),
                    wrap=True,
                )
                side.addWidget(label)
                self._slip_lines.append(label)
            total = sum(slip.points for slip in view.slips)
            side.addWidget(
                self._label(
                    "cs_slip_total",
                    text=n_(
                        len(view.slips),
                        "{n} slip, {points:,} points in all",
                        "{n} slips, {points:,} points in all",
                    ).format(n=len(view.slips), points=total),
                )
            )
        if left.count():
            sides = QHBoxLayout()
            sides.setSpacing(56)
            left.addStretch(1)
            sides.addLayout(left, 1)
            if right.count():
                right.addStretch(1)
                sides.addLayout(right, 1)
            column.addLayout(sides)
            self._sides = (left, right, sides)
        else:
            self._sides = None
        column.addStretch(1)
        self._fit_soon()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_soon()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit_soon()

    def _fit_soon(self) -> None:
        """``_fit`` once the events already queued have run: labels added to a window on
        screen are shown by a queued call, and until then the layouts measure them as
        nothing (and a window not on screen measures the same whatever it hides)."""
        QTimer.singleShot(0, self._fit)

    def _fit(self) -> None:
        """Keep the chosen services and the slips on the screen, which the customer cannot
        scroll: when they are taller than the screen, the oldest slips are left out first
        (a line says how many; their total still counts them all), then the last chosen
        services (a line says how many more; the sum below still adds them all). The desk's
        own screen lists everything."""
        if self.view is None or self._sides is None or not self.isVisible():
            return
        for label in (*self._chosen_lines, *self._slip_lines):
            label.setHidden(False)
        for more in (self._chosen_more, self._slips_more):
            if more is not None:
                more.setHidden(True)
        self.customer.ensurePolished()
        # The window's own size less its margins: the scroll area's viewport takes its size
        # only after this window's resize has been laid out.
        margins = self.layout().contentsMargins()
        room = self.height() - margins.top() - margins.bottom()
        width = self.width() - margins.left() - margins.right()
        left, right, sides = self._sides
        half = width // 2 if right.count() else width
        hidden_slips = hidden_chosen = 0

        def height() -> int:
            # A hidden label leaves the layouts' remembered heights stale until they are
            # laid out again: forgotten here, so each step measures what is shown now.
            for layout in (left, right, sides, self.customer_column):
                layout.invalidate()
            return self.customer_column.totalHeightForWidth(width)

        while height() > room:
            slips_side = right if right.count() else left
            slips_taller = slips_side.totalHeightForWidth(half) >= left.totalHeightForWidth(half)
            can_slips = len(self._slip_lines) - hidden_slips > 1
            can_chosen = len(self._chosen_lines) - hidden_chosen > 1
            if can_slips and (slips_taller or not can_chosen):
                self._slip_lines[hidden_slips].setHidden(True)
                hidden_slips += 1
                self._say_more(
                    self._slips_more,
                    n_(
                        hidden_slips,
                        "and {n} earlier slip, not listed here",
                        "and {n} earlier slips, not listed here",
                    ).format(n=hidden_slips),
                )
            elif can_chosen:
                hidden_chosen += 1
                self._chosen_lines[-hidden_chosen].setHidden(True)
                self._say_more(
                    self._chosen_more,
                    n_(
                        hidden_chosen,
                        "and {n} more service, in the sum below",
                        "and {n} more services, in the sum below",
                    ).format(n=hidden_chosen),
                )
            else:
                break  # one line of each left: the page scrolls rather than hide them

    @staticmethod
    def _say_more(label: QLabel | None, text: str) -> None:
        if label is not None:
            label.setText(text)
            label.setHidden(False)

    def _show_sums(self, sums: CartSums, column: QVBoxLayout) -> None:
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
        inner = item.layout()
        if inner is not None:  # the columns inside the side-by-side row
            _drop_layout(inner)
    layout.setParent(None)
    layout.deleteLater()
