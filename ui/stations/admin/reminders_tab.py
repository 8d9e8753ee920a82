"""The Reminders tab: who to remind of their slot, masked phones on screen; an export carries
full numbers only when the supervisor types the event passphrase.

A mixin of ``AdminStation``: the tab's widgets are the station's attributes, as before the
split, so the station reads the same from outside.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from kiosk import privacy
from kiosk.errors import KioskError
from kiosk.i18n import _
from kiosk.models import ContactChannel
from kiosk.services import arrival, reminding, tracking
from printing.invitations import write_reminders
from ui.stations.admin.common import (
    fill_table,
    make_table,
    people_text,
)
from ui.theme import is_large_print
from ui.widgets import ResultBanner, Tone


class RemindersTab:
    """The Reminders tab: who to remind of their slot, masked phones on screen; an export carries"""

    # -- reminders --------------------------------------------------------------------------

    def _reminders_tab(self) -> QWidget:
        tab = self.reminders_tab = QWidget()
        layout = QVBoxLayout(tab)
        row = QHBoxLayout()
        hint = QLabel(
            _(
                "One text per confirmed customer for their RM to send. Phones are masked; "
                "type the event passphrase to export full numbers, and give each RM only "
                "theirs."
            )
        )
        hint.setWordWrap(True)
        hint.setProperty("role", "hint")
        if is_large_print():  # the text over the field and keys: the page is 1,014 px
            layout.addWidget(hint)
        else:
            row.addWidget(hint, 1)
        self.reminders_passphrase = QLineEdit()
        self.reminders_passphrase.setObjectName("reminders_passphrase")
        self.reminders_passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.reminders_passphrase.setPlaceholderText(_("Passphrase (full phones)"))
        self.reminders_passphrase.setMinimumWidth(  # the hint whole, padding and border too
            self.reminders_passphrase.fontMetrics().horizontalAdvance(
                self.reminders_passphrase.placeholderText()
            )
            + 32
        )
        row.addWidget(self.reminders_passphrase, 1 if is_large_print() else 0)
        self.reminders_refresh = QPushButton(_("Refresh"))
        self.reminders_refresh.clicked.connect(self.refresh_reminders)
        row.addWidget(self.reminders_refresh)
        self.reminders_xlsx = QPushButton(_("Export .xlsx…"))
        self.reminders_xlsx.setProperty("role", "primary")
        self.reminders_xlsx.clicked.connect(lambda: self.export_reminders(".xlsx"))
        row.addWidget(self.reminders_xlsx)
        self.reminders_txt = QPushButton(_("Export .txt…"))
        self.reminders_txt.clicked.connect(lambda: self.export_reminders(".txt"))
        row.addWidget(self.reminders_txt)
        layout.addLayout(row)
        self.reminders_banner = ResultBanner()
        layout.addWidget(self.reminders_banner)
        self.slot_title = QLabel(_("Confirmed customers per branch and slot"))
        self.slot_title.setProperty("role", "subtitle")
        self.slot_title.setWordWrap(True)
        layout.addWidget(self.slot_title)
        self.slot_table = make_table([])
        self.reminder_table = make_table(
            [
                _("RM"),
                _("Customer"),
                _("Mobile phone"),
                _("Slot"),
                _("Window"),
                _("Reminded"),
                _("Reminder text"),
            ]
        )
        self.reminder_table.horizontalHeader().setStretchLastSection(True)
        self.rm_reminder_table = make_table(
            [
                _("RM"),
                _("Confirmed"),
                _("Reminded"),
                _("% reminded"),
                _("Arrived with a window"),
                _("In their window"),
                _("% in their window"),
            ]
        )
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.slot_table)
        splitter.addWidget(self.reminder_table)
        splitter.addWidget(self.rm_reminder_table)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 1)
        layout.addWidget(splitter, 1)
        marks = QHBoxLayout()
        marks.addWidget(QLabel(_("Reminded by")))
        self.reminder_channel = QComboBox()
        self.reminder_channel.setObjectName("reminder_channel")
        for channel, label in (
            (ContactChannel.SMS, _("SMS")),
            (ContactChannel.PHONE, _("Phone call")),
            (ContactChannel.WECHAT, _("WeChat")),
        ):
            self.reminder_channel.addItem(label, str(channel))
        marks.addWidget(self.reminder_channel)
        self.mark_reminded_button = QPushButton(_("Mark the selected as reminded today"))
        self.mark_reminded_button.setObjectName("mark_reminded")
        self.mark_reminded_button.clicked.connect(self.mark_reminded)
        marks.addWidget(self.mark_reminded_button)
        hint2 = QLabel(
            _("RMs tick their own customers in the station My customers; SMS send reports: Import.")
        )
        hint2.setProperty("role", "hint")
        hint2.setWordWrap(True)
        if is_large_print():  # under the keys, the whole width
            marks.addStretch(1)
            layout.addLayout(marks)
            layout.addWidget(hint2)
        else:
            marks.addWidget(hint2, 1)
            layout.addLayout(marks)
        self.shown_reminders: list[tracking.Reminder] = []
        return tab

    def refresh_reminders(self) -> None:
        try:
            reminders = tracking.reminders(self.context.uow())
            load = tracking.slot_load(self.context.uow())
            sent = reminding.reminded(self.context.uow())
            figures = reminding.rm_reminder_figures(self.context.uow())
        except KioskError as error:
            self.reminders_banner.show_result(Tone.ERROR, _("No reminders yet"), str(error))
            return
        labels = [label for _code, label, _capacity in load.slots]
        self.slot_table.setColumnCount(2 + len(labels))
        self.slot_table.setHorizontalHeaderLabels([_("Branch"), _("Branch name"), *labels])
        codes = [code for code, _label, _capacity in load.slots]
        rows = [
            [b.branch, b.branch_name, *[people_text(b.per_slot, b.people, c) for c in codes]]
            for b in load.branches
        ]
        rows.append(
            [
                _("Total"),
                "",
                *[
                    _("{n} of {capacity}").format(
                        n=people_text({c: load.total(c)}, {c: load.total_people(c)}, c),
                        capacity=capacity,
                    )
                    for c, _label, capacity in load.slots
                ],
            ]
        )
        fill_table(self.slot_table, rows)
        self.shown_reminders = reminders
        fill_table(
            self.reminder_table,
            [
                [
                    f"{r.rm_no} {r.rm_name}",
                    r.masked_name,
                    r.masked_phone,
                    r.slot,
                    r.window or _("no window yet"),
                    sent[r.customer_no].isoformat() if r.customer_no in sent else _("not yet"),
                    r.text,
                ]
                for r in reminders
            ],
        )
        for r, reminder in enumerate(reminders):
            self.reminder_table.item(r, 6).setToolTip(reminder.text)
        fill_table(
            self.rm_reminder_table,
            [
                [
                    f"{f.rm_no} {f.rm_name}"
                    if f.rm_no
                    else (_("Total") if f is figures.total else _("(no RM)")),
                    str(f.confirmed),
                    str(f.reminded),
                    reminding.percent_text(f.reminded_share),
                    str(f.with_window),
                    str(f.in_window),
                    reminding.percent_text(f.in_window_share),
                ]
                for f in [*figures.rms, figures.total]
            ],
        )
        self.slot_title.setText(
            _(
                "{n} reminders. Confirmed customers per branch and slot (people with companions):"
            ).format(n=len(reminders))
        )
        self.reminders_banner.clear()

    def export_reminders(self, suffix: str) -> None:
        filters = {".xlsx": _("Excel (*.xlsx)"), ".txt": _("Text (*.txt)")}
        path = self.chooser.save_file(
            self, _("Export the reminders"), f"reminders{suffix}", filters[suffix]
        )
        if path is None:
            return
        passphrase = self.reminders_passphrase.text()
        self.reminders_passphrase.clear()  # typed for one export, never kept
        try:
            opener = privacy.unlock(self.context.uow(), passphrase) if passphrase else None
            reminders = tracking.reminders(self.context.uow(), opener)
            write_reminders(
                reminders,
                tracking.slot_load(self.context.uow()),
                path,
                reminding.rm_reminder_figures(self.context.uow()),
                arrival.arrival_plan(self.context.uow()),
            )
        except (KioskError, OSError) as error:
            self.reminders_banner.show_result(Tone.ERROR, _("Not exported"), str(error))
            return
        self.reminders_banner.show_result(
            Tone.OK,
            _("{n} reminders written to {path}.").format(n=len(reminders), path=path),
            _("With full phone numbers: keep the file safe.") if opener else _("Phones masked."),
        )

    def mark_reminded(self) -> None:
        """Record the selected customers as reminded today by the signed-in member of staff."""
        rows = sorted({index.row() for index in self.reminder_table.selectedIndexes()})
        chosen = [
            self.shown_reminders[r].customer_no for r in rows if r < len(self.shown_reminders)
        ]
        if not chosen:
            self.reminders_banner.show_result(
                Tone.INFO, _("Choose the customers you reminded first.")
            )
            return
        try:
            marked = reminding.mark_reminded(
                self.context.uow(),
                self.context.staff,
                chosen,
                channel=self.reminder_channel.currentData(),
                clock=self.context.app.clock,
                station="admin",
            )
        except KioskError as error:
            self.reminders_banner.show_result(Tone.ERROR, _("Not recorded"), str(error))
            return
        self.refresh_reminders()
        self.reminders_banner.show_result(Tone.OK, marked.summary())
