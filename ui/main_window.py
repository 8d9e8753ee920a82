"""The main window: sign-in, then the stations the signed-in role may open.

One header across the top (event, who is signed in, language, large print, sign out), a
station switcher on the left and the chosen station on the right. Switching the language or
large print rebuilds the widgets, keeping who is signed in and which station is open, because
rebuilding is simpler and more reliable than retranslating every label in place.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from kiosk.changeset import Changes
from kiosk.db import Database, default_data_dir, describe_url
from kiosk.errors import KioskError
from kiosk.i18n import LANGUAGES, _
from kiosk.labels import role_label, station_label
from kiosk.roles import Station, home_station
from kiosk.services import audit_trail
from kiosk.services.auth import StaffSession, sign_in, sign_out, staff_session
from kiosk.services.events import EventHeader, event_header
from kiosk.services.stations import report_station
from kiosk.storage import SpaceReport
from printing.printer import Printer
from ui.backup_status import BackupStatus
from ui.connection import ConnectionDialog
from ui.context import AppContext, StationContext
from ui.disk_space import DiskBanner, DiskWatch
from ui.idle_lock import IdleWatcher, LockPage
from ui.language import apply_language
from ui.live import ConnectionBanner, LiveLink
from ui.operations import defer_close, running, waiting
from ui.recovery import HEALTH_EVERY_MS, Previous, Recovery
from ui.settings import Settings
from ui.signin import SignInPage
from ui.stations import load as load_station
from ui.stations import stations_for
from ui.stations.base import StationPage
from ui.sync_status import SyncStatus
from ui.theme import apply_theme
from ui.timing import every
from ui.widgets import ElidedLabel

if TYPE_CHECKING:
    from ui.call_display import CallDisplay
    from ui.customer_screen import CustomerScreen


class NoEventPage(QWidget):
    """Shown when the database holds no event: offers the demo event."""

    def __init__(
        self,
        database_url: str,
        on_demo: object,
        on_choose_database: object,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(60, 60, 60, 60)
        title = QLabel(_("No event yet"))
        title.setProperty("role", "title")
        layout.addWidget(title)
        text = QLabel(
            _(
                "The database {url} holds no event. Create the demo event to try every "
                "station, or ask the coordinator for the event database."
            ).format(url=describe_url(database_url))
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        self.button = QPushButton(_("Create the demo event"))
        self.button.setObjectName("create_demo")
        self.button.setProperty("role", "primary")
        self.button.clicked.connect(on_demo)  # type: ignore[arg-type]
        layout.addWidget(self.button, alignment=Qt.AlignmentFlag.AlignLeft)
        lan = QLabel(
            _(
                "On the venue LAN, the event is on the coordinator's PostgreSQL server: "
                "connect this laptop to it."
            )
        )
        lan.setWordWrap(True)
        layout.addWidget(lan)
        self.choose_database = QPushButton(_("Event database…"))
        self.choose_database.setObjectName("choose_database")
        self.choose_database.clicked.connect(on_choose_database)  # type: ignore[arg-type]
        layout.addWidget(self.choose_database, alignment=Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)


class CurrentPageStack(QStackedWidget):
    """A stack whose size is the shown page's, not the largest page's.

    A plain QStackedWidget asks for the room of every page it ever held: the hidden sign-in
    page, or a station opened once (the administration's tabs), would push the window past a
    1366×768 laptop's screen while a small page is shown.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.currentChanged.connect(lambda _index: self.updateGeometry())

    def sizeHint(self) -> QSize:
        page = self.currentWidget()
        return page.sizeHint() if page is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:
        page = self.currentWidget()
        if page is None:
            return super().minimumSizeHint()
        wanted = page.minimumSizeHint().expandedTo(page.minimumSize())
        return wanted


class MainWindow(QMainWindow):
    def __init__(
        self, app: AppContext, settings: Settings, recovery: Recovery | None = None
    ) -> None:
        super().__init__()
        self.app = app
        self.settings = settings
        self.recovery = recovery  # the state file a crash leaves behind (ui.recovery)
        self.resuming: Previous | None = None  # the run that closed unexpectedly, until resumed
        self.notice: str = ""  # said on the sign-in page: the app closed unexpectedly
        self.staff: StaffSession | None = None
        self.overview: EventHeader | None = None
        self.pages: dict[Station, StationPage] = {}
        self.resize(1366, 800)  # run_app/run_booth then fit it to the screen
        self.link: LiveLink | None = None
        self.changed_meanwhile = False  # another station's change came during a station call
        self.locked = False
        self.lock_page: LockPage | None = None
        # The public display beside the counter: the window's, so a re-layout keeps it open.
        self.call_display: CallDisplay | None = None
        # The screen turned to the customer at the desk: the window's too, for the same reason.
        self.customer_screen: CustomerScreen | None = None
        self.idle = IdleWatcher(lambda: self.settings.idle_lock_seconds, self)
        self.idle.idle.connect(self.lock)
        self.health = QTimer(self)
        self.health.setInterval(every(HEALTH_EVERY_MS))
        self.health.timeout.connect(self._log_health)
        if recovery is not None:
            self.health.start()
        self.disk_watch = DiskWatch(
            self._disk_folders, lambda: self.settings.low_space_mb * 1024 * 1024, self
        )
        self.disk_watch.warning.connect(self._on_disk_warning)
        self.disk_watch.measured.connect(self._report_space)
        self.rebuild()
        self._start_link()
        self.disk_watch.start()
        if self.settings.customer_screen == "auto" and len(QGuiApplication.screens()) > 1:
            self.open_customer_screen()  # a second monitor: it is the customer's

    # -- building ---------------------------------------------------------------------------

    def rebuild(self, station: Station | None = None) -> None:
        """Build every widget from scratch in the current language and size."""
        previous: SyncStatus | None = getattr(self, "sync_status", None)
        if previous is not None:
            previous.stop()  # let a running push finish rather than kill it with the widget
        old_backup: BackupStatus | None = getattr(self, "backup_status", None)
        if old_backup is not None:
            old_backup.stop()
        self.pages = {}
        # The database may have gone away since it was opened: keep showing the last event;
        # the banner says why.
        with contextlib.suppress(KioskError):
            self.overview = event_header(self.app.uow())
        title = _("Points redemption event")
        self.setWindowTitle(f"{title} — {self.overview.name}" if self.overview else title)
        self.refresh_call_display()  # in the new language
        root = QWidget()
        root.setObjectName("page")
        layout = QVBoxLayout(root)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._header())
        self.connection_banner = ConnectionBanner()
        if self.link is not None:
            self.connection_banner.show_state(self.link.reachable, self.link.error)
        layout.addWidget(self.connection_banner)
        self.disk_banner = DiskBanner()
        self.disk_banner.show_warning(self.disk_watch.text)
        layout.addWidget(self.disk_banner)
        self.stack = CurrentPageStack()
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(root)

        if self.overview is None:
            self.no_event = NoEventPage(
                self.app.database.url, self._create_demo, self.choose_database
            )
            self.stack.addWidget(self.no_event)
            self.update_customer_screen()
            return
        self.signin = SignInPage(
            self.app,
            self.overview.name,
            self.overview.timezone,
            self.overview.is_demo,
            on_choose_database=self.choose_database,
        )
        self.signin.signed_in.connect(self._on_signed_in)
        if self.notice:
            self.signin.error.setText(self.notice)
        self.stack.addWidget(self.signin)
        self.workspace = self._workspace()
        self.stack.addWidget(self.workspace)
        self.lock_page = None
        if self.staff is not None:
            self._show_workspace(station)
            if self.locked:  # a language switch while locked: still locked
                self._show_lock()
        elif self.resuming is not None:
            self._show_resume()
        else:
            self.stack.setCurrentWidget(self.signin)
            self.signin.staff_no.setFocus()
        self.update_customer_screen()  # in the new language; the welcome when signed out

    def _header(self) -> QFrame:
        header = QFrame()
        header.setObjectName("header")
        row = QHBoxLayout(header)
        row.setContentsMargins(16, 8, 16, 8)
        row.setSpacing(14)  # the backup state and the staff's name read as two things
        # The title and who is signed in give way first when the header is short of room
        # (large print in English on a 1366-pixel laptop): shortened with "…", whole on hover.
        name = ElidedLabel(_("Points redemption event"), mode=Qt.TextElideMode.ElideRight)
        name.setObjectName("app_title")
        name.setProperty("role", "subtitle")
        row.addWidget(name)
        row.addStretch(1)
        self.sync_status = SyncStatus(self.app.database)
        row.addWidget(self.sync_status)
        self.backup_status = BackupStatus(
            self.app.database, self.settings, signing_key=self._signing_key_held
        )
        row.addWidget(self.backup_status)
        self.who = ElidedLabel("", mode=Qt.TextElideMode.ElideRight)
        self.who.setObjectName("who")
        row.addWidget(self.who)

        self.language = QComboBox()
        self.language.setObjectName("language")
        for code, label in LANGUAGES.items():
            self.language.addItem(label, code)
        self.language.setCurrentIndex(list(LANGUAGES).index(self.settings.language))
        # Every language's name whole, whatever the print size ("简体中文" was cut by 9 px).
        self.language.ensurePolished()
        names = self.language.fontMetrics()
        widest = max(names.horizontalAdvance(label) for label in LANGUAGES.values())
        self.language.setMinimumWidth(widest + 56)  # the arrow, padding and border
        self.language.currentIndexChanged.connect(self._on_language)
        row.addWidget(self.language)

        self.large = QCheckBox(_("Large print"))
        self.large.setObjectName("large_print")
        self.large.setChecked(self.settings.large_print)
        self.large.toggled.connect(self._on_large_print)
        row.addWidget(self.large)

        self.sign_out_button = QPushButton(_("Sign out"))
        self.sign_out_button.setObjectName("sign_out")
        self.sign_out_button.clicked.connect(self.sign_out)
        self.sign_out_button.setVisible(False)
        row.addWidget(self.sign_out_button)
        return header

    def closeEvent(self, event: QCloseEvent) -> None:
        if defer_close(self):  # a station call is out: closed once its answer is shown
            event.ignore()
            return
        self.idle.disarm()
        self.health.stop()
        self.disk_watch.stop()
        self.sync_status.stop()
        self.backup_status.stop()
        if self.settings.backup_folder:
            self.backup_status.backup_now()  # the last state of the day, on the stick too
        if self.link is not None:
            self.link.stop()
        if self.call_display is not None:
            self.call_display.close()
            self.call_display.deleteLater()
            self.call_display = None
        if self.customer_screen is not None:
            self.customer_screen.close()
            self.customer_screen.deleteLater()
            self.customer_screen = None
        if self.recovery is not None:
            self.recovery.end()  # closed on purpose: nothing to recover next time
        super().closeEvent(event)

    # -- the public call display -----------------------------------------------------------

    def open_call_display(self) -> CallDisplay:
        """Show the public display of this laptop's counter (one per window)."""
        if self.call_display is None:
            from ui.call_display import CallDisplay  # the desk's, when opened (issue #23)

            self.call_display = CallDisplay(self.app, self.settings)
        self.call_display.refresh()
        self.call_display.show()
        if QGuiApplication.platformName() != "offscreen":  # which cannot raise a window
            self.call_display.raise_()
        return self.call_display

    def replay_call(self) -> None:
        """Say the counter's latest call again on the public display (opened if it was
        not: the call is said where the display is)."""
        display = self.call_display
        if display is None or not display.isVisible():
            display = self.open_call_display()
        display.replay()

    def refresh_call_display(self) -> None:
        """A desk called or finished someone: the display says so now."""
        if self.call_display is not None and self.call_display.isVisible():
            self.call_display.refresh()

    # -- the screen turned to the customer -------------------------------------------------

    def open_customer_screen(self) -> CustomerScreen:
        """Show the customer screen (one per window): full screen on a second monitor when
        there is one and the settings allow, else a window to drag to the customer's."""
        if self.customer_screen is None:
            from ui.customer_screen import CustomerScreen

            self.customer_screen = CustomerScreen(self.settings)
        self.update_customer_screen()
        self.customer_screen.place(self.screen())
        if QGuiApplication.platformName() != "offscreen":  # which cannot raise a window
            self.customer_screen.raise_()
        return self.customer_screen

    def customer_changed_at(self, page: StationPage) -> None:
        """A station's customer changed: shown if it is the station on screen."""
        if page is self.current_station():
            self.update_customer_screen()

    def update_customer_screen(self) -> None:
        """The customer of the station on screen, or the welcome: nobody signed in, the
        idle lock, no station with a customer. Stations build their view when asked, in the
        language now current, so a language switch re-renders it."""
        screen = self.customer_screen
        if screen is None:
            return
        view = None
        if self.staff is not None and not self.locked and self.overview is not None:
            page = self.current_station() if hasattr(self, "station_stack") else None
            if page is not None:
                view = page.customer_view()
        screen.show_view(view, self.overview.name if self.overview else "")

    # -- the event database on the LAN ------------------------------------------------------

    def _start_link(self) -> None:
        if self.link is not None:
            self.link.stop()
            self.link.deleteLater()
        self.link = LiveLink(self.app.database, self)
        self.link.changed.connect(self.on_database_changed)
        self.link.reachability.connect(self._on_reachability)
        self.link.start()

    def _on_reachability(self, reachable: bool, error: str) -> None:
        self.connection_banner.show_state(reachable, error)

    # -- free disk space --------------------------------------------------------------------

    def _disk_folders(self) -> list[Path]:
        """Every folder this laptop writes to: the event database's (a local file), the print
        spool, the backups and the app's own data folder."""
        folders = [default_data_dir(), Printer.spool_from_environment()]
        with contextlib.suppress(Exception):
            url = make_url(self.app.database.url)
            if url.get_backend_name() == "sqlite" and url.database:
                folders.append(Path(url.database).expanduser())
        if self.settings.backup_folder:
            folders.append(Path(self.settings.backup_folder))
        return folders

    def _on_disk_warning(self, text: str) -> None:
        self.disk_banner.show_warning(text)

    def _report_space(self, report: SpaceReport) -> None:
        """The dashboard's figure for this laptop; skipped while the database is away, or
        while a station call is out (the next measure reports it)."""
        if self.staff is None or (self.link is not None and self.link.reachable is False):
            return
        if running(self):
            return
        with contextlib.suppress(KioskError, SQLAlchemyError):
            report_station(
                self.app.uow(),
                self.staff,
                report,
                station=self._where(),
                clock=self.app.clock,
            )

    def on_database_changed(self) -> None:
        """Another station committed something: refresh what is on screen, nothing more.
        While a station call is out (``ui.operations``) that waits for its end."""
        if running(self):
            self.changed_meanwhile = True
            return
        self.changed_meanwhile = False
        self.refresh_call_display()
        if self.overview is None:
            try:
                header = event_header(self.app.uow())
            except KioskError:
                return
            if header is not None:  # an event arrived (copied in, or created elsewhere)
                self.rebuild()
            return
        page = self.current_station()
        if page is None:
            return
        try:
            with waiting(self):
                page.refresh_live()
        except KioskError as error:
            # The database went away between the change and the refresh: the banner says so.
            self.connection_banner.show_state(False, str(error))

    def after_operation(self) -> None:
        """A station call ended and was shown (``ui.operations``): a change another station
        made meanwhile is shown now."""
        if self.changed_meanwhile:
            self.on_database_changed()

    def route_changes(self, changes: Changes, origin: StationPage, own: list[int]) -> None:
        """A station's action committed (``ui.operations``): the stations that show what it
        changed refresh now, the acting one first, and the link is told the counter values
        of those commits, so their echo a second later reloads nothing."""
        if self.link is not None:
            self.link.expect(own)
        if changes.queues or changes.setup:
            self.refresh_call_display()
        kinds = changes.kinds()
        for page in [origin, *(p for p in self.pages.values() if p is not origin)]:
            if page is origin and not changes:
                continue  # nothing changed: nothing to read again
            if page is not origin and not (page.isVisible() and (page.shows & kinds)):
                continue  # a station not on screen reloads when it is opened
            try:
                with waiting(self):
                    page.after(changes)
            except KioskError as error:  # the database went away after the commit
                self.connection_banner.show_state(False, str(error))

    def choose_database(self) -> None:
        """Ask for the event database URL; on success this laptop remembers and joins it."""
        dialog = ConnectionDialog(
            self.app.database.url, parent=self, allow_clear=self.settings.clear_passwords
        )
        try:
            accepted = dialog.exec() == QDialog.DialogCode.Accepted
            database = dialog.database
        finally:
            dialog.deleteLater()  # not one more hidden child of the window per question
        if accepted and database is not None:
            self.switch_database(database)

    def switch_database(self, database: Database) -> None:
        self.locked = False
        self.idle.disarm()
        old = self.app.database
        if self.staff is not None:
            with contextlib.suppress(KioskError):
                sign_out(self.app.uow(), self.staff, station="app", clock=self.app.clock)
        self.staff = None
        self.resuming = None
        self.app.database = database
        self.settings.database_url = database.url
        self.overview = None
        self._note()
        self._start_link()
        self.rebuild()
        if old is not database:
            old.dispose()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Keyboard only: Ctrl+1 … Ctrl+9 open the N-th station (keys bubble up from fields)."""
        if self.locked:  # no station key works behind the lock screen
            super().keyPressEvent(event)
            return
        key = event.key()
        if (
            event.modifiers() & Qt.KeyboardModifier.ControlModifier
            and Qt.Key.Key_1 <= key <= Qt.Key.Key_9
            and self.staff is not None
        ):
            row = key - Qt.Key.Key_1
            if row < self.switcher.count():
                self.switcher.setCurrentRow(row)
            event.accept()
            return
        # Keys that reach the window (nothing in the station had the focus) still belong to
        # the station on screen: F5 calls the next customer wherever the focus is.
        page = self.current_station()
        if page is not None and page.handle_key(event):
            return
        super().keyPressEvent(event)

    def _workspace(self) -> QWidget:
        workspace = QWidget()
        workspace.setObjectName("page")
        row = QHBoxLayout(workspace)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        self.switcher = QListWidget()
        self.switcher.setObjectName("stations")
        self.switcher.setFixedWidth(240)  # large print: as narrow as its titles (_show_workspace)
        self.switcher.currentItemChanged.connect(self._on_station_chosen)
        # Under the stations, not in the header: the header is full in large print at 1366 px.
        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.setSpacing(0)
        side.addWidget(self.switcher, 1)
        self.customer_screen_button = QPushButton(_("Customer screen"))
        self.customer_screen_button.setObjectName("customer_screen_button")
        self.customer_screen_button.setToolTip(
            _("Show the customer their masked details, changes, points and slips")
        )
        self.customer_screen_button.clicked.connect(self.open_customer_screen)
        self.customer_screen_button.setVisible(self.settings.customer_screen != "off")
        side.addWidget(self.customer_screen_button)
        row.addLayout(side)
        self.station_stack = CurrentPageStack()
        row.addWidget(self.station_stack, 1)
        return workspace

    # -- signing in and out -----------------------------------------------------------------

    def _on_signed_in(self, staff: StaffSession) -> None:
        self.staff = staff
        self._show_workspace(None)
        self.disk_watch.check(report=True)  # the dashboard hears of this laptop at once

    def _show_workspace(self, station: Station | None) -> None:
        assert self.staff is not None
        roles = " · ".join(role_label(r) for r in sorted(self.staff.roles))
        self.who.set_whole(
            _("{name} ({no}) · {roles}").format(
                name=self.staff.name, no=self.staff.staff_no, roles=roles
            )
        )
        self.sign_out_button.setVisible(True)
        self.switcher.blockSignals(True)
        self.switcher.clear()
        available = stations_for(self.staff.roles)
        station = station or home_station(self.staff.roles, available)
        large = self.settings.large_print
        for number, choice in enumerate(available, start=1):
            title = station_label(choice)
            key = f"Ctrl+{number}" if number < 10 else ""
            # Large print: the title alone, so the station keeps the width; the key is said
            # when the pointer rests on it.
            item = QListWidgetItem(f"{title}  {key}" if key and not large else title)
            item.setToolTip(f"{title} ({key})" if key else title)
            item.setData(Qt.ItemDataRole.UserRole, choice)
            self.switcher.addItem(item)
        self.switcher.blockSignals(False)
        self._fit_switcher()
        self.stack.setCurrentWidget(self.workspace)
        index = 0
        for i in range(self.switcher.count()):
            if self.switcher.item(i).data(Qt.ItemDataRole.UserRole) == station:
                index = i
        if self.switcher.count():
            self.switcher.setCurrentRow(index)
            self._on_station_chosen(self.switcher.currentItem(), None)
        if not self.locked:
            self.idle.arm()

    def _fit_switcher(self) -> None:
        """Large print: the switcher as wide as its longest title (the stations need the
        room on a 1366-pixel laptop); normal print keeps 240 px with the keys shown."""
        if not self.settings.large_print:
            self.switcher.setFixedWidth(240)
            return
        self.switcher.ensurePolished()
        metrics = self.switcher.fontMetrics()
        widest = max(
            (
                metrics.horizontalAdvance(self.switcher.item(i).text())
                for i in range(self.switcher.count())
            ),
            default=0,
        )
        # The theme's item padding (12 px a side) and a little air; never narrower than the
        # customer screen's button under it ("Customer screen" in English large print).
        button = self.customer_screen_button
        below = button.sizeHint().width() if self.settings.customer_screen != "off" else 0
        self.switcher.setFixedWidth(max(widest + 2 * 12 + 16, 140, below))

    def _signing_key_held(self) -> Any:
        """The event's signing key if this window's activation desk has it unlocked."""
        page = self.pages.get(Station.ACTIVATION)
        return getattr(page, "signing_key", None)

    def sign_out(self) -> None:
        self.locked = False
        self.idle.disarm()
        if self.staff is not None:
            try:
                sign_out(self.app.uow(), self.staff, station="app", clock=self.app.clock)
            except KioskError as error:  # the LAN is down: sign out here all the same
                self.connection_banner.show_state(False, str(error))
        self.staff = None
        self.resuming = None
        self._note()
        self.rebuild()

    # -- the idle lock ----------------------------------------------------------------------

    def lock(self) -> None:
        """Cover the station: nobody touched it for the idle time (``ui.idle_lock``)."""
        if self.staff is None or self.locked or self.overview is None:
            return
        self.locked = True
        self.idle.disarm()
        try:
            audit_trail.screen_locked(
                self.app.uow(), self.staff, station=self._where(), clock=self.app.clock
            )
        except KioskError as error:  # the LAN is down: lock all the same
            self.connection_banner.show_state(False, str(error))
        self._show_lock()
        self.update_customer_screen()  # the welcome: nothing of the customer stays

    def _where(self) -> str:
        station = self._current_station_id()
        return station.value if station is not None else "app"

    def _show_lock(self) -> None:
        assert self.staff is not None
        if self.lock_page is not None:
            self.stack.removeWidget(self.lock_page)
            self.lock_page.deleteLater()
        self.lock_page = LockPage(self.staff.name, self.staff.staff_no, self._unlock, self.sign_out)
        self.stack.addWidget(self.lock_page)
        self.stack.setCurrentWidget(self.lock_page)  # the station's widgets are hidden now
        self.lock_page.pin.setFocus()

    def _unlock(self, pin: str) -> str | None:
        """Check the same staff member's PIN; the reason when refused, else None."""
        assert self.staff is not None and self.overview is not None
        try:
            sign_in(
                self.app.uow(),
                self.staff.staff_no,
                pin,
                station=self._where(),
                clock=self.app.clock,
                timezone=self.overview.timezone,
            )
        except KioskError as error:
            return str(error)
        with contextlib.suppress(KioskError):
            audit_trail.screen_unlocked(
                self.app.uow(), self.staff, station=self._where(), clock=self.app.clock
            )
        self.locked = False
        self.stack.setCurrentWidget(self.workspace)
        if self.lock_page is not None:
            self.stack.removeWidget(self.lock_page)
            self.lock_page.deleteLater()
            self.lock_page = None
        self.idle.arm()
        self.update_customer_screen()
        return None

    # -- after the app closed unexpectedly ----------------------------------------------------

    def _log_health(self) -> None:
        if self.recovery is not None:
            self.recovery.log_health(self.app.database.url)

    def _note(self) -> None:
        """Keep the state file current: who is signed in where, for the next start."""
        if self.recovery is None:
            return
        station = self._current_station_id() if self.staff is not None else None
        self.recovery.note(
            staff_no=self.staff.staff_no if self.staff is not None else None,
            station=station.value if station is not None else None,
            database_url=self.app.database.url,
        )

    def resume(self, previous: Previous) -> None:
        """The last run closed unexpectedly: say so, and bring its station back once the same
        staff member types their PIN (anyone else signs out and in as usual)."""
        when = previous.last_seen.strftime("%H:%M")
        where = str(previous.crash_log) if previous.crash_log else ""
        self.notice = (
            _(
                "The app closed unexpectedly at about {time}; everything saved before then is "
                "kept. A report stays on this laptop: {log}"
            ).format(time=when, log=where)
            if where
            else _(
                "The app closed unexpectedly at about {time}; everything saved before then is kept."
            ).format(time=when)
        )
        # The state file keeps the URL without its password (ui.recovery).
        same_database = describe_url(previous.database_url) == describe_url(self.app.database.url)
        if previous.staff_no and same_database and self.overview is not None:
            self.resuming = previous
        self.rebuild()

    def _show_resume(self) -> None:
        assert self.resuming is not None and self.resuming.staff_no is not None
        previous = self.resuming
        try:
            name = staff_session(self.app.uow(), previous.staff_no).name
        except KioskError:  # the staff member is gone from this database: sign in as usual
            self.resuming = None
            self.stack.setCurrentWidget(self.signin)
            return
        station = _station_or_none(previous.station)
        place = station_label(station) if station is not None else _("the station")
        self.lock_page = LockPage(
            name,
            previous.staff_no,
            self._resume_with_pin,
            self._resume_declined,
            title=_("The app closed unexpectedly"),
            text=self.notice
            + "\n\n"
            + _("{name} ({no}): type your PIN to go back to {station}.").format(
                name=name, no=previous.staff_no, station=place
            ),
        )
        self.lock_page.setObjectName("resume_page")
        self.stack.addWidget(self.lock_page)
        self.stack.setCurrentWidget(self.lock_page)
        self.lock_page.pin.setFocus()

    def _resume_with_pin(self, pin: str) -> str | None:
        previous = self.resuming
        assert previous is not None and previous.staff_no is not None
        assert self.overview is not None
        try:
            session = sign_in(
                self.app.uow(),
                previous.staff_no,
                pin,
                station="app",
                clock=self.app.clock,
                timezone=self.overview.timezone,
            )
        except KioskError as error:
            return str(error)
        self.resuming = None
        self.notice = ""
        self.staff = session
        self.rebuild(_station_or_none(previous.station))
        return None

    def _resume_declined(self) -> None:
        """Someone else is at the laptop: the ordinary sign-in page, with the notice."""
        self.resuming = None
        self.rebuild()

    # -- stations ---------------------------------------------------------------------------

    def station_titles(self) -> list[str]:
        return [
            station_label(self.switcher.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.switcher.count())
        ]

    def current_station(self) -> StationPage | None:
        widget = self.station_stack.currentWidget() if self.staff else None
        return widget if isinstance(widget, StationPage) else None

    def _on_station_chosen(self, item: QListWidgetItem | None, _previous: object) -> None:
        if item is None or self.staff is None:
            return
        station = Station(item.data(Qt.ItemDataRole.UserRole))
        cls = load_station(station)
        page = self.pages.get(station)
        if page is None:
            page = cls(
                StationContext(
                    self.app, self.staff, self.settings, self.recovery, patient=cls.patient
                )
            )
            self.pages[station] = page
            self.station_stack.addWidget(page)
        self.station_stack.setCurrentWidget(page)
        self.update_customer_screen()  # the last station's customer goes at once
        self._note()
        try:
            with waiting(self):
                page.load()
        except KioskError as error:
            QMessageBox.warning(self, cls.title(), str(error))
        self.update_customer_screen()

    # -- preferences ------------------------------------------------------------------------

    def _current_station_id(self) -> Station | None:
        page = self.current_station()
        return page.station if page else None

    def _rebuild_keeping(self) -> None:
        """Rebuild on the same station with what staff had in hand there (``keep``): a
        search typed and a customer selected stay across a language switch. (Large print
        still starts the station afresh, as ``test_large_print_in_the_middle_of_a_search``
        asks.)"""
        page = self.current_station()
        station = page.station if page else None
        kept = page.keep() if page else None
        self.rebuild(station)
        new = self.current_station()
        if kept is not None and new is not None and new.station == station:
            new.restore(kept)

    def _on_language(self, index: int) -> None:
        code = self.language.itemData(index)
        self.settings.language = code
        apply_language(code)
        self._rebuild_keeping()

    def _on_large_print(self, on: bool) -> None:
        self.settings.large_print = on
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, on)
        self.rebuild(self._current_station_id())

    def _create_demo(self) -> None:
        from kiosk.demo import create_demo  # the generator, only when asked (issue #23)

        try:
            create_demo(self.app.uow())
        except KioskError as error:
            QMessageBox.critical(self, _("Create the demo event"), str(error))
            return
        self.rebuild()


def _station_or_none(value: str | None) -> Station | None:
    try:
        return Station(value) if value else None
    except ValueError:
        return None
