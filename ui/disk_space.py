"""Warning before the disk runs out, and telling the dashboard how much room each laptop has.

Every ten seconds (``ui.timing.every``, so the soak can speed it up) ``DiskWatch`` looks at
the free space of every folder this laptop writes to: the event database when it is a local
file, the print spool, the backup folder, the app's data folder (crash reports, drafts). When
the least of them falls below ``Settings.low_space_mb`` (default 200 MB) the window shows a
yellow ``DiskBanner`` saying where and how much, before anything fails; when a write has
failed on a full disk the station's own message says so, and the banner stays until there is
room again. ``shutil.disk_usage`` is one ``statvfs`` per folder: nothing to keep flat.

A signed-in station also reports the figure to the event database once a minute
(``measured``; ``stations.report_station``, one upsert, neither audited nor counted as a
change), so the coordinator's dashboard shows every laptop's free space. A failed report is
ignored: the local banner does not need it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QWidget

from kiosk.storage import SpaceReport, low_space_warning, lowest_space
from ui.timing import every, scale

CHECK_EVERY_MS = 10_000
REPORT_EVERY_S = 60.0


class DiskBanner(QLabel):
    """Across the window while a disk this laptop writes to is nearly full."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("disk_banner")
        self.setWordWrap(True)
        self.setStyleSheet(
            "QLabel#disk_banner { background: #fff3cd; color: #5c3d00; "
            "border-bottom: 2px solid #e0a800; padding: 8px 16px; font-weight: bold; }"
        )
        self.setVisible(False)

    def show_warning(self, text: str) -> None:
        self.setText(text)
        self.setVisible(bool(text))


class DiskWatch(QObject):
    """Checks the folders' free space on a timer; ``warning`` carries the sentence ("" = room
    enough) and ``measured`` a report once a minute (for the dashboard heartbeat)."""

    warning = Signal(str)
    measured = Signal(object)  # SpaceReport

    def __init__(
        self,
        folders: Callable[[], list[Path]],
        threshold: Callable[[], int],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._folders = folders
        self._threshold = threshold
        self.text = ""
        self.last: SpaceReport | None = None
        self._reported = 0.0
        self.timer = QTimer(self)
        self.timer.setInterval(every(CHECK_EVERY_MS))
        self.timer.timeout.connect(self.check)

    def start(self) -> None:
        self.check()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def check(self, *, report: bool = False) -> SpaceReport | None:
        """Measure now; ``report`` sends the figure to the dashboard whatever the minute."""
        found = lowest_space(self._folders())
        self.last = found
        text = low_space_warning(found, self._threshold())
        if text != self.text:
            self.text = text
            self.warning.emit(text)
        now = time.monotonic()
        if found is not None and (report or now - self._reported >= REPORT_EVERY_S * scale()):
            self._reported = now
            self.measured.emit(found)
        return found
