"""我的客户 (My customers): an RM's confirmed customers, to remind of their slot and tick.

The RM sends each reminder from their own phone (their contacts hold the full numbers, so
phones stay masked here): they select a customer, read or copy the whole SMS text, paste it,
and tick the customers they reminded, today, by SMS, phone or WeChat
(``kiosk.services.reminding``: the same tick twice is once). A supervisor sees everyone's,
or one RM's. By default only the customers not reminded yet are listed, so the list empties
as the RM works through it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import _
from kiosk.models import ContactChannel, Role
from kiosk.roles import Station
from kiosk.services import reminding
from ui.context import StationContext
from ui.operations import run
from ui.stations.base import StationPage
from ui.theme import fit_rows, is_large_print
from ui.widgets import ResultBanner, Tone

RM_COLUMN = 0  # shown to a supervisor only
# The columns in the order they give way when the list is narrow (large print): the name,
# phone, slot and whether reminded always; the SMS's title names the customer number.
COLUMN_ORDER = (2, 3, 6, 4, RM_COLUMN, 5, 1)


def fit_choices(box: QComboBox) -> None:
    """A choice box as wide as its longest choice, arrow and padding included."""
    box.ensurePolished()
    metrics = box.fontMetrics()
    widest = max(
        (metrics.horizontalAdvance(box.itemText(i)) for i in range(box.count())), default=0
    )
    box.setMinimumWidth(widest + 56)


class MyCustomersStation(StationPage):
    station = Station.MY_CUSTOMERS
    # A reminder ticked here or at another laptop, or a send report imported.
    shows = frozenset({"customers", "setup"})

    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.supervisor = Role.SUPERVISOR in context.staff.roles
        self.listed: reminding.MyCustomers | None = None
        self.shown: list[reminding.MyCustomer] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 14, 24, 14)
        layout.setSpacing(8)
        title = QLabel(self.title())
        title.setProperty("role", "title")
        # Large print: the switcher names the station; its room goes to the list's rows.
        title.setVisible(not is_large_print())
        layout.addWidget(title)
        hint = QLabel(
            _(
                "Your confirmed customers, to remind of their slot. Select a customer, copy "
                "the SMS and send it from your phone, then mark them as reminded."
            )
        )
        hint.setProperty("role", "hint")
        hint.setWordWrap(True)
        hint.setVisible(not is_large_print())  # large print: the room goes to the list
        layout.addWidget(hint)
        self.banner = ResultBanner()
        layout.addWidget(self.banner)

        filters = QHBoxLayout()
        self.rm = QComboBox()
        self.rm.setObjectName("my_customers_rm")
        self.rm.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.rm.setVisible(self.supervisor)
        self.rm.currentIndexChanged.connect(lambda _index: self.load())
        if self.supervisor:
            rm_label = QLabel(_("RM"))
            filters.addWidget(rm_label)
        filters.addWidget(self.rm)
        self.only_new = QCheckBox(_("Only not reminded yet"))
        self.only_new.setObjectName("only_not_reminded")
        self.only_new.setChecked(True)
        self.only_new.toggled.connect(lambda _on: self.show_rows())
        filters.addWidget(self.only_new)
        # Right of the filters, on two lines when large print in English leaves no room.
        self.count = QLabel("")
        self.count.setObjectName("reminded_count")
        self.count.setProperty("role", "subtitle")
        self.count.setWordWrap(True)
        self.count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        filters.addWidget(self.count, 1)
        layout.addLayout(filters)

        self.table = QTableWidget(0, 7)
        self.table.setObjectName("my_customers")
        self.table.setHorizontalHeaderLabels(
            [
                _("RM"),
                _("Customer no."),
                _("Name"),
                _("Mobile phone"),
                _("Slot"),
                _("Arrival window"),
                _("Last reminded"),
            ]
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        fit_rows(self.table)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnHidden(RM_COLUMN, not self.supervisor)
        # The columns that fit the list's width (``_fit_columns``), as the viewport says it.
        self.table.viewport().installEventFilter(self)
        self.table.itemSelectionChanged.connect(self.show_text)
        layout.addWidget(self.table, 1)

        card = QFrame()
        card.setObjectName("card")
        box = QVBoxLayout(card)
        box.setContentsMargins(12, 8, 12, 8)
        heading = QHBoxLayout()
        self.sms_title = QLabel(_("SMS text"))
        self.sms_title.setProperty("role", "subtitle")
        self.sms_title.setWordWrap(True)
        heading.addWidget(self.sms_title, 1)
        self.copy_button = QPushButton(_("Copy the SMS"))
        self.copy_button.setObjectName("copy_sms")
        self.copy_button.clicked.connect(self.copy_text)
        heading.addWidget(self.copy_button)
        box.addLayout(heading)
        self.sms = QLabel("")
        self.sms.setObjectName("sms_text")
        self.sms.setWordWrap(True)
        self.sms.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        box.addWidget(self.sms)
        layout.addWidget(card)

        marks = QHBoxLayout()
        marks.addWidget(QLabel(_("Reminded by")))
        self.channel = QComboBox()
        self.channel.setObjectName("my_reminder_channel")
        for channel, label in (
            (ContactChannel.SMS, _("SMS")),
            (ContactChannel.PHONE, _("Phone call")),
            (ContactChannel.WECHAT, _("WeChat")),
        ):
            self.channel.addItem(label, str(channel))
        fit_choices(self.channel)
        marks.addWidget(self.channel)
        self.mark_button = QPushButton(_("Mark as reminded today"))
        self.mark_button.setObjectName("mark_my_reminded")
        self.mark_button.setProperty("role", "primary")
        self.mark_button.clicked.connect(self.mark)
        marks.addWidget(self.mark_button)
        # Said here rather than in the banner, which would take the list's room.
        self.copied = QLabel("")
        self.copied.setObjectName("sms_copied")
        self.copied.setProperty("role", "hint")
        self.copied.setWordWrap(True)
        marks.addWidget(self.copied, 1)
        layout.addLayout(marks)
        self.show_text()

    # -- reading ---------------------------------------------------------------------------

    def load(self) -> None:
        rm_no = (self.rm.currentData() or "") if self.supervisor else ""
        self.listed = reminding.my_customers(self.context.uow(), self.context.staff, rm_no)
        if self.supervisor and self.rm.count() == 0:
            self.rm.blockSignals(True)
            self.rm.addItem(_("All RMs"), "")
            for number, name in self.listed.rms:
                self.rm.addItem(f"{number} {name}", number)
            fit_choices(self.rm)
            self.rm.blockSignals(False)
        self.show_rows()

    def refresh_live(self) -> None:
        self.load()

    def selected_numbers(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.shown[r].reminder.customer_no for r in rows if r < len(self.shown)]

    def show_rows(self) -> None:
        """The list as loaded, filtered, the selection kept where the customers still are."""
        if self.listed is None:
            return
        keep = set(self.selected_numbers())
        customers = self.listed.customers
        self.shown = [c for c in customers if not (self.only_new.isChecked() and c.last_reminded)]
        self.table.blockSignals(True)
        self.table.clearSelection()
        self.table.setRowCount(len(self.shown))
        for r, customer in enumerate(self.shown):
            reminder = customer.reminder
            values = [
                f"{reminder.rm_no} {reminder.rm_name}".strip(),
                reminder.customer_no,
                reminder.masked_name,
                reminder.masked_phone,
                reminder.slot,
                reminder.window or _("not planned"),
                customer.last_reminded.isoformat() if customer.last_reminded else _("not reminded"),
            ]
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c == 1 and reminder.credited_no:
                    item.setToolTip(_("Confirmed through {rm}").format(rm=reminder.credited_no))
                self.table.setItem(r, c, item)
        self.table.blockSignals(False)
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for r, customer in enumerate(self.shown):
            if customer.reminder.customer_no in keep:
                self.table.selectRow(r)
        self.table.setSelectionMode(mode)
        self._fit_columns()
        self.count.setText(
            _("Reminded {n} / {m} confirmed customers").format(
                n=self.listed.reminded, m=len(customers)
            )
        )
        self.show_text()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        return super().eventFilter(watched, event)

    def _fit_columns(self) -> None:
        """As many columns as the list's width shows without scrolling sideways, in the
        order of ``COLUMN_ORDER``; the RM's column only for a supervisor."""
        header = self.table.horizontalHeader()
        room = self.table.viewport().width() - 2  # rounding
        bold = header.font()
        bold.setBold(True)  # the theme's column titles
        titles = QFontMetrics(bold)
        used = 0
        shown = set()
        for index, column in enumerate(COLUMN_ORDER):
            if column == RM_COLUMN and not self.supervisor:
                continue
            title = str(self.table.horizontalHeaderItem(column).text())
            width = max(self.table.sizeHintForColumn(column), titles.horizontalAdvance(title) + 16)
            if index < 2 or used + width <= room:
                shown.add(column)
                used += width
        for column in range(self.table.columnCount()):
            self.table.setColumnHidden(column, column not in shown)

    def current(self) -> reminding.MyCustomer | None:
        """The customer whose SMS is shown: the current row when selected, else the first
        selected one."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        if not rows:
            return None
        row = self.table.currentRow()
        row = row if row in rows else rows[0]
        return self.shown[row] if row < len(self.shown) else None

    def show_text(self) -> None:
        chosen = self.current()
        self.copied.setText("")
        selected = len(self.selected_numbers())
        self.copy_button.setEnabled(chosen is not None)
        self.mark_button.setEnabled(selected > 0)
        if chosen is None:
            self.sms_title.setText(_("SMS text"))
            self.sms.setText(_("Select a customer to see the SMS to send."))
            return
        reminder = chosen.reminder
        self.sms_title.setText(
            _("SMS to {name} ({no})").format(name=reminder.masked_name, no=reminder.customer_no)
            + (" · " + _("{n} selected").format(n=selected) if selected > 1 else "")
        )
        self.sms.setText(reminder.text)

    # -- acting ----------------------------------------------------------------------------

    def copy_text(self) -> None:
        chosen = self.current()
        if chosen is None:
            return
        QApplication.clipboard().setText(chosen.reminder.text)
        self.copied.setText(_("Copied: paste it on your phone."))

    def mark(self) -> None:
        chosen = self.selected_numbers()
        if not chosen:
            self.banner.show_result(Tone.INFO, _("Choose the customers you reminded first."))
            return
        channel = self.channel.currentData()  # read here: the call runs off the GUI thread
        run(
            self,
            lambda: reminding.mark_reminded(
                self.context.uow(),
                self.context.staff,
                chosen,
                channel=channel,
                clock=self.context.app.clock,
                station=Station.MY_CUSTOMERS,
            ),
            success=lambda marked: marked.summary(),
        )
