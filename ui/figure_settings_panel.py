"""Administration -> Figures: what the figures need that no import carries.

The bank's whole points stock (when the ledger does not supply it: the coordinator types it
from the bank's own report), so the redemption ratio is also read against it; and the day of
the next event, which bounds "points expiring before the next event" (left empty: a year
after this one); and the bank's call rule (issue #20: every invitee with N points or more
called at least once), which the progress report checks. A supervisor saves them through
``kiosk.services.figure_settings`` (audited); read when the tab is opened, so another
laptop's change shows.
"""

from __future__ import annotations

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.errors import KioskError
from kiosk.i18n import _, listing
from kiosk.services import figure_settings
from kiosk.services.figure_settings import FigureSettings
from ui.context import StationContext
from ui.widgets import ResultBanner, Tone


class FigureSettingsPanel(QWidget):
    def __init__(self, context: StationContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        layout = QVBoxLayout(self)
        intro = QLabel(
            _(
                "The bank counts its redemption ratio against the whole points stock. The "
                "dashboard and the event summary show it against every customer's points in "
                "this database, and against the bank's whole stock when it is given here. "
                "Points expiring before the next event are counted up to the day before it."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.stock = QLineEdit()
        self.stock.setObjectName("bank_points_stock")
        self.stock.setPlaceholderText(_("empty: not known"))
        form.addRow(_("Bank's whole points stock"), self.stock)
        date_row = QHBoxLayout()
        self.next_given = QCheckBox(_("Planned on"))
        self.next_given.setObjectName("next_event_given")
        self.next_event = QDateEdit()
        self.next_event.setObjectName("next_event_on")
        self.next_event.setCalendarPopup(True)
        self.next_event.setDisplayFormat("yyyy-MM-dd")
        self.next_given.toggled.connect(self.next_event.setEnabled)
        self.default_hint = QLabel("")
        self.default_hint.setProperty("role", "hint")
        self.default_hint.setWordWrap(True)  # in large print the form stays 1366 px wide
        date_row.addWidget(self.next_given)
        date_row.addWidget(self.next_event)
        date_row.addWidget(self.default_hint, 1)
        form.addRow(_("Next event"), date_row)
        self.call_floor = QLineEdit()
        self.call_floor.setObjectName("call_points_floor")
        self.call_floor.setPlaceholderText(_("empty: no call rule"))
        self.call_floor.setToolTip(
            _("Every invitee holding at least this many points is called at least once.")
        )
        form.addRow(_("Call everyone with points from"), self.call_floor)
        layout.addLayout(form)
        row = QHBoxLayout()
        self.save_button = QPushButton(_("Save"))
        self.save_button.setObjectName("save_figure_settings")
        self.save_button.setProperty("role", "primary")
        self.save_button.clicked.connect(self.save)
        row.addWidget(self.save_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.banner = ResultBanner()
        layout.addWidget(self.banner)
        layout.addStretch(1)
        self.settings: FigureSettings | None = None

    def refresh(self) -> None:
        try:
            settings = figure_settings.figure_settings(self.context.uow())
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, str(error))
            return
        self._show(settings)
        self.banner.show_result(Tone.OK, self.describe(settings))

    def _show(self, settings: FigureSettings) -> None:
        self.settings = settings
        stock = settings.bank_points_stock
        self.stock.setText("" if stock is None else f"{stock:,}")
        day = settings.next_event_on or settings.default_next_event_on
        self.next_event.setDate(QDate(day.year, day.month, day.day))
        self.next_given.setChecked(settings.next_event_on is not None)
        self.next_event.setEnabled(settings.next_event_on is not None)
        floor = settings.call_points_floor
        self.call_floor.setText("" if floor is None else f"{floor:,}")
        self.default_hint.setText(
            _("unticked: a year after this event ({day})").format(
                day=settings.default_next_event_on.isoformat()
            )
        )

    @staticmethod
    def describe(settings: FigureSettings) -> str:
        return listing(
            (*figure_settings.describe(settings), figure_settings.describe_call_rule(settings))
        )

    def save(self) -> None:
        text = self.stock.text().strip().replace(",", "").replace("，", "").replace(" ", "")
        if text and not text.isdigit():
            self.banner.show_result(
                Tone.ERROR,
                _("Not saved"),
                _("“{text}” is not a number of points like 1500000000.").format(
                    text=self.stock.text()
                ),
            )
            return
        floor = self.call_floor.text().strip().replace(",", "").replace("，", "").replace(" ", "")
        if floor and not floor.isdigit():
            self.banner.show_result(
                Tone.ERROR,
                _("Not saved"),
                _("“{text}” is not a number of points like 1500000000.").format(
                    text=self.call_floor.text()
                ),
            )
            return
        chosen = self.next_event.date()
        try:
            settings = figure_settings.set_figure_settings(
                self.context.uow(),
                self.context.staff,
                bank_points_stock=int(text) if text else None,
                next_event_on=chosen.toPython() if self.next_given.isChecked() else None,
                call_points_floor=int(floor) if floor else None,
                clock=self.context.app.clock,
                station="admin",
            )
        except KioskError as error:
            self.banner.show_result(Tone.ERROR, _("Not saved"), str(error))
            return
        self._show(settings)
        self.banner.show_result(
            Tone.OK,
            _("Saved. {settings}").format(settings=self.describe(settings)),
            _("The dashboard shows it at its next refresh; reports written from now on too."),
        )
