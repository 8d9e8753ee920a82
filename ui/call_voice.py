"""Plays the spoken call (``kiosk.callvoice`` joins it) through whatever this laptop has.

The player takes, in order: Qt Multimedia's ``QSoundEffect`` (the PySide6-Addons wheel the
app installs) when it sees an audio output;
on Windows the standard library's ``winsound``; elsewhere a system player on the PATH
(``paplay``, ``pw-play``, ``aplay``, macOS ``afplay``) run as a child process. None of them:
the call is shown only, and the display says so to the staff. Nothing blocks the window: a
player is started and left to play; a call that comes while another is playing waits for
its end (its length is known), so two calls never talk over each other. A player that does
not end is stopped after ``STUCK_AFTER_MS``.

``requests`` keeps every WAV asked for, so tests count the plays without speakers, and the
offscreen platform (the tests') never starts a real player unless given a ``command``.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QTemporaryDir, QTimer, QUrl
from PySide6.QtGui import QGuiApplication

from kiosk.i18n import _

COMMANDS = (("paplay",), ("pw-play",), ("aplay", "-q"), ("afplay",))
AFTER_MS = 300  # between two queued calls
STUCK_AFTER_MS = 15_000


class CallPlayer(QObject):
    def __init__(
        self, parent: QObject | None = None, *, command: Sequence[str] | None = None
    ) -> None:
        """``command``: a player to run with the WAV file's path appended (for a bank's own
        player, and the tests); else the best this laptop has."""
        super().__init__(parent)
        self.requests: list[bytes] = []
        self._queue: deque[tuple[bytes, float]] = deque()
        self._playing = False
        self._dir = QTemporaryDir()
        self._count = 0
        self._files: list[Path] = []
        self._effect: object | None = None
        self._process: QProcess | None = None
        self._next = QTimer(self)
        self._next.setSingleShot(True)
        self._next.timeout.connect(self._done)
        self._stuck = QTimer(self)
        self._stuck.setSingleShot(True)
        self._stuck.setInterval(STUCK_AFTER_MS)
        self._stuck.timeout.connect(self._kill)
        self.command: tuple[str, ...] = ()
        self.backend = self._choose(command)

    def _choose(self, command: Sequence[str] | None) -> str:
        if os.environ.get("KIOSK_SOUND", "1") == "0":
            return ""
        if command:
            self.command = tuple(command)
            return "command"
        if QGuiApplication.platformName() == "offscreen":
            return ""  # the tests' screen: no real player, ``requests`` says what was asked
        try:
            from PySide6.QtMultimedia import QMediaDevices

            if QMediaDevices.audioOutputs():
                return "qt"
        except ImportError:  # a Qt without Qt Multimedia (an install not from the lock)
            pass
        if sys.platform == "win32":
            return "winsound"
        for candidate in COMMANDS:
            found = shutil.which(candidate[0])
            if found:
                self.command = (found, *candidate[1:])
                return "command"
        return ""

    def available(self) -> bool:
        return bool(self.backend) and self._dir.isValid()

    def play(self, wav: bytes, seconds: float) -> None:
        """Play ``wav`` (``seconds`` long) now, or after the call playing now."""
        self.requests.append(wav)
        if not self.available():
            return
        self._queue.append((wav, seconds))
        if not self._playing:
            self._start()

    def _start(self) -> None:
        wav, seconds = self._queue.popleft()
        self._count += 1
        path = Path(self._dir.path()) / f"call-{self._count}.wav"
        try:
            path.write_bytes(wav)
        except OSError:
            self._queue.clear()  # a full or missing temporary folder: shown, not spoken
            return
        self._files.append(path)
        self._playing = True
        self._next.start(int(seconds * 1000) + AFTER_MS)
        if self.backend == "qt":
            self._play_qt(path)
        elif self.backend == "winsound":
            import winsound  # type: ignore[import-not-found,unused-ignore]

            flags = winsound.SND_FILENAME | winsound.SND_ASYNC | winsound.SND_NODEFAULT  # type: ignore[attr-defined,unused-ignore]
            winsound.PlaySound(str(path), flags)  # type: ignore[attr-defined,unused-ignore]
        else:
            self._play_command(path)

    def _play_qt(self, path: Path) -> None:
        from PySide6.QtMultimedia import QSoundEffect

        effect = QSoundEffect(self)
        effect.setSource(QUrl.fromLocalFile(str(path)))  # a new file: no cached sample
        effect.play()
        old, self._effect = self._effect, effect
        if isinstance(old, QSoundEffect):
            old.deleteLater()

    def _play_command(self, path: Path) -> None:
        old = self._process
        if old is not None:  # its time is up: ended, or stuck and killed now
            self._kill()
            old.deleteLater()
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        # A player that ends, or cannot start (not installed, no device): the next call
        # still comes when this one's time is up.
        process.finished.connect(lambda *_args: self._stuck.stop())
        process.errorOccurred.connect(lambda *_args: self._stuck.stop())
        self._process = process
        process.start(self.command[0], [*self.command[1:], str(path)])
        self._stuck.start()

    def _done(self) -> None:
        """The call has been played: the next one, and the files no player holds any more."""
        self._playing = False
        while len(self._files) > 1:
            self._files.pop(0).unlink(missing_ok=True)
        if self._queue:
            self._start()

    def _kill(self) -> None:
        process = self._process
        if process is not None and process.state() != QProcess.ProcessState.NotRunning:
            process.kill()
            process.waitForFinished(1000)

    def stop(self) -> None:
        """Silence and forget: the display is closing."""
        self._queue.clear()
        self._next.stop()
        self._stuck.stop()
        self._playing = False
        self._kill()
        self._process = None
        effect = self._effect
        if effect is not None:
            effect.stop()  # type: ignore[attr-defined]
        if self.backend == "winsound":
            import winsound  # type: ignore[import-not-found,unused-ignore]

            winsound.PlaySound(None, 0)  # type: ignore[attr-defined,unused-ignore]

    def describe(self) -> str:
        """What staff are told when the laptop cannot speak the call ("" when it can)."""
        if os.environ.get("KIOSK_SOUND", "1") == "0":
            return _("Sound is off on this laptop (KIOSK_SOUND=0): calls are shown only.")
        if not self.available():
            return _("This laptop has no sound output: calls are shown only.")
        return ""
