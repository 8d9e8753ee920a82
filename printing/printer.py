"""Sending a PDF to a printer, always keeping the PDF.

Every printout is written to a spool folder first, so a missing or jammed printer never loses
a ticket or a slip: it can be printed again from the file. ``KIOSK_PRINTER`` says where it
goes next:

- unset or ``pdf``: nowhere, the spool folder only;
- ``command:lp -d SLIPS``: the platform's print command, with the file appended
  (``KIOSK_PRINT_COMMAND=lp -d SLIPS`` still means the same);
- ``escpos:tcp://192.168.1.50:9100`` or ``escpos:/dev/usb/lp0``: an ESC/POS thermal printer
  (``printing/escpos.py``).

A failure is reported in words and the file stays. ``KIOSK_SLIP_PAPER`` (``80mm`` or ``a6``)
chooses the slip layout to match the printer.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kiosk.db import default_data_dir
from kiosk.errors import KioskError
from kiosk.i18n import _
from printing.escpos import TIMEOUT, EscPosError, Target, parse_target, print_pdf
from printing.paper import Paper

ENV_PRINTER = "KIOSK_PRINTER"
ENV_COMMAND = "KIOSK_PRINT_COMMAND"
ENV_SPOOL = "KIOSK_SPOOL_DIR"
ENV_PAPER = "KIOSK_SLIP_PAPER"


class PrinterSettingError(KioskError):
    """``KIOSK_PRINTER`` or ``KIOSK_SLIP_PAPER`` holds a value this kiosk does not understand."""


def slip_paper_from_environment() -> Paper:
    """``KIOSK_SLIP_PAPER``: ``80mm`` (the default) or ``a6``, any case."""
    value = os.environ.get(ENV_PAPER, "").strip().lower()
    if not value:
        return Paper.ROLL_80MM
    try:
        return Paper(value)
    except ValueError:
        raise PrinterSettingError(
            _("{name}={value} is not a slip paper; use 80mm (thermal roll) or a6.").format(
                name=ENV_PAPER, value=value
            )
        ) from None


@dataclass(frozen=True)
class PrintOutcome:
    path: Path
    printed: bool
    message: str


@dataclass(frozen=True)
class Printer:
    """Where printouts go: always ``spool_dir``, then a command or an ESC/POS printer.

    ``problem`` holds the sentence for a printer setting that could not be understood: the
    station still opens and saves every PDF, and each print says what to fix.
    """

    spool_dir: Path
    command: tuple[str, ...] = ()
    escpos: Target | None = None
    problem: str = ""
    timeout: float = TIMEOUT

    @staticmethod
    def spool_from_environment() -> Path:
        """``KIOSK_SPOOL_DIR``, else ``printouts`` in the app's data folder."""
        return Path(os.environ.get(ENV_SPOOL) or str(default_data_dir() / "printouts"))

    @classmethod
    def from_environment(cls) -> Printer:
        """The printer the environment describes; never raises (see ``problem``)."""
        spool = cls.spool_from_environment()
        try:
            return cls.from_setting(printer_setting_from_environment(), spool)
        except PrinterSettingError as error:
            return cls(spool, problem=str(error))

    @classmethod
    def from_setting(cls, value: str, spool_dir: Path) -> Printer:
        """Parse a ``KIOSK_PRINTER`` value; raises ``PrinterSettingError`` with a sentence."""
        kind, _colon, rest = value.strip().partition(":")
        kind = kind.strip().lower()
        if kind in ("", "pdf") and not rest.strip():
            return cls(spool_dir)
        if kind == "command":
            try:
                command = tuple(shlex.split(rest))
            except ValueError as error:  # an unbalanced quote
                raise PrinterSettingError(_bad_printer(value, str(error))) from None
            if not command:
                raise PrinterSettingError(
                    _("{name}={value} names no print command, e.g. command:lp -d SLIPS.").format(
                        name=ENV_PRINTER, value=value
                    )
                )
            return cls(spool_dir, command=command)
        if kind == "escpos":
            try:
                return cls(spool_dir, escpos=parse_target(rest))
            except ValueError as error:
                raise PrinterSettingError(_bad_printer(value, str(error))) from None
        raise PrinterSettingError(_bad_printer(value, ""))

    @property
    def spool_only(self) -> bool:
        """No printer is set up on purpose: the kept PDF is the printout (demo, rehearsal)."""
        return not self.command and self.escpos is None and not self.problem

    def path_for(self, name: str) -> Path:
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        return self.spool_dir / name

    def send(self, path: Path) -> PrintOutcome:
        """Print the spooled ``path``; the outcome says in words what happened."""
        if self.problem:
            return PrintOutcome(
                path,
                False,
                _("{problem} The PDF is kept at {path}.").format(problem=self.problem, path=path),
            )
        if self.escpos is not None:
            try:
                print_pdf(path, self.escpos, self.timeout)
            except EscPosError as error:
                return PrintOutcome(
                    path,
                    False,
                    _("{problem} The PDF is kept at {path}.").format(problem=error, path=path),
                )
            return PrintOutcome(path, True, _("Sent to the printer."))
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


def printer_setting_from_environment() -> str:
    """``KIOSK_PRINTER``, or ``command:`` plus the older ``KIOSK_PRINT_COMMAND``."""
    value = os.environ.get(ENV_PRINTER, "").strip()
    if value:
        return value
    command = os.environ.get(ENV_COMMAND, "").strip()
    return f"command:{command}" if command else "pdf"


def _bad_printer(value: str, reason: str) -> str:
    if reason:
        return _("{name}={value} is not understood: {reason}").format(
            name=ENV_PRINTER, value=value, reason=reason
        )
    return _(
        "{name}={value} is not understood; use pdf, command:PRINT COMMAND, "
        "escpos:tcp://HOST:PORT or escpos:/dev/usb/lp0."
    ).format(name=ENV_PRINTER, value=value)
