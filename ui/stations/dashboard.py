"""The coordinator's dashboard (看板): the event at a glance, readable from across the room.

Alerts first, in colour and words; then big numbers (arrivals, both queues with their
longest wait, slips, points redeemed); then charts where a picture beats a number: the two
funnels (the invitations, then the day) with the steps done at the desks beside them,
arrivals per slot against the confirmed invitations, attendance per branch and the offers
closest to their capacity; the visit timelines; and the points as the bank counts them (the
redemption ratio against every customer's points and the bank's stock, labelled apart from
the invitees' own ratio, points expiring before the next event, dormant customers
reactivated, points redeemed per tier). Every figure comes from
``kiosk.services.dashboard`` (the same queries and definitions as the reports).

It refreshes itself every few seconds with a QTimer in the main thread, only while it is on
screen (less often when a refresh takes long, so it never keeps the window busy more than a
tenth of the time). The figures are kept between refreshes (``LiveFigures``): a thread reads
the whole event once, and from then on each refresh reads only the customers that changed
since, so a refresh costs the same on a small event and a large one. The timelines and every
customer's points (the stock the bank's ratio divides by, the points expiring) are shown
every sixth refresh, as when they were read in full each time. The alert limits are the
coordinator's preference on this machine (``Settings.dashboard_thresholds``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.models import Queue
from kiosk.roles import Station
from kiosk.services import dashboard
from kiosk.services.dashboard import Dashboard, Severity, Thresholds
from kiosk.services.figures import (
    ALL_SLOTS,
    FUNNELS,
    Funnel,
    Interval,
    PointsStock,
    Stage,
    Step,
    Timeline,
    funnel_label,
    interval_label,
    ratio_of,
    stage_label,
    step_count_label,
)
from kiosk.services.live_figures import LiveFigures
from kiosk.services.stations import StationSpace, station_space
from ui.charts import AMBER, BLUE, GREEN, GREY, RED, Bar, BarChart
from ui.context import StationContext
from ui.operations import hold_collector, release_collector, when_idle
from ui.stations.base import StationPage
from ui.theme import is_large_print
from ui.timing import every
from ui.widgets import ResultBanner, Tone

REFRESH_MS = 5000
TIMELINES_EVERY = 6  # refreshes


def _size(free: int) -> str:
    """Free space as staff read it: MB below a gigabyte, else GB with one decimal."""
    if free < 1024**3:
        return _("{n} MB").format(n=free // 1024**2)
    return _("{n:.1f} GB").format(n=free / 1024**3)


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "–"


def _ratio(ratio: float | None) -> str:
    """A redemption ratio with one decimal: the bank's are a few percent."""
    if ratio is None:
        return "–"
    if 0 < ratio < 0.0005:  # of the bank's whole stock: two significant digits, not "0.0%"
        return f"{100 * ratio:.2g}%"
    return f"{100 * ratio:.1f}%"


def _minutes(seconds: int | None) -> str:
    return "–" if seconds is None else f"{seconds / 60:.0f}"


class AlertBanner(ResultBanner):
    headline_pt = 18
    detail_pt = 15


class Tile(QFrame):
    """A big number with its caption and one line of detail."""

    def __init__(self, key: str, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        box = QVBoxLayout(self)
        box.setContentsMargins(12, 4, 12, 6)
        box.setSpacing(0)
        self.caption = QLabel(caption)
        self.caption.setProperty("role", "hint")
        self.caption.setWordWrap(True)
        self.value = QLabel("–")
        self.value.setObjectName(f"kpi_{key}")
        self.detail = QLabel("")
        self.detail.setObjectName(f"kpi_{key}_detail")
        self.detail.setWordWrap(True)
        box.addWidget(self.caption)
        box.addWidget(self.value)
        box.addWidget(self.detail)
        self.set_tone(None)

    def set_tone(self, severity: Severity | None) -> None:
        colour = {None: "#0b4f8a", Severity.WARN: "#9a6700", Severity.ERROR: "#b00020"}[severity]
        base = self.font().pointSize()
        self.value.setStyleSheet(
            f"font-size: {round(base * 2.6)}pt; font-weight: bold; color: {colour};"
        )
        small = f"font-size: {round(base * 0.9)}pt;"
        self.detail.setStyleSheet(f"{small} color: {colour};" if severity else small)


class Card(QFrame):
    """A titled panel holding a chart or a table."""

    def __init__(self, title: str, content: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        box = QVBoxLayout(self)
        box.setContentsMargins(10, 4, 10, 6)
        box.setSpacing(2)
        self.title = QLabel(title)
        self.title.setProperty("role", "subtitle")
        self.title.setWordWrap(True)
        box.addWidget(self.title)
        box.addWidget(content, 1)


class LimitsDialog(QDialog):
    """The alert limits, as three numbers."""

    def __init__(self, thresholds: Thresholds, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Alert limits"))
        form = QFormLayout(self)
        self.wait = QSpinBox()
        self.wait.setRange(1, 240)
        self.wait.setSuffix(_(" min"))
        self.wait.setValue(thresholds.queue_wait_minutes)
        self.crowding = QSpinBox()
        self.crowding.setRange(10, 300)
        self.crowding.setSuffix("%")
        self.crowding.setValue(thresholds.slot_crowding_percent)
        self.offer = QSpinBox()
        self.offer.setRange(0, 90)
        self.offer.setSuffix("%")
        self.offer.setValue(thresholds.offer_left_percent)
        form.addRow(_("Queue wait from"), self.wait)
        form.addRow(_("Slot arrivals from (of capacity)"), self.crowding)
        form.addRow(_("Service with at most this much left"), self.offer)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def thresholds(self) -> Thresholds:
        return Thresholds(self.wait.value(), self.crowding.value(), self.offer.value())


class DashboardStation(StationPage):
    station = Station.DASHBOARD

    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.settings = context.preferences()
        self.thresholds = self.settings.dashboard_thresholds()
        self.board: Dashboard | None = None
        self.timelines: list[Timeline] = []
        # Every customer's points and the expiring ones, read with the timelines.
        self.stock: PointsStock | None = None
        self.spaces: list[StationSpace] = []
        self.refreshes = 0
        # The figures kept between refreshes: each refresh reads only what changed. The first
        # reading of the whole event runs on a thread of its own (seconds on a large event);
        # until it is done, each refresh reads every figure in full, as before.
        self.live = LiveFigures()
        self.priming: threading.Thread | None = None
        self.refresh_ms = every(REFRESH_MS)
        self.timer = QTimer(self)
        self.timer.setInterval(self.refresh_ms)
        self.timer.timeout.connect(when_idle(self, self.refresh))
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        body = QWidget()
        body.setObjectName("page")
        if is_large_print():  # its tabs fit the page: nothing to scroll
            outer.addWidget(body)
        else:
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            outer.addWidget(scroll)
            scroll.setWidget(body)
        self._build(body)
        self.bind(Qt.Key.Key_F5, self.refresh)

    # -- building ---------------------------------------------------------------------------

    def _build(self, body: QWidget) -> None:
        layout = QVBoxLayout(body)
        layout.setContentsMargins(14, 6, 14, 10)
        layout.setSpacing(8)
        large = is_large_print()
        self.heading = QLabel(_("Dashboard"))
        self.heading.setProperty("role", "title")
        self.as_of = QLabel("")
        self.as_of.setObjectName("as_of")
        self.as_of.setProperty("role", "hint")
        limits = QPushButton(_("Alert limits…"))
        limits.setObjectName("limits")
        limits.clicked.connect(self.edit_limits)
        refresh = QPushButton(_("Refresh (F5)"))
        refresh.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.heading)
        if large:  # the title gets its own line
            layout.addLayout(top)
            top = QHBoxLayout()
        top.addStretch(1)
        top.addWidget(self.as_of)
        top.addWidget(limits)
        top.addWidget(refresh)
        layout.addLayout(top)

        self.alerts = AlertBanner()
        layout.addWidget(self.alerts)

        tiles = QGridLayout()
        tiles.setSpacing(10)
        self.tiles = {
            "arrived": Tile("arrived", _("Arrived")),
            Queue.SERVICE_DESK: Tile("service_desk", _("Waiting: service desk")),
            Queue.ACTIVATION: Tile("activation", _("Waiting: activation desk")),
            "slips": Tile("slips", _("Customers with slips")),
            "points": Tile("points", _("Points redeemed")),
            "disk": Tile("disk", _("Least free disk space")),
        }
        # Large print on a 1366×768 laptop has no room for six figures and six charts on one
        # page: three figures a tab, then the charts two by two, each tab a page that fits,
        # so the page never scrolls (issue #24: "the dashboard scrolls"). Normal print keeps
        # everything on one page.
        self.pages: QTabWidget | None = None
        if large:
            self.pages = QTabWidget()
            self.pages.setObjectName("dashboard_pages")
            tiles_in_order = list(self.tiles.values())
            for title, three in (
                (_("Arrivals, queues"), tiles_in_order[:3]),
                (_("Slips, points"), tiles_in_order[3:]),
            ):
                page = QWidget()
                row = QHBoxLayout(page)
                row.setSpacing(10)
                for tile in three:
                    row.addWidget(tile, 1)
                self.pages.addTab(page, title)
            layout.addWidget(self.pages, 1)
        else:
            for index, tile in enumerate(self.tiles.values()):
                tiles.addWidget(tile, 0, index)
                tiles.setColumnStretch(index, 1)
            layout.addLayout(tiles)

        # The two funnels in one chart, told apart by colour; the steps, which are not
        # nested, in a chart of their own below, each against the arrivals.
        self.funnel = BarChart(
            legend=[(funnel_label(Funnel.INVITATIONS), BLUE), (funnel_label(Funnel.DAY), GREEN)]
        )
        self.funnel.setObjectName("funnel")
        # The steps: a small table beside the funnel (below it in large print), numbers and
        # shares of the arrived, so nobody reads them as a stage of it.
        self.steps_caption = QLabel(_("Steps at the desks, of the arrived (not a funnel)"))
        self.steps_caption.setProperty("role", "hint")
        self.steps_caption.setWordWrap(True)
        steps_box = QWidget()
        self.steps_grid = QGridLayout(steps_box)
        self.steps_grid.setContentsMargins(0, 0, 0, 0)
        self.steps_grid.setHorizontalSpacing(10)
        self.steps_grid.setVerticalSpacing(2)
        self.steps_grid.addWidget(self.steps_caption, 0, 0, 1, 2)
        self.step_values: dict[Step, QLabel] = {}
        for row, step in enumerate(Step, start=1):
            self.steps_grid.addWidget(QLabel(step_count_label(step)), row, 0)
            value = QLabel("–")
            value.setObjectName(f"step_{step.value}")
            value.setAlignment(Qt.AlignmentFlag.AlignRight)
            self.steps_grid.addWidget(value, row, 1)
            self.step_values[step] = value
        self.steps_grid.setRowStretch(len(Step) + 1, 1)
        funnel_box = QWidget()
        funnel_layout = QHBoxLayout(funnel_box)  # large print: the funnel has a tab's width
        funnel_layout.setContentsMargins(0, 0, 0, 0)
        funnel_layout.setSpacing(12)
        funnel_layout.addWidget(self.funnel, 1)
        funnel_layout.addWidget(steps_box, 0)
        if large:  # each bar keeps a line's height
            self.funnel.setMinimumHeight(int(self.fontMetrics().height() * 1.1 * 7))
        self.slots = BarChart(vertical=True, legend=[(_("Arrived"), BLUE), (_("Expected"), GREY)])
        self.slots.setObjectName("slots")
        came, confirmed = stage_label(Stage.CONFIRMED_ARRIVED), stage_label(Stage.CONFIRMED)
        self.branches = BarChart(legend=[(came, BLUE), (confirmed, GREY)])
        self.branches.setObjectName("branches")
        self.offers = BarChart(legend=[(_("Taken"), BLUE), (_("Capacity"), GREY)])
        self.offers.setObjectName("offers")
        # The points as the bank counts them: the ratios, each with what it divides by, beside
        # the points redeemed per tier; the card takes the whole width below the others.
        points_figures = QWidget()
        self.points_grid = QGridLayout(points_figures)
        self.points_grid.setContentsMargins(0, 0, 0, 0)
        self.points_grid.setHorizontalSpacing(16)
        self.points_grid.setVerticalSpacing(2)
        self.points_values: dict[str, QLabel] = {}
        for row, (key, caption) in enumerate(
            [
                ("bank_ratio", _("Redeemed / every customer's points (the bank's ratio)")),
                ("bank_stock_ratio", _("Redeemed / the bank's whole stock")),
                ("invitee_ratio", _("Redeemed / invitees' points only (not the bank's ratio)")),
                ("expiring", _("Invitees' points expiring before the next event")),
                ("reactivated", _("Dormant customers reactivated")),
            ]
        ):
            label = QLabel(caption)
            label.setWordWrap(True)
            # Wide enough for a dozen characters a line, so a caption never stands in a
            # column one character wide beside a long value.
            label.setMinimumWidth(label.fontMetrics().horizontalAdvance("M" * 12))
            value = QLabel("–")
            value.setWordWrap(True)
            value.setObjectName(f"points_{key}")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            self.points_grid.addWidget(label, row, 0)
            self.points_grid.addWidget(value, row, 1)
            self.points_values[key] = value
        self.points_grid.setColumnStretch(0, 3)
        self.points_grid.setColumnStretch(1, 2)
        self.points_grid.setRowStretch(5, 1)
        tiers_box = QWidget()
        tiers_layout = QVBoxLayout(tiers_box)
        tiers_layout.setContentsMargins(0, 0, 0, 0)
        tiers_layout.setSpacing(2)
        tiers_caption = QLabel(_("Points redeemed per tier"))
        tiers_caption.setProperty("role", "hint")
        self.tiers = BarChart()
        self.tiers.setObjectName("tiers")
        self.tiers.setMinimumHeight(int(self.fontMetrics().height() * 1.3 * 4))
        tiers_layout.addWidget(tiers_caption)
        tiers_layout.addWidget(self.tiers, 1)
        self.points_box = QWidget()
        points_layout = QHBoxLayout(self.points_box)
        points_layout.setContentsMargins(0, 0, 0, 0)
        points_layout.setSpacing(16)
        points_layout.addWidget(points_figures, 3)
        points_layout.addWidget(tiers_box, 2)
        self.timeline_grid = QGridLayout()
        self.timeline_grid.setHorizontalSpacing(16)
        timeline_box = QWidget()
        timeline_box.setLayout(self.timeline_grid)
        self.timeline_cells: dict[tuple[Interval, str], QLabel] = {}

        grid = QGridLayout()
        grid.setSpacing(10)
        self.cards = {
            "funnel": Card(_("Funnel"), funnel_box),
            "slots": Card(_("Arrivals per slot"), self.slots),
            "branches": Card(_("Attendance per branch"), self.branches),
            "offers": Card(_("Services closest to capacity"), self.offers),
            "timelines": Card(_("Minutes between steps (median / 90%)"), timeline_box),
            "points": Card(_("Points as the bank counts them"), self.points_box),
        }
        if self.pages is not None:  # large print: a chart or two a tab
            for title, keys in (
                (_("Funnel"), ("funnel",)),
                (_("Slots, branches"), ("slots", "branches")),
                (_("Offers, times"), ("offers", "timelines")),
                (_("Points"), ("points",)),
            ):
                page = QWidget()
                pair = QHBoxLayout(page)
                pair.setSpacing(10)
                for key in keys:
                    pair.addWidget(self.cards[key], 1)
                self.pages.addTab(page, title)
        else:
            grid.addWidget(self.cards["funnel"], 0, 0)
            grid.addWidget(self.cards["timelines"], 1, 0)
            grid.addWidget(self.cards["slots"], 0, 1)
            grid.addWidget(self.cards["offers"], 1, 1)
            grid.addWidget(self.cards["branches"], 0, 2, 2, 1)
            grid.addWidget(self.cards["points"], 2, 0, 1, 3)
            grid.setColumnStretch(0, 10)
            grid.setColumnStretch(1, 5)
            grid.setColumnStretch(2, 6)
            grid.setRowStretch(0, 5)
            grid.setRowStretch(1, 4)
        self.cards["timelines"].setSizePolicy(
            QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred
        )
        if self.pages is None:
            layout.addLayout(grid, 1)

    # -- refreshing -------------------------------------------------------------------------

    def load(self) -> None:
        self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self.timer.stop()
        super().hideEvent(event)

    def _prime(self) -> None:
        """On the priming thread: the live figures' first reading of the whole event.

        It reads everything, so it waits patiently (no desk's 3-second bound, which a
        thread's fresh context would otherwise have). The collector stays off meanwhile: the
        reading allocates millions of objects, and a collection started on this thread could
        finalise a Qt object of the window here, off the main thread (``ui.live``); the
        main thread's garbage is collected when it is switched on again."""
        try:
            # On failure the refreshes read in full meanwhile, and the next one starts again.
            with contextlib.suppress(Exception):
                self.live.figures(
                    self.context.app.database.unit_of_work(patient=True),
                    clock=self.context.app.clock,
                )
        finally:
            release_collector()  # held by refresh, before this thread started

    def refresh(self) -> None:
        with_timelines = self.refreshes % TIMELINES_EVERY == 0
        self.refreshes += 1
        started = time.perf_counter()
        live = self.live if self.live.ready else None  # the thread is done with it
        if live is None and (self.priming is None or not self.priming.is_alive()):
            self.priming = threading.Thread(target=self._prime, name="dashboard", daemon=True)
            hold_collector()  # counted with the station calls' (ui.operations)
            self.priming.start()
        try:
            board = dashboard.snapshot(
                self.context.uow(),
                clock=self.context.app.clock,
                thresholds=self.thresholds,
                with_timelines=with_timelines,
                live=live,
                reload=False,  # a new set-up or a pull: read again on the thread
            )
        except KioskError as error:
            self.alerts.show_result(Tone.ERROR, _("The figures cannot be read."), str(error))
            return
        if with_timelines:
            self.timelines = board.figures.timelines
        if board.figures.points.stock is not None:
            self.stock = board.figures.points.stock
        self.board = board
        try:  # one small read: the stations' heartbeats (kiosk.services.stations)
            self.spaces = station_space(self.context.uow(), clock=self.context.app.clock)
        except KioskError:
            self.spaces = []
        self._show(board)
        # On a very large event a refresh takes a while: keep the screen responsive by
        # refreshing at most a tenth of the time.
        spent_ms = (time.perf_counter() - started) * 1000
        self.timer.setInterval(max(self.refresh_ms, int(10 * spent_ms)))

    def edit_limits(self) -> None:
        dialog = LimitsDialog(self.thresholds, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.apply_limits(dialog.thresholds())

    def apply_limits(self, thresholds: Thresholds) -> None:
        try:
            self.settings.set_dashboard_thresholds(thresholds)
        except KioskError as error:
            self.alerts.show_result(Tone.ERROR, str(error))
            return
        self.thresholds = thresholds
        self.refresh()

    # -- showing ----------------------------------------------------------------------------

    def _show(self, board: Dashboard) -> None:
        f = board.figures
        zone = ZoneInfo(f.timezone)
        self.heading.setText(f.event_name)
        self.as_of.setText(
            _("As of {time} · refreshes every {n} s").format(
                time=f.at.astimezone(zone).strftime("%H:%M:%S"),
                n=round(self.timer.interval() / 1000),
            )
        )
        self._show_alerts(board)
        severities: dict[str, Severity] = {}
        for alert in board.alerts:
            if alert.subject not in severities or alert.severity == Severity.ERROR:
                severities[alert.subject] = alert.severity
        total = f.total

        arrived = self.tiles["arrived"]
        arrived.value.setText(f"{total.arrived:,}")
        came = next(r for r in f.coverage if r.key == "attendance")
        arrived.detail.setText(
            _("{came} of {n} confirmed came ({percent}); {walk_ins} walk-ins").format(
                came=came.numerator,
                n=came.denominator,
                percent=_percent(came.numerator, came.denominator),
                walk_ins=total.walk_ins,
            )
        )
        for queue in f.queues:
            tile = self.tiles[queue.queue]
            tile.value.setText(f"{queue.waiting:,}")
            tile.detail.setText(
                _("longest wait {minutes} min; {n} being served").format(
                    minutes=queue.wait_minutes, n=queue.in_service
                )
                if queue.waiting
                else _("nobody waiting; {n} being served").format(n=queue.in_service)
            )
            tile.set_tone(severities.get(queue.queue))
        slips = self.tiles["slips"]
        slips.value.setText(f"{total.slips_issued:,}")
        slips.detail.setText(
            _("{slips} slips, {points} points").format(
                slips=f"{total.slips:,}", points=f"{total.points_issued:,}"
            )
        )
        points = self.tiles["points"]
        points.value.setText(f"{total.points_redeemed:,}")
        points.detail.setText(
            _("{ratio} as the bank counts; {n} slips redeemed").format(
                ratio=_ratio(self._customers_ratio(board)), n=f"{total.slips_redeemed:,}"
            )
        )
        self._show_points(board)

        funnel_bars = []
        for which, stages in FUNNELS.items():
            before = None
            for stage in stages:
                n = total.stage(stage)
                # Each stage is part of the one before: its share of it.
                text = f"{n:,}" if before is None else f"{n:,} · {_percent(n, before)}"
                colour = BLUE if which == Funnel.INVITATIONS else GREEN
                funnel_bars.append(Bar(stage_label(stage), n, colour=colour, text=text))
                before = n
        self.funnel.set_bars(funnel_bars)
        for step, n in total.steps():
            self.step_values[step].setText(f"{n:,} · {_percent(n, total.arrived)}")
        slot_colour = {Severity.WARN: AMBER, Severity.ERROR: RED}
        self.slots.set_bars(
            [
                Bar(
                    s.label,
                    s.arrived,
                    target=s.expected,
                    colour=slot_colour.get(severities.get(s.code, Severity.WARN))
                    if s.code in severities
                    else (GREEN if s.is_current else BLUE),
                    text=f"{s.arrived}/{s.expected}",
                )
                for s in f.slots
            ]
        )
        self.branches.set_bars(
            [
                Bar(
                    b.name,
                    b.confirmed_arrived,
                    target=b.confirmed,
                    text=f"{b.confirmed_arrived}/{b.confirmed}",
                )
                for b in f.branches
            ],
            _("No branch has invitees yet."),
        )
        closest = sorted(f.offers, key=lambda o: (-o.percent_taken, o.remaining))[:6]
        self.offers.set_bars(
            [
                Bar(
                    o.name,
                    o.reserved,
                    target=o.capacity,
                    colour=slot_colour.get(severities[o.code]) if o.code in severities else None,
                    text=_("{left} left").format(left=o.remaining),
                )
                for o in closest
            ],
            _("No services yet."),
        )
        self._show_timelines(board)
        self._show_disk()

    def _show_points(self, board: Dashboard) -> None:
        """The ratios each with what it divides by, so nobody holds the invitees' ratio
        against the bank's figure; then what expires, who woke up, and the tiers."""
        f = board.figures
        p, total = f.points, f.total
        shown = self.points_values
        stock = self.stock
        shown["bank_ratio"].setText(
            _("{ratio} of {stock}").format(
                ratio=_ratio(self._customers_ratio(board)), stock=f"{stock.customers_stock:,}"
            )
            if stock
            else "–"
        )
        shown["bank_stock_ratio"].setText(
            _("{ratio} of {stock}").format(ratio=_ratio(p.bank_ratio), stock=f"{p.bank_stock:,}")
            if p.bank_stock
            else _("stock not given")
        )
        shown["invitee_ratio"].setText(
            _("{ratio} of {stock}").format(
                ratio=_ratio(p.invitee_ratio), stock=f"{p.invitee_stock:,}"
            )
        )
        shown["expiring"].setText(
            _("{points} points, {n} customers, until {day}").format(
                points=f"{stock.expiring_points:,}",
                n=f"{stock.expiring_customers:,}",
                day=(stock.expiring_before - timedelta(days=1)).isoformat(),
            )
            if stock
            else "–"
        )
        shown["reactivated"].setText(
            _("{n} of {dormant} who came").format(
                n=f"{total.dormant_reactivated:,}", dormant=f"{total.dormant_arrived:,}"
            )
        )
        self.tiers.set_bars(
            [
                Bar(t.name, t.points, text=f"{t.points:,} · {_percent(t.points, p.redeemed)}")
                for t in p.tiers
            ],
            _("No points redeemed yet."),
        )

    def _customers_ratio(self, board: Dashboard) -> float | None:
        """Redeemed now of every customer's points as last read (they move slowly)."""
        stock = self.stock.customers_stock if self.stock else None
        return ratio_of(board.figures.total.points_redeemed, stock)

    def _low_space(self) -> list[StationSpace]:
        """The stations below this laptop's free-space warning limit."""
        limit = self.settings.low_space_mb
        return [s for s in self.spaces if limit and s.megabytes < limit]

    def _show_disk(self) -> None:
        tile = self.tiles["disk"]
        if not self.spaces:
            tile.value.setText("–")
            tile.detail.setText(_("No station has reported yet."))
            tile.setToolTip("")
            tile.set_tone(None)
            return
        lowest = self.spaces[0]  # least free first
        tile.value.setText(_size(lowest.free_bytes))
        tile.detail.setText(
            " · ".join(f"{s.host} {_size(s.free_bytes)}" for s in self.spaces[:4])
            + (" …" if len(self.spaces) > 4 else "")
        )
        tile.setToolTip(
            "\n".join(
                _("{host} ({station}, {staff}): {size} free on {place}").format(
                    host=s.host,
                    station=s.station or "–",
                    staff=s.staff_no,
                    size=_size(s.free_bytes),
                    place=s.place,
                )
                for s in self.spaces
            )
        )
        low = self._low_space()
        tile.set_tone(
            (Severity.ERROR if lowest.free_bytes < 50 * 1024 * 1024 else Severity.WARN)
            if low
            else None
        )

    def _disk_alerts(self) -> list[str]:
        return [
            _("{host} ({staff}): only {size} disk space left on {place}").format(
                host=s.host, staff=s.staff_no, size=_size(s.free_bytes), place=s.place
            )
            for s in self._low_space()
        ]

    def _show_alerts(self, board: Dashboard) -> None:
        disk = self._disk_alerts()
        if disk:
            lines = ["⚠ " + line for line in disk]
            lines += [
                ("⚠ " if a.severity == Severity.WARN else "⊘ ") + a.message for a in board.alerts
            ]
            headline = _("{n} alerts").format(n=len(lines)) if len(lines) > 1 else lines[0]
            self.alerts.show_result(
                Tone.WARN if board.worst != Severity.ERROR else Tone.ERROR,
                headline,
                "\n".join(lines[:6]) if len(lines) > 1 else "",
            )
            return
        if not board.alerts:
            limits = board.thresholds
            self.alerts.show_result(
                Tone.OK,
                _(
                    "No alerts (limits: waits from {wait} min, slots from {crowding}% of "
                    "capacity, services with {left}% left)."
                ).format(
                    wait=limits.queue_wait_minutes,
                    crowding=limits.slot_crowding_percent,
                    left=limits.offer_left_percent,
                ),
            )
            return
        tone = Tone.ERROR if board.worst == Severity.ERROR else Tone.WARN
        headline = _("{n} alerts").format(n=len(board.alerts)) if len(board.alerts) > 1 else ""
        lines = [("⚠ " if a.severity == Severity.WARN else "⊘ ") + a.message for a in board.alerts]
        if not headline:
            headline, lines = lines[0], []
        self.alerts.show_result(tone, headline, "\n".join(lines[:6]))

    def _show_timelines(self, board: Dashboard) -> None:
        grid = self.timeline_grid
        slots = [(s.code, s.label) for s in board.figures.slots] + [(ALL_SLOTS, _("All"))]
        if not self.timeline_cells:
            for column, (_code, label) in enumerate(slots, start=1):
                header = QLabel(label)
                header.setProperty("role", "hint")
                grid.addWidget(header, 0, column, Qt.AlignmentFlag.AlignRight)
            for row, interval in enumerate(Interval, start=1):
                grid.addWidget(QLabel(interval_label(interval)), row, 0)
                for column, (code, _label) in enumerate(slots, start=1):
                    cell = QLabel("–")
                    cell.setObjectName(f"timeline_{interval.value}_{code or 'all'}")
                    cell.setAlignment(Qt.AlignmentFlag.AlignRight)
                    grid.addWidget(cell, row, column)
                    self.timeline_cells[(interval, code)] = cell
        found = {(t.interval, t.slot): t for t in self.timelines}
        for key, cell in self.timeline_cells.items():
            t = found.get(key)
            if t is None or not t.count:
                cell.setText("–")
                continue
            cell.setText(f"{_minutes(t.median_s)} / {_minutes(t.p90_s)}")
            cell.setToolTip(_("{n} visits").format(n=t.count))
