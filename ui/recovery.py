"""When the app closes unexpectedly, the next start says so and brings the station back.

A station that simply vanishes in front of a queue is the worst moment of an event day: staff
do not know what was saved, and the customer at the desk waits. So while the app runs it keeps
a small state file in the per-user data folder (who is signed in, at which station, on which
event database) and Python's ``faulthandler`` writes to a log beside it, which catches even a
crash inside Qt or a C extension (where no Python handler runs). A clean exit removes both.

On the next start, a state file that is still there means the app did not close normally:
the window says so in words, keeps the log on this laptop (``crash-<time>.log``, named in the
message), and asks the staff member who was signed in for their PIN before opening the same
station again. Whatever a station had committed is in the event database; a called customer
is shown again because desks read their called customer from there. Forms that hold typed but
unsaved data keep a draft here (``save_draft``), so the next start can offer it back.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from kiosk.db import default_data_dir, describe_url
from kiosk.files import private_folder, write_text_atomic
from ui.health import append_line, sample

DRAFTS = "drafts"
HEALTH = "health.log"
HEALTH_EVERY_MS = 300_000  # one line every five minutes: about a hundred a day
KEEP_CRASH_LOGS = 20
STALE = 2 * 24 * 3600  # a state file this old whose process number is taken again: forget it


@dataclass(frozen=True)
class Previous:
    """What the last run of the app left behind when it did not close normally."""

    started_at: datetime
    last_seen: datetime
    database_url: str
    staff_no: str | None
    station: str | None
    crash_log: Path | None  # the faulthandler's report, kept; None when it wrote nothing


def _alive(pid: int) -> bool:
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process with that number
        return True
    except OSError:
        return False
    return True


class Recovery:
    """The running app's state file, crash log and drafts in ``folder``.

    Each run has its own state file and log (named by its process number), so a second copy
    of the app on the same laptop (the event window and a booth, say) never takes the other's
    for a crash; ``kind`` keeps the event app's and the booth's apart.
    """

    def __init__(self, folder: Path | None = None, *, kind: str = "app") -> None:
        self._own = folder is None  # in the app's data folder: that is made private too
        base = Path(folder) if folder is not None else default_data_dir() / "recovery"
        self.folder = base / kind
        self._faults: IO[str] | None = None
        self._faults_were_on = False
        self._state: dict[str, Any] = {}

    @property
    def state_path(self) -> Path:
        return self.folder / f"session-{os.getpid()}.json"

    @property
    def faults_path(self) -> Path:
        return self.folder / f"faults-{os.getpid()}.log"

    # -- the life of one run ------------------------------------------------------------------

    def begin(self, database_url: str) -> Previous | None:
        """Start watching this run; returns the previous run if it ended unexpectedly.

        Another copy of the app still running on this laptop is not a crash: then nothing is
        reported and this run keeps its own state file.
        """
        # Drafts hold what staff typed about customers: 0700 folders, so 0600 files.
        if self._own:
            private_folder(default_data_dir())
        private_folder(self.folder.parent)
        private_folder(self.folder)
        previous = self._previous()
        self._state = {
            "pid": os.getpid(),
            "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            # Only to tell the same database again after a crash: never its password.
            "database_url": describe_url(database_url),
            "staff_no": None,
            "station": None,
        }
        self._write()
        return previous

    def watch_faults(self) -> None:
        """Let ``faulthandler`` write a fatal error's report (a crash in Qt or a C extension,
        which no Python handler sees) to this run's log. The process-wide handler: the app
        calls it once at start; tests of the rest leave the test runner's own in place."""
        self._faults_were_on = faulthandler.is_enabled()
        self._faults = self.faults_path.open("w", encoding="utf-8")
        faulthandler.enable(file=self._faults, all_threads=True)

    def log_health(self, database_url: str) -> None:
        """One line of this process's health (``ui.health``) in ``health.log``: after a bad
        day, the trend before a crash is on the laptop next to the crash report. The state
        file's ``last_seen`` moves on too, so the next start says when the app was last alive,
        not when someone last signed in."""
        if self._state:
            append_line(self.folder / HEALTH, {"pid": os.getpid(), **sample(database_url)})
            with contextlib.suppress(OSError):  # alive now: "closed about" within 5 minutes
                self._write()

    def note(self, *, staff_no: str | None, station: str | None, database_url: str) -> None:
        """Who is signed in at which station now (called on every change, a few a day)."""
        wanted = {
            "staff_no": staff_no,
            "station": station,
            "database_url": describe_url(database_url),
        }
        if not self._state or all(self._state.get(k) == v for k, v in wanted.items()):
            return
        self._state.update(wanted)
        with contextlib.suppress(OSError):  # a full disk must not take the station down
            self._write()

    def end(self) -> None:
        """A normal exit: nothing to recover next time."""
        if self._faults is not None:
            faulthandler.disable()
            if self._faults_were_on:  # (python -X faulthandler): back to standard error
                faulthandler.enable(file=sys.__stderr__ or sys.stderr, all_threads=True)
            self._faults.close()
            self._faults = None
            with contextlib.suppress(OSError):
                self.faults_path.unlink()
        with contextlib.suppress(OSError):
            self.state_path.unlink()
        self._state = {}

    def _write(self) -> None:
        state = dict(
            self._state, last_seen=datetime.now().astimezone().isoformat(timespec="seconds")
        )
        write_text_atomic(self.state_path, json.dumps(state, ensure_ascii=False))

    def _previous(self) -> Previous | None:
        """The latest run whose state file is still there although its process is gone."""
        found: list[tuple[datetime, Previous]] = []
        for path in self.folder.glob("session-*.json"):
            pid = path.stem.removeprefix("session-")
            if not pid.isdigit():
                continue
            try:
                state = json.loads(path.read_text(encoding="utf-8"))
                age = time.time() - path.stat().st_mtime
            except (OSError, ValueError):
                state, age = {}, 0.0
            if _alive(int(pid)) and age < STALE:
                continue  # another copy of the app, running now
            crash_log = self._keep_crash_log(self.folder / f"faults-{pid}.log")
            with contextlib.suppress(OSError):
                path.unlink()
            if not isinstance(state, dict) or "started_at" not in state:
                continue
            try:
                started = datetime.fromisoformat(str(state["started_at"]))
                seen = datetime.fromisoformat(str(state.get("last_seen", state["started_at"])))
            except ValueError:
                continue
            previous = Previous(
                started_at=started,
                last_seen=seen,
                database_url=str(state.get("database_url", "")),
                staff_no=state.get("staff_no") or None,
                station=state.get("station") or None,
                crash_log=crash_log,
            )
            found.append((seen, previous))
        return max(found, key=lambda pair: pair[0])[1] if found else None

    def _keep_crash_log(self, faults: Path) -> Path | None:
        """Keep a dead run's fault report under a dated name; None when it wrote nothing."""
        try:
            empty = faults.stat().st_size == 0
        except OSError:
            return None
        if empty:
            with contextlib.suppress(OSError):
                faults.unlink()
            return None
        kept = self.folder / f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{faults.stem[7:]}.log"
        faults.replace(kept)
        for old in sorted(self.folder.glob("crash-*.log"))[:-KEEP_CRASH_LOGS]:
            with contextlib.suppress(OSError):
                old.unlink()
        return kept

    # -- drafts of forms with typed, unsaved data --------------------------------------------

    def _draft_path(self, name: str) -> Path:
        return self.folder / DRAFTS / f"{name}.json"

    def save_draft(self, name: str, data: dict[str, Any]) -> None:
        """Keep what a form holds, so a crash does not lose it (cleared once it is saved)."""
        path = self._draft_path(name)
        with contextlib.suppress(OSError):
            private_folder(path.parent)  # what was typed about a customer: 0600 files
            write_text_atomic(path, json.dumps(data, ensure_ascii=False))

    def load_draft(self, name: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self._draft_path(name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def clear_draft(self, name: str) -> None:
        with contextlib.suppress(OSError):
            self._draft_path(name).unlink()
