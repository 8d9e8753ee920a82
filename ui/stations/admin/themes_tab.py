"""Administration -> Themes (专场): a themed session of the event or of one slot.

The coordinator picks the theme's services (categories, merchants, offers ticked in lists)
and its audience rule (points, affordable, tiers, dormant, employers, products), saves it,
counts the candidates per branch and RM, and then invites them: the Invite button carries the
number counted, and the service refuses if the customer list changed since (count again).
Read when the tab is opened, so another laptop's change shows.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from PySide6.QtCore import QModelIndex, QSize, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.labels import category_label
from kiosk.services import themes
from kiosk.services.themes import Audience, ThemeSpec, ThemeView
from ui.context import StationContext
from ui.stations.admin.common import (
    SCROLLS_ITSELF,
    fill_table,
    keep_rows,
    make_table,
    scroll_when_tall,
)
from ui.theme import HINT, LARGE_TARGET_PX, is_large_print
from ui.widgets import ResultBanner, Tone

NEW = ""  # the theme picker's "new theme" entry


# The tick drawn in a large-print list's box: dark on white, as the header's switch has it.
_TICK = Path(str(resources.files("assets") / "icons" / "tick.png")).as_posix()
# A ticked row's box in large print: as big as a check box's there (ui/theme.py gives
# ``QCheckBox::indicator`` 36 px of a 60-px target), not the style's 14 px in a 60-px row.
# Drawn by the style sheet, border and tick, so it is this size on every platform's style.
# The theme's 8 px at each side of a row move to the list, as on the visit timeline: Qt
# wraps a long name to the row's width less the box but adds the row's padding after, so
# "广州白云国际机场股份有限公司" made its list scroll sideways by 8 px.
LARGE_TICK_PX = LARGE_TARGET_PX - 24
_LARGE_TICKS = f"""
QListView {{ padding: 0px 8px; }}
QListView::item {{ padding: 0px; }}
QListView::indicator {{ width: {LARGE_TICK_PX}px; height: {LARGE_TICK_PX}px;
    background: white; border: 2px solid {HINT}; border-radius: 4px; }}
QListView::indicator:checked {{ image: url("{_TICK}"); }}
"""


def _checklist(name: str) -> QListWidget:
    box = QListWidget()
    box.setObjectName(name)
    box.setMinimumWidth(150)
    # A long merchant or employer name wraps in its column instead of scrolling sideways.
    box.setWordWrap(True)
    box.setResizeMode(QListWidget.ResizeMode.Adjust)
    if is_large_print():  # the only lists in the app whose rows are ticked
        box.setStyleSheet(_LARGE_TICKS)
        box.setItemDelegate(_BesideTheBox(box))
    return box


class _BesideTheBox(QStyledItemDelegate):
    """A row as tall as its name wrapped beside the large-print box. Qt wraps a row's text
    for its height beside the style's own 14-px box (it asks the style for the box's width
    without naming the list, so the list's style sheet is not seen) but draws it beside the
    36-px one: "广州地铁集团有限公司" was measured as one line and drawn cut, "广州地铁集团有限…".
    The row is measured as much narrower as the drawn box is wider."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        view = self.parent()
        assert isinstance(view, QListWidget)
        style = view.style()
        full = QStyleOptionViewItem(option)
        self.initStyleOption(full, index)
        check = QStyle.SubElement.SE_ItemViewItemCheckIndicator
        drawn = style.subElementRect(check, full, view).width()
        measured = style.pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth, full, None)
        narrower = QStyleOptionViewItem(option)
        narrower.rect = option.rect.adjusted(0, 0, -max(drawn - measured, 0), 0)
        return super().sizeHint(narrower, index)


def _fill(box: QListWidget, items: list[tuple[str, str]], ticked: tuple[str, ...]) -> None:
    """Items (value, text), ticked when their value is in ``ticked`` (values kept as data)."""
    box.clear()
    chosen = set(ticked)
    for value, text in items:
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, value)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if value in chosen else Qt.CheckState.Unchecked)
        box.addItem(item)
    keep_rows(box)  # three ticks in sight (a fixed 22 px a row showed one of 60 in large print)


def _lists(hint: str, lists: list[tuple[str, QListWidget]]) -> QWidget:
    """Checklists side by side under their names (and a hint), taking the height there is."""
    page = QWidget()
    grid = QGridLayout(page)
    first = 0
    if hint:
        words = QLabel(hint)
        words.setWordWrap(True)
        words.setProperty("role", "hint")
        grid.addWidget(words, 0, 0, 1, len(lists))
        first = 1
    for n, (label, box) in enumerate(lists):
        grid.addWidget(QLabel(label), first, n)
        grid.addWidget(box, first + 1, n)
    grid.setRowStretch(first + 1, 1)
    return page


def _as_tall_as_shown(tabs: QTabWidget) -> None:
    """``tabs`` needs the height of the tab shown, not of its tallest tab: the pages not
    shown ask for no height. The page then scrolls only as far as the shown tab needs (in
    large print the candidates' tables were the tallest: the services scrolled for them)."""

    def shown(index: int) -> None:
        for page in range(tabs.count()):
            widget = tabs.widget(page)
            tall = QSizePolicy.Policy.Preferred if page == index else QSizePolicy.Policy.Ignored
            widget.setSizePolicy(widget.sizePolicy().horizontalPolicy(), tall)
        tabs.updateGeometry()

    tabs.currentChanged.connect(shown)
    shown(tabs.currentIndex())


def ticked(box: QListWidget) -> tuple[str, ...]:
    return tuple(
        str(box.item(i).data(Qt.ItemDataRole.UserRole))
        for i in range(box.count())
        if box.item(i).checkState() == Qt.CheckState.Checked
    )


def tick(box: QListWidget, *values: str) -> None:
    """Tick the items with these values (tests and the picker)."""
    for i in range(box.count()):
        if box.item(i).data(Qt.ItemDataRole.UserRole) in values:
            box.item(i).setCheckState(Qt.CheckState.Checked)


class ThemesPanel(QWidget):
    """The theme's form and its candidates, in one scroll area with the result below it.

    The form is two tabs, the services and the audience rule, whose lists take the room
    left and scroll themselves: in normal print the form and the candidates sit side by
    side and fit a 1366×768 laptop without scrolling; in large print the candidates are a
    third tab and the page scrolls as a whole where it must. Never a scroll area inside
    another (the form scrolled in one of its own inside the scrolling tab: two bars, and
    the wheel turned the one under the pointer). The banner stays below the scroll area,
    in sight whichever part was scrolled to."""

    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.views: list[ThemeView] = []
        self.counted: Audience | None = None
        large = is_large_print()
        body = QWidget()
        body.setObjectName("themes_body")
        layout = QVBoxLayout(body)
        intro = QLabel(
            _(
                "A themed session (专场) offers part of the catalog to an audience chosen from "
                "the customer list. Its customers see only its services, on the booklet, the "
                "short list and at the desk. Save the theme, count the candidates, then invite."
            )
        )
        intro.setWordWrap(True)
        intro.setProperty("role", "hint")
        layout.addWidget(intro)

        top = QHBoxLayout()
        top.addWidget(QLabel(_("Theme")))
        self.picker = QComboBox()
        self.picker.setMinimumWidth(180)
        self.picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.picker.currentIndexChanged.connect(self._picked)
        top.addWidget(self.picker)
        if large:  # the code and the name on a line of their own, the name wide
            self.slot = QComboBox()
            top.addWidget(QLabel(_("Slot")))
            top.addWidget(self.slot)
            top.addStretch(1)
            layout.addLayout(top)
            top = QHBoxLayout()
        top.addWidget(QLabel(_("Code")))
        self.code = QLineEdit()
        self.code.setMaxLength(16)
        self.code.setMaximumWidth(110)
        top.addWidget(self.code)
        top.addWidget(QLabel(_("Theme name")))
        self.name = QLineEdit()
        self.name.setMaxLength(64)
        top.addWidget(self.name, 1)
        if not large:
            top.addWidget(QLabel(_("Slot")))
            self.slot = QComboBox()
            top.addWidget(self.slot)
        self.save_button = QPushButton(_("Save theme"))
        self.save_button.setProperty("role", "primary")
        self.save_button.clicked.connect(self.save)
        self.remove_button = QPushButton(_("Remove theme"))
        self.remove_button.clicked.connect(self.remove)
        # Large print: beside the theme's name, in sight whichever tab is open.
        buttons = top if large else QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.remove_button)
        if not large:
            buttons.addStretch(1)
        layout.addLayout(top)

        self.categories = _checklist("theme_categories")
        self.merchants = _checklist("theme_merchants")
        self.offers = _checklist("theme_offers")
        services = _lists(
            _("None ticked: the theme offers the whole catalog."),
            [
                (_("Categories"), self.categories),
                (_("Merchants"), self.merchants),
                (_("Services"), self.offers),
            ],
        )
        rule = QWidget()
        column = QVBoxLayout(rule)
        fields = QFormLayout()
        points = QHBoxLayout()
        self.points_min = QLineEdit()
        self.points_min.setPlaceholderText(_("no limit"))
        self.points_max = QLineEdit()
        self.points_max.setPlaceholderText(_("no limit"))
        points.addWidget(self.points_min)
        points.addWidget(QLabel(_("to")))
        points.addWidget(self.points_max)
        fields.addRow(_("Points on the event day"), points)
        self.affordable = QCheckBox(_("Only customers whose points buy one of its services"))
        fields.addRow(self.affordable)
        self.dormant = QComboBox()
        self.dormant.addItem(_("Either"), None)
        self.dormant.addItem(_("Dormant customers only"), True)
        self.dormant.addItem(_("Not dormant"), False)
        fields.addRow(_("Dormant"), self.dormant)
        column.addLayout(fields)
        self.tiers = _checklist("theme_tiers")
        self.employers = _checklist("theme_employers")
        self.products = _checklist("theme_products")
        column.addWidget(
            _lists(
                "",
                [
                    (_("Tiers"), self.tiers),
                    (_("Payroll employers"), self.employers),
                    (_("Products held (any)"), self.products),
                ],
            ),
            1,
        )
        # The form as tabs: each fits where the two stacked needed a scroll area of their own.
        form = QTabWidget()
        form.setObjectName("theme_tabs")
        form.addTab(services, _("Services offered"))
        form.addTab(rule, _("Audience rule"))

        right = QWidget()
        side = QVBoxLayout(right)
        side.setContentsMargins(0, 0, 0, 0)
        # In large print each pair on one line: the candidates' tab, the tallest, as low as
        # it can be (on a 1920×1080 screen it fits until its tables hold their rows).
        count_row = QHBoxLayout()
        self.count_button = QPushButton(_("Count candidates"))
        self.count_button.clicked.connect(self.count)
        count_row.addWidget(self.count_button)
        self.totals = QLabel("")
        self.totals.setWordWrap(True)
        if large:
            count_row.addWidget(self.totals, 1)
        else:
            count_row.addStretch(1)
        side.addLayout(count_row)
        if not large:
            side.addWidget(self.totals)
        figures = [_("Candidates"), _("Already invited"), _("To invite")]
        self.branch_table = make_table([_("Branch"), _("Branch name"), *figures])
        self.rm_table = make_table([_("RM staff no."), _("RM"), _("Branch"), *figures])
        tables = QSplitter(Qt.Orientation.Vertical)
        tables.addWidget(self.branch_table)
        tables.addWidget(self.rm_table)
        side.addWidget(tables, 1)
        invite_row = QHBoxLayout()
        invite_row.addWidget(QLabel(_("Invitations for")))
        self.invite_slot = QComboBox()
        invite_row.addWidget(self.invite_slot, 0 if large else 1)
        self.invite_button = QPushButton(_("Invite"))
        self.invite_button.setProperty("role", "primary")
        self.invite_button.setEnabled(False)
        self.invite_button.clicked.connect(self.invite)
        if large:
            invite_row.addWidget(self.invite_button)
            invite_row.addStretch(1)
            side.addLayout(invite_row)
        else:
            side.addLayout(invite_row)
            side.addWidget(self.invite_button)
        if large:
            # Side by side the form's lists scroll sideways at 1,014 px: the candidates are a
            # third tab, each tab as wide as the page.
            form.addTab(right, _("Candidates"))
            layout.addWidget(form, 1)
        else:
            right.setMinimumWidth(460)
            left = QWidget()
            left_column = QVBoxLayout(left)
            left_column.setContentsMargins(0, 0, 0, 0)
            left_column.addWidget(form, 1)
            left_column.addLayout(buttons)
            split = QSplitter(Qt.Orientation.Horizontal)
            split.addWidget(left)
            split.addWidget(right)
            split.setChildrenCollapsible(False)
            split.setStretchFactor(0, 3)
            split.setStretchFactor(1, 2)
            layout.addWidget(split, 1)
        _as_tall_as_shown(form)
        # The one scroll area; the banner under it, never scrolled away.
        scroll_when_tall(body)
        self.setProperty(SCROLLS_ITSELF, True)
        self.banner = ResultBanner()
        outer = QVBoxLayout(self)
        margins = layout.contentsMargins()
        outer.setContentsMargins(margins.left(), 0, margins.right(), margins.bottom())
        layout.setContentsMargins(0, margins.top(), 0, 0)
        outer.addWidget(body, 1)
        outer.addWidget(self.banner)

    # -- reading -----------------------------------------------------------------------------

    def refresh(self, keep: str | None = None) -> None:
        """The lists and the event's themes read again; ``keep``: the theme to show."""
        try:
            self.choices = themes.choices(self.context.uow())
            self.views = themes.themes(self.context.uow())
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, str(error))
            return
        current = keep if keep is not None else self.picker.currentData()
        self.picker.blockSignals(True)
        self.picker.clear()
        self.picker.addItem(_("New theme…"), NEW)
        for view in self.views:
            self.picker.addItem(f"{view.spec.code} {view.spec.name}", view.spec.code)
        index = self.picker.findData(current) if current else 0
        self.picker.setCurrentIndex(max(index, 0))
        self.picker.blockSignals(False)
        # Wide enough for its longest theme in the font it is drawn in (large print).
        metrics = self.picker.fontMetrics()
        widest = max(
            metrics.horizontalAdvance(self.picker.itemText(i)) for i in range(self.picker.count())
        )
        self.picker.setMinimumWidth(max(180, widest + 64))
        for box in (self.slot, self.invite_slot):
            box.clear()
        self.slot.addItem(_("The whole event"), None)
        for code, label in self.choices.slots:
            self.slot.addItem(f"{label} ({code})", code)
            self.invite_slot.addItem(f"{label} ({code})", code)
        self._picked()

    def _view(self) -> ThemeView | None:
        code = self.picker.currentData()
        return next((v for v in self.views if v.spec.code == code), None)

    def _picked(self) -> None:
        view = self._view()
        spec = view.spec if view else ThemeSpec(code="", name="")
        self.code.setText(spec.code)
        self.code.setReadOnly(view is not None)
        self.name.setText(spec.name)
        self.slot.setCurrentIndex(max(self.slot.findData(spec.slot), 0))
        c = self.choices
        _fill(self.categories, [(k, category_label(k)) for k in c.categories], spec.categories)
        _fill(self.merchants, [(k, f"{k} {n}") for k, n in c.merchants], spec.merchants)
        _fill(self.offers, [(k, f"{k} {n}") for k, n, _m in c.offers], spec.offers)
        _fill(self.tiers, [(k, n) for k, n in c.tiers], spec.tiers)
        employers = list(dict.fromkeys([*c.employers, *spec.employers]))
        _fill(self.employers, [(e, e) for e in employers], spec.employers)
        products = list(dict.fromkeys([*c.products, *spec.products]))
        _fill(self.products, [(p, p) for p in products], spec.products)
        self.points_min.setText("" if spec.points_min is None else str(spec.points_min))
        self.points_max.setText("" if spec.points_max is None else str(spec.points_max))
        self.affordable.setChecked(spec.affordable)
        self.dormant.setCurrentIndex(max(self.dormant.findData(spec.dormant), 0))
        self.remove_button.setEnabled(view is not None)
        self.count_button.setEnabled(view is not None)
        self._counted(None)

    # -- acting ------------------------------------------------------------------------------

    def _points(self, field: QLineEdit) -> int | None:
        text = field.text().strip().replace(",", "").replace("，", "")
        if not text:
            return None
        if not text.isdigit():
            raise KioskError(_("“{text}” is not a whole number of points.").format(text=text))
        return int(text)

    def spec(self) -> ThemeSpec:
        return ThemeSpec(
            code=self.code.text(),
            name=self.name.text(),
            slot=self.slot.currentData(),
            categories=ticked(self.categories),
            merchants=ticked(self.merchants),
            offers=ticked(self.offers),
            points_min=self._points(self.points_min),
            points_max=self._points(self.points_max),
            affordable=self.affordable.isChecked(),
            tiers=ticked(self.tiers),
            dormant=self.dormant.currentData(),
            employers=ticked(self.employers),
            products=ticked(self.products),
        )

    def save(self) -> None:
        try:
            view = themes.set_theme(
                self.context.uow(),
                self.spec(),
                self.context.staff,
                station="admin",
                clock=self.context.app.clock,
            )
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, _("Not saved"), str(error))
            return
        self.refresh(keep=view.spec.code)
        self.banner.show_result(
            Tone.OK,
            _("Theme {code} saved: {n} services.").format(
                code=view.spec.code, n=len(view.offer_codes)
            ),
            _(
                "From now on the {bound:,} customers invited to {slot} can take only these"
                " services (the activation desk names the session). Count the candidates"
                " before inviting more."
            ).format(bound=view.bound, slot=view.slot_label or _("the event")),
        )

    def remove(self) -> None:
        view = self._view()
        if view is None:
            return
        try:
            themes.remove_theme(
                self.context.uow(),
                view.spec.code,
                self.context.staff,
                station="admin",
                clock=self.context.app.clock,
            )
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, _("Not removed"), str(error))
            return
        self.refresh(keep=NEW)
        self.banner.show_result(Tone.OK, _("Theme {code} removed.").format(code=view.spec.code))

    def count(self) -> None:
        view = self._view()
        if view is None:
            return
        try:
            audience = themes.audience(self.context.uow(), view.spec.code)
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, str(error))
            return
        self._counted(audience)
        if audience.nobody():
            self.banner.show_result(Tone.WARN, audience.nobody())
        else:
            self.banner.clear()

    def _counted(self, audience: Audience | None) -> None:
        """The counts on screen, and the Invite button for exactly that many."""
        self.counted = audience
        view = self._view()
        if audience is None:
            fill_table(self.branch_table, [])
            fill_table(self.rm_table, [])
            self.totals.setText("")
            self.invite_button.setText(_("Invite"))
            self.invite_button.setEnabled(False)
        else:
            fill_table(
                self.branch_table,
                [
                    [r.code, r.name, f"{r.candidates:,}", f"{r.invited:,}", f"{r.new:,}"]
                    for r in audience.branches
                ],
            )
            fill_table(
                self.rm_table,
                [
                    [
                        r.code or _("(no RM)"),
                        r.name if r.code else "",
                        r.branch,
                        f"{r.candidates:,}",
                        f"{r.invited:,}",
                        f"{r.new:,}",
                    ]
                    for r in audience.rms
                ],
            )
            self.totals.setText(
                _(
                    "{candidates:,} candidates, {invited:,} already invited, {new:,} to invite."
                ).format(candidates=audience.candidates, invited=audience.invited, new=audience.new)
            )
            self.invite_button.setText(_("Invite {n:,} customers").format(n=audience.new))
            self.invite_button.setEnabled(audience.new > 0)
        slot = view.spec.slot if view else None
        self.invite_slot.setEnabled(view is not None and slot is None)
        if slot is not None:
            self.invite_slot.setCurrentIndex(max(self.invite_slot.findData(slot), 0))

    def invite(self) -> None:
        view, audience = self._view(), self.counted
        if view is None or audience is None:
            return
        try:
            done = themes.invite(
                self.context.uow(),
                view.spec.code,
                self.context.staff,
                slot=self.invite_slot.currentData() if view.spec.slot is None else None,
                expect=audience.new,
                station="admin",
                clock=self.context.app.clock,
            )
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, _("Nobody was invited"), str(error))
            return
        self.count()
        self.banner.show_result(
            Tone.OK,
            _("{created:,} invited to slot {slot}; {already:,} were invited already.").format(
                created=done.created, slot=done.slot, already=done.already
            ),
        )
