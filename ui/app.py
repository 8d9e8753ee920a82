"""Starting the desktop app: Qt application, font, theme, database, main window."""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QLoggingCategory, QRect, QSocketNotifier, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

from kiosk import netwait
from kiosk.clock import Clock
from kiosk.db import ENV_DB, Database, default_url, open_database
from kiosk.errors import KioskError
from kiosk.files import take_notes
from kiosk.i18n import _
from ui.connection import ConnectionDialog
from ui.context import AppContext
from ui.language import apply_language
from ui.main_window import MainWindow
from ui.recovery import Recovery
from ui.settings import APPLICATION, ORGANIZATION, Settings
from ui.theme import apply_theme

if TYPE_CHECKING:
    from kiosk.simulate import SimClock, Simulation

# Benchmarks set this to measure cold start: the app prints a line and quits once the first
# window has been shown and painted.
ENV_EXIT_WHEN_READY = "KIOSK_EXIT_WHEN_READY"


def ensure_application() -> QApplication:
    # Qt Multimedia reports each optional codec library it does not find; nothing to act on.
    QLoggingCategory.setFilterRules(
        "qt.multimedia.symbolsresolver.warning=false\nqt.multimedia.ffmpeg.info=false"
    )
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    return app


def _report_ready() -> None:
    rss_kib = 0
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    rss_kib = int(line.split()[1])
    except OSError:
        pass
    print(f"KIOSK_READY rss_kib={rss_kib}", flush=True)
    QApplication.quit()


def _install_safety_net() -> None:
    """A refusal no code path caught (the LAN went down mid-click, say) is shown in words and
    the window carries on, instead of a traceback on a console nobody reads."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: object) -> None:
        if isinstance(value, KioskError):
            title = _("Points redemption event")
            # Over the window in use; a window that was closed can stay Qt's active window
            # while it is torn down, and a box parented to it crashed the app: none then.
            active = QApplication.activeWindow()
            parent = active if active is not None and active.isVisible() else None
            QMessageBox.warning(parent, title, str(value))
            return
        previous(kind, value, tb)  # type: ignore[arg-type]

    sys.excepthook = hook


def fit_to_screen(window: QWidget, available: QRect | None = None) -> None:
    """Never larger than the screen's free area. The windows open at 1366x800, taller than a
    1366x768 laptop; a window manager maximises them, but with none (a kiosk X session,
    Xvfb) the bottom rows (the slot counts, the RM's figures, the sign-in page's database
    line) were cut off the screen."""
    if available is None:
        screen = window.screen()
        if screen is None:
            return
        available = screen.availableGeometry()
    if window.width() > available.width() or window.height() > available.height():
        window.resize(window.size().boundedTo(available.size()))
        window.move(available.topLeft())


_TERMINATE: list[tuple[socket.socket, socket.socket, QSocketNotifier]] = []


def close_on_terminate(window: QWidget) -> None:
    """SIGTERM (a laptop shutting down, ``kill``) closes the window as its close button does:
    the close-time backup runs and the next start does not say "closed unexpectedly".

    Qt's event loop runs in C++, so a Python signal handler alone would wait for the next
    Python call; the signal's number is written to a socket (``signal.set_wakeup_fd``) that a
    ``QSocketNotifier`` watches, which wakes the loop at once. POSIX only.
    """
    if os.name != "posix":
        return
    receive, send = socket.socketpair()
    receive.setblocking(False)
    send.setblocking(False)
    signal.set_wakeup_fd(send.fileno())
    signal.signal(signal.SIGTERM, lambda _number, _frame: None)  # the socket does the work
    notifier = QSocketNotifier(receive.fileno(), QSocketNotifier.Type.Read, window)

    def woken() -> None:
        try:
            numbers = receive.recv(64)
        except OSError:
            return
        if signal.SIGTERM in numbers:
            window.close()

    notifier.activated.connect(woken)
    _TERMINATE.append((receive, send, notifier))  # kept for the process's life


def run_app(
    db_url: str | None = None,
    language: str | None = None,
    *,
    clock: Clock | None = None,
    simulation: Callable[[Database, SimClock], Simulation] | None = None,
    speed: float = 60.0,
) -> int:
    """Open the window on the event database. ``clock`` replaces the wall clock (after a
    simulated day); ``simulation`` plays a demo day at ``speed`` times real time while the
    window runs (``ui.simulation``, driven by a QTimer in this thread)."""
    app = ensure_application()
    settings = Settings()
    apply_language(language or settings.language)
    if language:
        settings.language = language
    apply_theme(app, settings.large_print)
    # --db or KIOSK_DB first, else the database this laptop joined last, else its own file.
    # A password an older kiosk left in the settings file moves to the credential store now.
    remembered = settings.protect_database_url()
    url = db_url or os.environ.get(ENV_DB, "").strip() or remembered.url or None
    try:
        database = open_database(url, bound=netwait.STATION_BOUND)
    except KioskError as error:
        print(_("kiosk: {message}").format(message=error), file=sys.stderr)
        if os.environ.get(ENV_EXIT_WHEN_READY):
            return 1
        # The server may be down or the URL mistyped: say so and let the staff fix it here.
        dialog = ConnectionDialog(
            url or default_url(), str(error), allow_clear=settings.clear_passwords
        )
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.database is None:
            return 1
        database = dialog.database
        settings.database_url = database.url  # chosen here: this laptop remembers it
    _install_safety_net()
    driver = None
    if simulation is not None:
        from kiosk.simulate import SimClock as _SimClock
        from ui.simulation import SimulationDriver

        sim_clock = _SimClock(datetime.now(UTC))
        try:
            simulated = simulation(database, sim_clock)
        except KioskError as error:
            print(_("kiosk: {message}").format(message=error), file=sys.stderr)
            return 1
        clock = sim_clock
    recovery = Recovery()
    previous = recovery.begin(database.url)
    recovery.watch_faults()
    window = MainWindow(AppContext(database, clock or Clock()), settings, recovery)
    if previous is not None:
        window.resume(previous)
    # What changed about this laptop's secrets and files at start, said once on the sign-in
    # page and on standard error: a password moved, a looser file tightened.
    notes = [note for note in [remembered.note, *take_notes()] if note]
    for note in notes:  # the app's log is its standard error, as for its errors above
        print(_("kiosk: {message}").format(message=note), file=sys.stderr)
    if notes:
        window.notice = " ".join(n for n in [window.notice, *notes] if n)
        window.rebuild()
    if simulation is not None:
        driver = SimulationDriver(simulated, speed, window)
        driver.start()
    fit_to_screen(window)
    close_on_terminate(window)
    window.showMaximized()  # a station owns its screen on the day
    if os.environ.get(ENV_EXIT_WHEN_READY):
        QTimer.singleShot(0, _report_ready)
    code = app.exec()
    if driver is not None:
        driver.stop()
    database.dispose()
    recovery.end()
    return code
