"""Live updates from the other laptops, and the banner when the event database is away.

``LiveLink`` drives a ``kiosk.changes.ChangeWatcher`` from a timer on the main thread. On
PostgreSQL the watcher LISTENs and the server pushes every commit's counter value; the timer
only looks at the socket (a zero-timeout select, nothing sent) every 100 ms, so another
station's change shows within a few tenths of a second and an idle station costs the server
nothing. On SQLite, or where LISTEN is refused, it reads the counter once a second. The watcher
never blocks, so the window stays responsive even while the venue LAN is down. The link emits
``changed`` when another station committed something, and ``reachability`` when the database
stops or starts answering. No Python thread here: Qt objects finalised by Python's collector
on a worker thread crash the app (a station's call runs on one with the collector off,
``ui.operations``); a server given by host name is looked up by Qt's own resolver
(``HostLookup``), whose threads run no Python. While a station call of the window is out the
link holds its reading (``HOLD_MS``), so that the call's own commit is expected first.

A station that acted has refreshed already (``ui.operations``), and tells the link which
counter values its commits reached (``expect``): when the counter moves by those alone, that
is the station's own echo and ``changed`` is not emitted, so nothing is read twice.
"""

from __future__ import annotations

from PySide6.QtCore import SLOT, QObject, QTimer, Signal, Slot
from PySide6.QtNetwork import QHostInfo
from PySide6.QtWidgets import QLabel, QWidget

from kiosk.changes import ChangeWatcher
from kiosk.db import Database
from kiosk.i18n import _
from ui.operations import running
from ui.timing import every


class HostLookup(QObject):
    """A ``kiosk.changes.Lookup`` by ``QHostInfo``: the name is resolved on Qt's own threads
    and the answer comes back to this object on the main thread, as an event."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._id = -1
        self._result: tuple[tuple[str, ...], str] | None = None

    def start(self, host: str) -> None:
        self.cancel()
        self._id = QHostInfo.lookupHost(host, self, SLOT("_found(QHostInfo)"))

    @Slot(QHostInfo)
    def _found(self, info: QHostInfo) -> None:
        if info.lookupId() != self._id:
            return  # an answer to a lookup given up
        addresses = tuple(dict.fromkeys(address.toString() for address in info.addresses()))
        self._result = (addresses, "" if addresses else info.errorString())

    def result(self) -> tuple[tuple[str, ...], str] | None:
        return self._result

    def cancel(self) -> None:
        if self._id >= 0 and self._result is None:
            QHostInfo.abortHostLookup(self._id)
        self._id, self._result = -1, None


# How soon the link looks again while a station call of its window is out.
HOLD_MS = 50


class LiveLink(QObject):
    changed = Signal()
    reachability = Signal(bool, str)  # reachable, why not (one line from the driver)

    def __init__(self, database: Database, parent: QObject | None = None, interval: float = 1.0):
        super().__init__(parent)
        self.lookup = HostLookup(self)
        self.watcher = ChangeWatcher(
            database.engine,
            interval=every(round(interval * 1000)) / 1000,
            tick=every(100) / 1000,
            check_after=every(30_000) / 1000,
            lookup=self.lookup,
        )
        self.value: int | None = None
        self.reachable: bool | None = None
        self.error = ""
        self.own: set[int] = set()  # counter values this window's own actions reached
        self.echoes = 0  # own echoes not passed on (for tests and the health log)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.poll)

    def expect(self, values: list[int]) -> None:
        """These counter values are this window's own commits, shown already."""
        self.own.update(values)

    def _only_own(self, before: int | None, after: int) -> bool:
        if before is None or after <= before:
            return False
        return all(value in self.own for value in range(before + 1, after + 1))

    def start(self) -> None:
        self.timer.start(0)

    def stop(self) -> None:
        self.timer.stop()
        self.watcher.close()

    def poll(self) -> None:
        window = self.parent()
        if isinstance(window, QWidget) and running(window):
            # A station call of the window is out (ui.operations): its own commit must be
            # expected before the counter is read again, and no refresh may start meanwhile.
            self.timer.start(HOLD_MS)
            return
        reading = self.watcher.poll()
        came_back = False
        if reading.reachable is not None and reading.reachable != self.reachable:
            came_back = reading.reachable and self.reachable is False
            self.reachable = reading.reachable
            self.error = reading.error
            self.reachability.emit(reading.reachable, reading.error)
        if reading.value is not None:
            # The first answer counts as a change too: whatever was committed between the
            # station loading and this first reading must not go unseen.
            moved = reading.value != self.value
            echo = moved and self._only_own(self.value, reading.value)
            self.value = reading.value
            self.own = {value for value in self.own if value > reading.value}
            if echo and not came_back:
                self.echoes += 1
            elif moved or came_back:
                self.changed.emit()
        self.timer.start(reading.delay_ms)


class ConnectionBanner(QLabel):
    """Across the window while the event database cannot be reached; gone once it answers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connection_banner")
        self.setWordWrap(True)
        self.setStyleSheet(
            "QLabel#connection_banner { background: #fff3cd; color: #5c3d00; "
            "border-bottom: 2px solid #e0a800; padding: 8px 16px; font-weight: bold; }"
        )
        self.setVisible(False)

    def show_state(self, reachable: bool | None, error: str) -> None:
        if reachable is not False:
            self.setVisible(False)
            return
        text = _(
            "The event database cannot be reached; retrying every few seconds. Keep working: "
            "what you type stays on screen, and an action that failed can be tried again "
            "once this message is gone."
        )
        self.setText(text)
        self.setToolTip(error)
        self.setVisible(True)
