"""Automatic backups of the event database, with their state in the window's header.

A single-shot QTimer on the main thread fires every few minutes (``Settings.backup_minutes``)
and takes a backup into the chosen folder (``kiosk.backup``: VACUUM INTO for SQLite, a few
milliseconds at event size, pg_dump for PostgreSQL). No worker thread: Python's garbage
collector run on one may finalise Qt objects there and crash the app, and a backup this short
does not need one. A failure (USB stick pulled out, folder read-only) is one sentence in the
tooltip and the label turns red; the next try comes at the next interval.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QWidget

from kiosk.backup import BackupResult, backup
from kiosk.db import Database
from kiosk.errors import KioskError
from kiosk.i18n import _
from ui.settings import Settings
from ui.timing import every


class BackupStatus(QLabel):
    """The header's backup indicator; backs up on a timer when a folder is set."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        parent: QWidget | None = None,
        *,
        signing_key: Callable[[], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("backup_status")
        self.database = database
        self.settings = settings
        # The event's signing key when a station of this window holds it unlocked (the
        # activation desk, once it issued a slip): each backup then signs a checkpoint of the
        # audit chain first, as ``kiosk backup`` does with the passphrase (issue #26). The
        # window never asks for the passphrase for a backup: without the key it only copies
        # the checkpoints already signed.
        self.signing_key = signing_key
        self.last: BackupResult | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.backup_now)
        self.configure()

    def configure(self) -> None:
        """Apply the settings: start, move or stop the timer."""
        self.timer.stop()
        folder = self.settings.backup_folder
        self.setVisible(bool(folder))
        if not folder:
            return
        if self.last is None and not self.text():
            self.setText(_("Backup: on"))
            self.setToolTip(folder)
        interval = every(self.settings.backup_minutes * 60_000) / 1000
        waited = time.time() - self.settings.backup_last
        self.timer.start(int(max(0.0, interval - waited) * 1000))

    def backup_now(self) -> BackupResult | None:
        """One backup now (the timer, or the Back up now button); None when it failed."""
        folder = self.settings.backup_folder
        if not folder:
            return None
        unsigned = self._sign_checkpoint()
        try:
            result = backup(self.database, Path(folder), keep=self.settings.backup_keep)
        except KioskError as error:
            self.setText(_("Backup failed"))
            self.setStyleSheet("color: #b00020; font-weight: bold;")
            self.setToolTip(str(error))
            self.setVisible(True)
            self.timer.start(every(self.settings.backup_minutes * 60_000))
            return None
        self.last = result
        self.settings.backup_last = time.time()
        self.setStyleSheet("")
        self.setText(_("Backup {time}").format(time=time.strftime("%H:%M")))
        self.setToolTip(str(result.path) + (f"\n{unsigned}" if unsigned else ""))
        self.timer.start(every(self.settings.backup_minutes * 60_000))
        return result

    def _sign_checkpoint(self) -> str:
        """Sign a checkpoint when the key is held; "" or why none was signed (the backup goes
        on: it is worth more than its checkpoint)."""
        key = self.signing_key() if self.signing_key is not None else None
        if key is None:
            return ""
        from kiosk.services.checkpoints import sign_checkpoint

        try:
            sign_checkpoint(self.database.unit_of_work(), key, reason="backup")
        except KioskError as error:
            return _("No checkpoint of the audit chain was signed: {reason}").format(reason=error)
        return ""

    def stop(self) -> None:
        self.timer.stop()
