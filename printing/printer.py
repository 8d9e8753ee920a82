"""Sending a PDF to a printer, always keeping the PDF.

Every printout is written to a spool folder first, so a missing or jammed printer never loses
a ticket or a slip: it can be printed again from the file. When a print command is configured
(``KIOSK_PRINT_COMMAND``, e.g. ``lp -d TICKETS``, with the file appended) the PDF is sent
there; a failure is reported in words and the file stays.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kiosk.db import default_data_dir
from kiosk.i18n import _

ENV_COMMAND = "KIOSK_PRINT_COMMAND"
ENV_SPOOL = "KIOSK_SPOOL_DIR"


@dataclass(frozen=True)
class PrintOutcome:
    path: Path
    printed: bool
    message: str


@dataclass(frozen=True)
class Printer:
    spool_dir: Path
    command: tuple[str, ...] = ()

    @classmethod
    def from_environment(cls) -> Printer:
        spool = os.environ.get(ENV_SPOOL) or str(default_data_dir() / "printouts")
        command = tuple(shlex.split(os.environ.get(ENV_COMMAND, "")))
        return cls(Path(spool), command)

    def path_for(self, name: str) -> Path:
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        return self.spool_dir / name

    def send(self, path: Path) -> PrintOutcome:
        if not self.command:
            return PrintOutcome(
                path, False, _("Saved as {path} (no printer configured).").format(path=path)
            )
        try:
            result = subprocess.run(
                [*self.command, str(path)], capture_output=True, text=True, timeout=20, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            return PrintOutcome(
                path,
                False,
                _("The print command could not run ({reason}); the PDF is kept at {path}.").format(
                    reason=error, path=path
                ),
            )
        if result.returncode != 0:
            reason = (result.stderr or result.stdout).strip() or f"exit {result.returncode}"
            return PrintOutcome(
                path,
                False,
                _("Printing failed ({reason}); the PDF is kept at {path}.").format(
                    reason=reason, path=path
                ),
            )
        return PrintOutcome(path, True, _("Sent to the printer."))
