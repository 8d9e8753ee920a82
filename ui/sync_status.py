"""Background push to the central ledger, with its progress in the window's header.

When ``KIOSK_LEDGER`` names a ledger, the app pushes the outbox every minute by running
``kiosk sync push`` as a child process, so a venue with a network is in sync during the event
and the desks never wait for it. A child process rather than a worker thread: Python's garbage
collector, run on a worker thread, may finalise Qt objects there and crash the app; a child
cannot take the window down whatever happens to it. The header shows what is pending, the
progress of a running push, or in words why the ledger cannot be reached; nothing is lost
either way, the outbox just waits for the next try.
"""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QProcess, QProcessEnvironment, QTimer
from PySide6.QtWidgets import QLabel, QWidget

from kiosk.db import ENV_DB, Database
from kiosk.i18n import _, get_language
from ui.timing import every

INTERVAL_MS = 60_000


class SyncStatus(QLabel):
    """The header's sync indicator; pushes in the background when a ledger is configured."""

    def __init__(self, database: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sync_status")
        self.database = database
        self.ledger_url = os.environ.get("KIOSK_LEDGER", "")
        self.process: QProcess | None = None
        self.stopped = False  # the window closed: no push starts after (the 2 s first push)
        self._output = b""
        self.timer = QTimer(self)
        self.timer.setInterval(every(INTERVAL_MS))
        self.timer.timeout.connect(self.push_now)
        self.setVisible(bool(self.ledger_url))
        if self.ledger_url:
            self.setText(_("Sync: waiting"))
            self.timer.start()
            QTimer.singleShot(2_000, self, self.push_now)

    @property
    def running(self) -> bool:
        return self.process is not None

    def push_now(self) -> None:
        if not self.ledger_url or self.running or self.stopped:
            return
        self.setText(_("Sync: pushing…"))
        environment = QProcessEnvironment.systemEnvironment()
        # URLs go through the environment, not the command line other users can list.
        environment.insert(ENV_DB, self.database.url)
        environment.insert("KIOSK_LEDGER", self.ledger_url)
        environment.insert("KIOSK_LANG", get_language())
        process = QProcess(self)
        process.setProcessEnvironment(environment)
        process.readyReadStandardOutput.connect(self._on_output)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)
        self.process = process
        self._output = b""
        # Frozen (the installed build, freeze/), the program is ``kiosk`` itself.
        module = [] if getattr(sys, "frozen", False) else ["-m", "cli.main"]
        process.start(sys.executable, [*module, "sync", "push", "--progress-lines"])

    def _on_output(self) -> None:
        if self.process is None:
            return
        self._output += bytes(self.process.readAllStandardOutput().data())
        *lines, self._output = self._output.split(b"\n")
        for line in lines:
            words = line.decode("utf-8", "replace").split()
            if len(words) == 3 and words[0] == "progress":
                self.setText(_("Sync: {done}/{total}").format(done=words[1], total=words[2]))
            elif len(words) == 4 and words[0] == "pushed":
                sent, rejected = int(words[1]), int(words[3])
                text = _("Sync: up to date")
                if rejected:
                    text = _("Sync: up to date, {n} conflicts").format(n=rejected)
                self.setText(text)
                self.setToolTip(_("{n} entries sent in the last push.").format(n=sent))
            elif words == ["busy"]:
                # Another laptop (or a push from a terminal) is sending the same outbox.
                self.setText(_("Sync: another push is running"))
                self.setToolTip(
                    _(
                        "Another station is pushing this event's entries to the ledger; "
                        "this laptop tries again in a minute."
                    )
                )
            elif len(words) == 2 and words[0] == "held":
                # Governance changes sealed with personal data: a supervisor pushes them
                # with the event passphrase (kiosk sync push).
                self.setText(_("Sync: {n} wait for the passphrase").format(n=int(words[1])))
                self.setToolTip(
                    _(
                        "{n} governance changes carry sealed personal data; a supervisor "
                        "pushes them with the event passphrase (kiosk sync push)."
                    ).format(n=int(words[1]))
                )

    def _on_finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        process = self.process
        if process is None:
            return
        self._on_output()
        if exit_code != 0 or exit_status != QProcess.ExitStatus.NormalExit:
            error = bytes(process.readAllStandardError().data()).decode("utf-8", "replace")
            lines = [line.strip() for line in error.splitlines() if line.strip()]
            self._failed(
                lines[-1] if lines else _("The push stopped (code {code}).").format(code=exit_code)
            )
        self._done()

    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self.process is not None:
            self._failed(self.process.errorString())
            self._done()

    def _failed(self, reason: str) -> None:
        self.setText(_("Sync: ledger not reachable"))
        self.setToolTip(reason)

    def _done(self) -> None:
        if self.process is not None:
            self.process.deleteLater()
        self.process = None

    def stop(self) -> None:
        """Stop the timer and wait for a running push (closing the window or signing out)."""
        self.timer.stop()
        self.stopped = True
        if self.process is not None:
            self.process.waitForFinished(30_000)
