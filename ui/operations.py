"""Running a service call for a station: the one place for what every action does around it.

A station action is a service call plus the same chores each time, which the stations used to
repeat in some fifty ``except KioskError`` blocks:

- busy: a wait cursor, and a second press while the first call runs does nothing;
- a refusal or failure said in words (``KioskError`` is written for staff): the station's
  ``show_error`` (red banner and sound), or the caller's own handling for the errors it knows;
- a request id settled once its outcome is known (``kiosk.idempotency``), kept after
  ``OutcomeUnknown`` so that trying again acts once;
- what changed (``kiosk.changeset.Changes``, from the service's answer) routed by the window
  to the stations that show it, the acting one included, which refreshes once, in one read
  (``StationPage.after``); the public call display when a queue changed;
- the station's own echo ignored: the change counter values its commits reached are handed
  to the window's ``LiveLink``, which then does not ask for a second refresh.

Anki's ``CollectionOp`` does the same for its screens.

**Off the GUI thread.** The service call runs on a worker thread (a plain Python thread that
touches no Qt object), so a silently dropped packet never freezes the window: every wait of a
station on the database is bounded (``kiosk.netwait``: three seconds a round trip, then the
error in words), and meanwhile the window keeps painting, can be moved, and says what it waits
for. The GUI thread first waits ``QUICK`` seconds for the answer itself: a desk action takes
milliseconds, and then everything happens in the same turn of the event loop as before (the
result on screen before the next key is read: a scanner's next code acts on the new state).
Past that it goes back to its events: a note over the window counts the seconds ("Waiting for
the event database… 1.4 s", ``WaitingNote``, driven by a timer on the GUI thread), a poll
every ``POLL_MS`` notices the end, and then the result or the error is shown as usual, in words.

While a call is out, the window takes no input: clicks and keys are dropped (not queued: acting
on them after the answer would do what nobody saw), and once one was dropped the note says
so ("…not taken: scan again once this is done"), so a scan that came in meanwhile is not lost
unnoticed. Nothing else of the window starts a database call meanwhile (``running``: the live
link holds its reading, a change from another station is shown once the call is over, the
stations' timers skip a turn), so nothing runs into the half-done action, and a GUI-thread read
on the same frozen network cannot freeze the window after all. Closing the window waits for
the answer (``defer_close``): the outcome of a check-in that may have committed is shown first.

Two things keep Qt safe with a Python thread in the GUI process (``ui.live``): the worker never
holds the last reference to a Qt object (the operation, and with it the call and whatever it
closes over, is kept by the GUI thread until the worker has ended, and is released there), and
Python's cyclic collector is off while a worker runs (``collector_off``): a collection started
on the worker could finalise a window's Qt objects there. The GUI thread's garbage is collected
once it is switched on again. The call gets a copy of the GUI thread's context (``patient()``
carries over) without its ``netwait`` watchers, which are Qt code.

The reads a window makes by itself (a live refresh, the refresh after an action, opening a
station) still run on the GUI thread, bounded and said by ``waiting``; they read and fill
widgets in one go, station by station, and moving them is a change of each station's
``refresh_live``/``load``. What keeps them from freezing the window while an action is out is
``running``: they are not started then.
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from kiosk import netwait
from kiosk.changeset import NOTHING, Changes
from kiosk.errors import KioskError, OutcomeUnknown
from kiosk.i18n import _

if TYPE_CHECKING:
    from ui.stations.base import StationPage

T = TypeVar("T")

# Seconds the GUI thread waits for a call's answer itself before going back to its events
# (None: until the answer, as the widget tests do, tests/ui/conftest.py).
WINDOW_QUICK = 0.1
QUICK: float | None = WINDOW_QUICK
# How often, once back to its events, the GUI thread looks whether the answer came.
POLL_MS = 50


@dataclass(frozen=True)
class Ran(Generic[T]):
    """How an operation went: ``ok`` with the service's ``value``, or the ``error`` shown."""

    ok: bool
    value: T | None = None
    error: KioskError | None = None
    changes: Changes = NOTHING


def changes_of(value: object) -> Changes:
    """What a service's answer says it changed: a ``Changes`` itself, or its ``changes``."""
    if isinstance(value, Changes):
        return value
    found = getattr(value, "changes", None)
    return found if isinstance(found, Changes) else NOTHING


# -- the collector, off while a worker runs ----------------------------------------------------

_collector = threading.Lock()
_collector_holds = 0
_collector_was_on = True


def hold_collector() -> None:
    """Switch Python's cyclic collector off until the matching ``release_collector`` (counted:
    several workers, the dashboard's priming thread among them, may hold it at once)."""
    global _collector_holds, _collector_was_on
    with _collector:
        if _collector_holds == 0:
            _collector_was_on = gc.isenabled()
            gc.disable()
        _collector_holds += 1


def release_collector() -> None:
    global _collector_holds
    with _collector:
        _collector_holds -= 1
        if _collector_holds == 0 and _collector_was_on:
            gc.enable()


@contextlib.contextmanager
def collector_off() -> Iterator[None]:
    """No cyclic collection while the block runs (see the module docstring)."""
    hold_collector()
    try:
        yield
    finally:
        release_collector()


# -- operations in flight ----------------------------------------------------------------------

_out: list[_Operation[Any]] = []  # the calls out on a worker, each until the GUI thread ends it


def running(widget: QWidget | None) -> bool:
    """Whether a station call of ``widget``'s window is out on a worker: the window's own
    database reads and timers wait their turn (see the module docstring)."""
    if widget is None or not _out:
        return False
    window = widget.window()
    return any(op.window is window for op in _out)


def when_idle(
    widget: QWidget, slot: Callable[[], None], *, again: QTimer | None = None
) -> Callable[[], None]:
    """A timer's slot that starts no database call while a station call of ``widget``'s
    window is out: that turn is skipped (a periodic timer), or ``again`` is started again (a
    single-shot timer whose work must not be lost: a search typed before the call)."""

    def tick() -> None:
        if not running(widget):
            slot()
        elif again is not None:
            again.start()

    return tick


def defer_close(window: QWidget) -> bool:
    """Asked by a window about to close: True when a call of it is out, which then closes the
    window once its answer is shown (the caller ignores this close)."""
    for op in _out:
        if op.window is window:
            op.close_after = True
            op.say()
            return True
    return False


def settle_all(timeout: float | None = None) -> bool:
    """Wait on the GUI thread until every call out has ended and been shown (tests, and
    whoever must not leave one behind); False if ``timeout`` came first."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while _out:
        op = _out[0]
        op.thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if op.thread.is_alive():
            return False
        op.end()
    return True


def run(
    station: StationPage,
    call: Callable[[], T],
    *,
    success: str | Callable[[T], str] = "",
    done: Callable[[T], None] | None = None,
    failed: Callable[[KioskError], bool | None] | None = None,
    request: Hashable | None = None,
    changes: Changes = NOTHING,
    then: Callable[[Ran[T]], None] | None = None,
) -> None:
    """Run ``call`` (a service call) for ``station``, on a worker thread.

    On success: ``success`` (the sentence, or a function of the answer) is shown, ``done``
    updates the station's own state from the answer, and then the changes are routed, so the
    station refreshes once with its new state. On a ``KioskError``: ``failed`` first, when
    given; unless it returns True the station shows the error in words. ``request`` is the
    subject of ``context.requests`` whose id the call uses; ``changes`` adds to what the
    answer says (for a service whose answer carries none). ``then`` gets how it went, last
    (what the caller does next: it may be called after ``run`` returned).

    ``call`` runs off the GUI thread: it must not touch a widget (read what it needs from
    the screen before). Everything else here runs on the GUI thread.
    """
    if station.busy or running(station):
        return  # a second press while the first call runs does nothing
    op = _Operation(station, call, success, done, failed, request, changes, then)
    op.start()
    op.thread.join(QUICK)
    if op.thread.is_alive():
        op.wait_on_screen()
    else:
        op.end()


class _Operation(Generic[T]):
    """One station call: started, waited for (on screen when it takes long), and ended, all
    on the GUI thread but for ``_work``."""

    def __init__(
        self,
        station: StationPage,
        call: Callable[[], T],
        success: str | Callable[[T], str],
        done: Callable[[T], None] | None,
        failed: Callable[[KioskError], bool | None] | None,
        request: Hashable | None,
        changes: Changes,
        then: Callable[[Ran[T]], None] | None,
    ) -> None:
        self.station = station
        self.window = station.window()
        self.call: Callable[[], T] | None = call
        self.success = success
        self.done = done
        self.failed = failed
        self.request = request
        self.changes = changes
        self.then = then
        self.value: T | None = None
        self.error: BaseException | None = None
        self.own = station.context.app.database.own_commits
        self.mark = self.own.mark()
        self.context = contextvars.copy_context()
        self.thread = threading.Thread(target=self._work, name="station call", daemon=True)
        self.started = 0.0
        self.note: WaitingNote | None = None
        self.timer: QTimer | None = None
        self.holding: _HoldInput | None = None
        self.close_after = False
        self.ended = False

    def start(self) -> None:
        self.station.busy = True
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        _out.append(self)
        hold_collector()
        self.started = time.monotonic()
        self.thread.start()

    def _work(self) -> None:
        """On the worker: the call, and nothing of Qt. Its result stays on this object."""
        try:
            self.value = self.context.run(self._call)
        except BaseException as error:  # handed to the GUI thread, raised there if not ours
            self.error = error

    def _call(self) -> T:
        assert self.call is not None
        with netwait.unwatched():
            return self.call()

    def wait_on_screen(self) -> None:
        """Back to the event loop: hold the window's input, count on the note, poll."""
        self.note = WaitingNote(self.window if isinstance(self.window, QWidget) else None)
        app = QApplication.instance()
        if app is not None:
            self.holding = _HoldInput(self)
            app.installEventFilter(self.holding)
        self.timer = QTimer()
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._poll)
        self.timer.start()

    def _poll(self) -> None:
        if not self.thread.is_alive():
            self.end()
        elif time.monotonic() - self.started >= netwait.FIRST_TICK:
            self.say()

    def say(self) -> None:
        """The note, with the seconds waited so far (and what was not taken meanwhile)."""
        if self.note is None or not shiboken6.isValid(self.window):
            return
        extra = ""
        if self.close_after:
            extra = _("The window closes once this is done.")
        elif self.holding is not None and self.holding.dropped:
            extra = _(
                "What was typed or scanned meanwhile was not taken: do it again once this is done."
            )
        self.note.show_waited(time.monotonic() - self.started, extra)

    def end(self) -> None:
        """On the GUI thread, the worker over: tidy up, then show how it went."""
        if self.ended:
            return
        self.ended = True
        self.thread.join()  # over already: its last references are dropped by now
        _out.remove(self)
        self.call = None
        release_collector()
        if self.timer is not None:
            self.timer.stop()
            self.timer.deleteLater()
            self.timer = None
        app = QApplication.instance()
        if self.holding is not None and app is not None:
            app.removeEventFilter(self.holding)
        self.holding = None
        if self.note is not None:
            self.note.close(drop_queued=False)  # nothing queued: the filter dropped it live
            self.note = None
        QApplication.restoreOverrideCursor()
        station = self.station
        if not shiboken6.isValid(station):
            return  # the window went away meanwhile (a rebuild): nothing to show it on
        station.busy = False
        error, self.error = self.error, None
        if error is not None and not isinstance(error, KioskError):
            raise error
        if error is not None:
            # Said in words; its traceback holds the worker's frames, and this object with them.
            error.with_traceback(None)
        self._show(station, error)
        if self.close_after and shiboken6.isValid(self.window):
            self.window.close()

    def _show(self, station: StationPage, error: KioskError | None) -> None:
        request = self.request
        if error is not None:
            if request is not None and not isinstance(error, OutcomeUnknown):
                station.context.requests.settle(request)
            if self.failed is None or not self.failed(error):
                station.show_error(error)
            ran: Ran[T] = Ran(False, error=error)
        else:
            value: Any = self.value
            if request is not None:
                station.context.requests.settle(request)
            touched = changes_of(value) | self.changes
            success = self.success
            if success:
                station.show_done(success if isinstance(success, str) else success(value))
            if self.done is not None:
                self.done(value)
            route(station, touched, self.own.since(self.mark))
            ran = Ran(True, value, None, touched)
        if self.then is not None:
            self.then(ran)
        resume: Any = getattr(self.window, "after_operation", None)
        if callable(resume):
            resume()


def route(station: StationPage, changes: Changes, own: list[int]) -> None:
    """Hand what changed to the window (which tells the stations that show it), or straight
    to the station when it is not in a main window (a test, a dialog of its own)."""
    router: Any = getattr(station.window(), "route_changes", None)
    if callable(router):
        router(changes, station, own)
    elif changes:
        station.after(changes)


_INPUT = {
    QEvent.Type.KeyPress,
    QEvent.Type.KeyRelease,
    QEvent.Type.ShortcutOverride,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseButtonRelease,
    QEvent.Type.MouseButtonDblClick,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
    QEvent.Type.TouchUpdate,
    QEvent.Type.TouchEnd,
}
_NOTICED = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin}


class _DropInput(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        return event.type() in _INPUT


class _HoldInput(QObject):
    """While a call is out: the app's clicks and keys dropped as they come, and counted (the
    note then says they were not taken)."""

    def __init__(self, op: _Operation[Any]) -> None:
        super().__init__()
        self.op = op
        self.dropped = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in _INPUT:
            return False
        if kind in _NOTICED:
            self.dropped += 1
            if self.dropped == 1:
                self.op.say()
        return True


@contextlib.contextmanager
def waiting(window: QWidget | None) -> Iterator[None]:
    """While a read the window makes on the GUI thread (a live refresh, the refresh after an
    action, opening a station) waits on the database longer than a moment, ``window`` says
    so (``WaitingNote``, from inside the wait)."""
    note = WaitingNote(window)
    try:
        with netwait.watching(note.show_waited):
            yield
    finally:
        note.close()


class WaitingNote:
    """What a window shows while it waits on the database longer than a moment.

    ``show_waited`` puts a note over the window ("Waiting for the event database… 1.4 s") and
    repaints it at once. A station call out on a worker calls it from a timer; a read on the
    GUI thread from inside its wait (a ``kiosk.netwait`` watcher), when no event is processed
    until the wait ends: then ``close`` takes it away and drops the clicks and keys queued
    meanwhile (they were aimed at a window that showed it was busy; acting on them after the
    answer would do what nobody saw).
    """

    def __init__(self, window: QWidget | None) -> None:
        self.window = window
        self.label: QLabel | None = None
        self.waited = 0.0

    def show_waited(self, waited: float, extra: str = "") -> None:
        self.waited = max(self.waited, waited)
        if self.window is None:
            return
        if self.label is None:
            self.label = QLabel(self.window)
            self.label.setObjectName("waitingNote")
            self.label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            self.label.setStyleSheet(
                "background: #fff4ce; color: #222; border: 1px solid #c8a600;"
                " padding: 10px 16px; font-weight: bold;"
            )
        text = _("Waiting for the event database… {seconds} s").format(seconds=f"{waited:.1f}")
        self.label.setText(f"{text}\n{extra}" if extra else text)
        self.label.adjustSize()
        self.label.move(max(0, (self.window.width() - self.label.width()) // 2), 8)
        self.label.show()
        self.label.raise_()
        self.label.repaint()

    def close(self, *, drop_queued: bool = True) -> None:
        if self.label is None:
            return
        if shiboken6.isValid(self.label):  # gone with its window, if that was deleted
            self.label.hide()
            self.label.deleteLater()
        self.label = None
        app = QApplication.instance()
        if app is None or not drop_queued:
            return
        dropper = _DropInput()
        app.installEventFilter(dropper)
        try:
            QApplication.processEvents()
        finally:
            app.removeEventFilter(dropper)
