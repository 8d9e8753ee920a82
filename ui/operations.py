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

Anki's ``CollectionOp`` does the same for its screens; this is the synchronous version (a
service call at a desk takes milliseconds, and Qt objects must stay on the main thread).

When the network is slow or silently dropping packets the call still runs here, but it can
never hang: a station's every wait on the database has a deadline (``kiosk.netwait``: three
seconds a round trip, then the error in words). While it waits longer than 0.3 s a note on
the window says so and counts the seconds (``WaitingNote``, repainted from the wait itself:
no event is processed meanwhile, so no timer or click can run into the half-done action),
and what was typed or clicked during that wait is dropped afterwards instead of acting on a
screen the user did not see: the station refuses input while it waits. No worker thread:
Python's collector would finalise Qt objects on it (``ui.live``), and a desk action is one
short transaction, bounded now.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from kiosk import netwait
from kiosk.changeset import NOTHING, Changes
from kiosk.errors import KioskError, OutcomeUnknown
from kiosk.i18n import _

if TYPE_CHECKING:
    from ui.stations.base import StationPage

T = TypeVar("T")


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


def run(
    station: StationPage,
    call: Callable[[], T],
    *,
    success: str | Callable[[T], str] = "",
    done: Callable[[T], None] | None = None,
    failed: Callable[[KioskError], bool | None] | None = None,
    request: Hashable | None = None,
    changes: Changes = NOTHING,
) -> Ran[T]:
    """Run ``call`` (a service call) for ``station``.

    On success: ``success`` (the sentence, or a function of the answer) is shown, ``done``
    updates the station's own state from the answer, and then the changes are routed, so the
    station refreshes once with its new state. On a ``KioskError``: ``failed`` first, when
    given; unless it returns True the station shows the error in words. ``request`` is the
    subject of ``context.requests`` whose id the call uses; ``changes`` adds to what the
    answer says (for a service whose answer carries none).
    """
    if station.busy:
        return Ran(False)
    own = station.context.app.database.own_commits
    mark = own.mark()
    station.busy = True
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        with waiting(station.window()):
            value = call()
    except KioskError as error:
        if request is not None and not isinstance(error, OutcomeUnknown):
            station.context.requests.settle(request)
        if failed is None or not failed(error):
            station.show_error(error)
        return Ran(False, error=error)
    finally:
        QApplication.restoreOverrideCursor()
        station.busy = False
    if request is not None:
        station.context.requests.settle(request)
    touched = changes_of(value) | changes
    if success:
        station.show_done(success if isinstance(success, str) else success(value))
    if done is not None:
        done(value)
    route(station, touched, own.since(mark))
    return Ran(True, value, None, touched)


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


class _DropInput(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        return event.type() in _INPUT


@contextlib.contextmanager
def waiting(window: QWidget | None) -> Iterator[None]:
    """While the block waits on the database longer than a moment, ``window`` says so
    (``WaitingNote``): a station action (``run``), and the reads a window makes by itself
    (a live refresh, opening a station)."""
    note = WaitingNote(window)
    try:
        with netwait.watching(note.show_waited):
            yield
    finally:
        note.close()


class WaitingNote:
    """What a station shows while an action waits on the database longer than a moment.

    ``show_waited`` is a ``kiosk.netwait`` watcher: called from inside the wait, it puts a
    note over the window ("Waiting for the event database… 1.4 s") and repaints it at once,
    since no event is processed until the wait ends. ``close`` takes it away and, when it
    was shown, drops the clicks and keys queued meanwhile (they were aimed at a window that
    showed it was busy; acting on them after the answer would do what nobody saw).
    """

    def __init__(self, window: QWidget | None) -> None:
        self.window = window
        self.label: QLabel | None = None
        self.waited = 0.0

    def show_waited(self, waited: float) -> None:
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
        self.label.setText(
            _("Waiting for the event database… {seconds} s").format(seconds=f"{waited:.1f}")
        )
        self.label.adjustSize()
        self.label.move(max(0, (self.window.width() - self.label.width()) // 2), 8)
        self.label.show()
        self.label.raise_()
        self.label.repaint()

    def close(self) -> None:
        if self.label is None:
            return
        self.label.hide()
        self.label.deleteLater()
        self.label = None
        app = QApplication.instance()
        if app is None:
            return
        dropper = _DropInput()
        app.installEventFilter(dropper)
        try:
            QApplication.processEvents()
        finally:
            app.removeEventFilter(dropper)
