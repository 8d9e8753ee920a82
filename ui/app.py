"""Starting the desktop app: Qt application, font, theme, the sign-in window, then the
event database and the main window.

Issue #23 item 5: a laptop restarted in front of a queue must take a staff number at once.
Importing SQLAlchemy and the models and opening the database take about a second, so the
sign-in form (``ui.starting``) shows first, with only Qt loaded, and the database opens in the
event loop right after (``_Start``), while staff type their staff number and PIN. Errors
opening it (unreachable server, too-new schema) still end in the connection dialog alone on
screen; a database without an event still shows the main window's "no event" page.
"""

from __future__ import annotations

import gc
import importlib
import os
import signal
import socket
import sys
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QLoggingCategory, QRect, QSocketNotifier, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

from kiosk.errors import KioskError
from kiosk.i18n import _
from ui.language import apply_language
from ui.settings import APPLICATION, ORGANIZATION, Settings
from ui.starting import StartingWindow
from ui.theme import apply_theme

if TYPE_CHECKING:
    from kiosk.clock import Clock
    from kiosk.db import Database
    from kiosk.simulate import SimClock, Simulation
    from ui.main_window import MainWindow
    from ui.recovery import Recovery
    from ui.simulation import SimulationDriver

# Benchmarks set this to measure cold start. The app prints ``KIOSK_READY rss_kib=N`` once
# the sign-in window is shown and the event loop runs (staff can type), ``KIOSK_OPEN
# rss_kib=N`` once the database is open and the main window shows, then quits (exit 1 when
# the database cannot be opened).
ENV_EXIT_WHEN_READY = "KIOSK_EXIT_WHEN_READY"
READY = "KIOSK_READY"
OPEN = "KIOSK_OPEN"

# What the main window needs and the sign-in window does not, imported one module per turn of
# the event loop once that window shows, so keys typed meanwhile are drawn between them rather
# than after one blocked second. Then ``_Start._open`` finds them loaded.
DEFERRED_IMPORTS = (
    "sqlalchemy",
    "sqlalchemy.orm",
    "kiosk.models",
    "psycopg",
    "kiosk.db",
    "ui.main_window",
)


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


def _say(line: str) -> None:
    """``line`` and the process's resident memory now, for the benchmarks."""
    rss_kib = 0
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for entry in status:
                if entry.startswith("VmRSS:"):
                    rss_kib = int(entry.split()[1])
    except OSError:
        pass
    print(f"{line} rss_kib={rss_kib}", flush=True)


def _report_ready() -> None:
    _say(READY)
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
_TERMINATE_CLOSES: list[QWidget] = []  # the window SIGTERM closes: the one on screen


def close_on_terminate(window: QWidget) -> None:
    """SIGTERM (a laptop shutting down, ``kill``) closes the window as its close button does:
    the close-time backup runs and the next start does not say "closed unexpectedly".

    Qt's event loop runs in C++, so a Python signal handler alone would wait for the next
    Python call; the signal's number is written to a socket (``signal.set_wakeup_fd``) that a
    ``QSocketNotifier`` watches, which wakes the loop at once. POSIX only. Called again (the
    main window replacing the sign-in window), SIGTERM closes the new window instead.
    """
    if os.name != "posix":
        return
    _TERMINATE_CLOSES[:] = [window]
    if _TERMINATE:
        return
    receive, send = socket.socketpair()
    receive.setblocking(False)
    send.setblocking(False)
    signal.set_wakeup_fd(send.fileno())
    signal.signal(signal.SIGTERM, lambda _number, _frame: None)  # the socket does the work
    notifier = QSocketNotifier(receive.fileno(), QSocketNotifier.Type.Read)  # outlives windows

    def woken() -> None:
        try:
            numbers = receive.recv(64)
        except OSError:
            return
        if signal.SIGTERM in numbers:
            for target in _TERMINATE_CLOSES:
                if target.isVisible():
                    target.close()
                else:  # between windows at start: nothing on screen to close
                    QApplication.quit()

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
    starting = StartingWindow()
    fit_to_screen(starting)
    close_on_terminate(starting)
    starting.showMaximized()  # a station owns its screen on the day
    if os.environ.get(ENV_EXIT_WHEN_READY):
        QTimer.singleShot(0, partial(_say, READY))  # before the first step: typing works now
    start = _Start(app, settings, starting, db_url, clock, simulation, speed)
    start.begin()
    code = app.exec()
    starting.hide()  # still there when the start failed
    start.end()
    if start.failure is not None:  # raised in a step, where Qt would only have printed it
        raise start.failure
    return code


def load_printing_fonts() -> None:
    """Load the fonts slips and queue tickets are printed in (some 33,000 glyphs each way,
    issue #28), a step of the start once the main window shows: the first slip or ticket
    printed waited a third of a second for them, and ``settle`` freezes them with the rest."""
    from printing.fonts import register_fonts

    register_fonts()


def settle() -> None:
    """The start's last step: put everything it made out of the garbage collector's sight
    (``gc.freeze``).

    Qt, SQLAlchemy, the models and the printing fonts are a heap of some 130,000 objects that
    live as long as the app, and the collector's oldest generation walked all of them each
    time it ran: 100 to 400 ms on a loaded two-core laptop, landing on whichever slip was
    being issued (issue #23 item 5, the slips' p99). Frozen, they are never walked again;
    what the app makes afterwards is collected as before. What is frozen is never freed, so
    this runs once, when what the start built is what the app keeps, and what it left behind
    is collected first."""
    gc.collect()
    gc.freeze()


class _Start:
    """The rest of the start, in the event loop once the sign-in window shows: one step per
    turn of the loop (the imports, then opening the database and the main window), so the
    window takes and draws keys between steps. No thread: Qt objects and the database's
    connections stay on this one (``ui.live``)."""

    def __init__(
        self,
        app: QApplication,
        settings: Settings,
        starting: StartingWindow,
        db_url: str | None,
        clock: Clock | None,
        simulation: Callable[[Database, SimClock], Simulation] | None,
        speed: float,
    ) -> None:
        self.app = app
        self.settings = settings
        self.starting = starting
        self.db_url = db_url
        self.clock = clock
        self.simulation = simulation
        self.speed = speed
        self.steps: list[Callable[[], object]] = [
            *(partial(importlib.import_module, name) for name in DEFERRED_IMPORTS),
            self._open,
        ]
        self.database: Database | None = None
        self.window: MainWindow | None = None
        self.recovery: Recovery | None = None
        self.driver: SimulationDriver | None = None
        self.failure: BaseException | None = None

    def begin(self) -> None:
        QTimer.singleShot(0, self._next)

    def _next(self) -> None:
        step = self.steps.pop(0)
        try:
            step()
        except BaseException as error:  # run_app raises it again after the loop
            self.failure = error
            self.app.exit(1)
            return
        if self.steps:
            QTimer.singleShot(0, self._next)

    def _fail(self, error: KioskError) -> None:
        print(_("kiosk: {message}").format(message=error), file=sys.stderr)
        self.app.exit(1)

    def _open(self) -> None:
        from kiosk import netwait
        from kiosk.clock import Clock
        from kiosk.db import ENV_DB, default_url, open_database
        from kiosk.files import take_notes
        from ui.connection import ConnectionDialog
        from ui.context import AppContext
        from ui.main_window import MainWindow
        from ui.recovery import Recovery

        settings = self.settings
        # --db or KIOSK_DB first, else the database this laptop joined last, else its own
        # file. A password an older kiosk left in the settings file moves to the credential
        # store now.
        remembered = settings.protect_database_url()
        url = self.db_url or os.environ.get(ENV_DB, "").strip() or remembered.url or None
        try:
            database = open_database(url, bound=netwait.STATION_BOUND)
        except KioskError as error:
            if os.environ.get(ENV_EXIT_WHEN_READY):
                self._fail(error)
                return
            print(_("kiosk: {message}").format(message=error), file=sys.stderr)
            # The server may be down or the URL mistyped: say so and let the staff fix it
            # here, the question alone on screen as it was before the sign-in window came
            # first (which must not quit the app by hiding).
            quits = self.app.quitOnLastWindowClosed()
            self.app.setQuitOnLastWindowClosed(False)
            self.starting.hide()
            dialog = ConnectionDialog(
                url or default_url(), str(error), allow_clear=settings.clear_passwords
            )
            close_on_terminate(dialog)  # SIGTERM now: as if cancelled
            accepted = dialog.exec() == QDialog.DialogCode.Accepted
            close_on_terminate(self.starting)
            self.app.setQuitOnLastWindowClosed(quits)
            if not accepted or dialog.database is None:
                self.app.exit(1)
                return
            database = dialog.database
            settings.database_url = database.url  # chosen here: this laptop remembers it
        self.database = database
        _install_safety_net()
        clock = self.clock
        simulated = None
        if self.simulation is not None:
            from datetime import UTC, datetime

            from kiosk.simulate import SimClock as _SimClock

            sim_clock = _SimClock(datetime.now(UTC))
            try:
                simulated = self.simulation(database, sim_clock)
            except KioskError as error:
                self._fail(error)
                return
            clock = sim_clock
        recovery = Recovery()
        self.recovery = recovery
        previous = recovery.begin(database.url)
        recovery.watch_faults()
        window = MainWindow(AppContext(database, clock or Clock()), settings, recovery)
        if previous is not None:
            window.resume(previous)
        # What changed about this laptop's secrets and files at start, said once on the
        # sign-in page and on standard error: a password moved, a looser file tightened.
        notes = [note for note in [remembered.note, *take_notes()] if note]
        for note in notes:  # the app's log is its standard error, as for its errors above
            print(_("kiosk: {message}").format(message=note), file=sys.stderr)
        if notes:
            window.notice = " ".join(n for n in [window.notice, *notes] if n)
            window.rebuild()
        if simulated is not None:
            from ui.simulation import SimulationDriver

            self.driver = SimulationDriver(simulated, self.speed, window)
            self.driver.start()
        self.window = window
        # Shown at the next turn of the loop: keys typed while this step ran reach the sign-in
        # form first, and are handed over with the rest.
        self.steps.append(self._show)

    def _show(self) -> None:
        window = self.window
        assert window is not None
        signin = getattr(window, "signin", None)
        if window.overview is not None and window.stack.currentWidget() is signin:
            self.starting.hand_over(signin)  # what staff typed while the database opened
        fit_to_screen(window)
        close_on_terminate(window)
        window.showMaximized()
        self.starting.close()  # the main window is on screen: closing this one quits nothing
        if os.environ.get(ENV_EXIT_WHEN_READY):
            QTimer.singleShot(0, self._opened)
        # At the next turns, once the window is drawn: one step each, as the imports.
        self.steps += [load_printing_fonts, settle]

    def _opened(self) -> None:
        _say(OPEN)
        QApplication.quit()

    def end(self) -> None:
        """After the event loop: stop the simulation, close the database, and say this run
        closed on purpose (``ui.recovery``)."""
        if self.driver is not None:
            self.driver.stop()
        if self.database is not None:
            self.database.dispose()
        if self.recovery is not None:
            self.recovery.end()
