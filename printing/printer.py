"""Sending a PDF to a printer, always keeping the PDF.

Every printout is written to a spool folder first, so a missing or jammed printer never loses
a ticket or a slip: it can be printed again from the file. ``KIOSK_PRINTER`` says where it
goes next:

- unset or ``pdf``: nowhere, the spool folder only;
- ``command:lp -d SLIPS``: the platform's print command, with the file appended
  (``KIOSK_PRINT_COMMAND=lp -d SLIPS`` still means the same);
- ``escpos:tcp://192.168.1.50:9100`` or ``escpos:/dev/usb/lp0``: an ESC/POS thermal printer
  (``printing/escpos.py``); on Windows ``escpos:COM3``, the serial or USB-serial port;
- ``spooler:`` (Windows): the Windows print spooler, through the program registered to print
  PDFs (``os.startfile(path, "print")``, the default printer), or ``spooler:PRINTER NAME``
  for a named printer (the ``printto`` verb). docs/install.md says how to set it up.

A failure is reported in words and the file stays. ``PrintOutcome`` says what became of the
printout apart from the action that made it (a check-in or a slip stands either way): printed,
saved only (no printer is set up), or a ``PrintProblem`` with the reason in words, which the
stations show as their own amber message with a key to print again. ``KIOSK_SLIP_PAPER``
(``80mm`` or ``a6``) chooses the slip layout to match the printer.
"""

from __future__ import annotations

import enum
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from kiosk.db import default_data_dir
from kiosk.errors import KioskError
from kiosk.files import private_folder
from kiosk.i18n import _
from kiosk.storage import file_error
from printing.escpos import (
    TIMEOUT,
    EscPosError,
    EscPosUnreachable,
    Target,
    parse_target,
    print_pdf,
)
from printing.paper import Paper

ENV_PRINTER = "KIOSK_PRINTER"
ENV_COMMAND = "KIOSK_PRINT_COMMAND"
ENV_SPOOL = "KIOSK_SPOOL_DIR"
ENV_PAPER = "KIOSK_SLIP_PAPER"
COMMAND_TIMEOUT = 20.0  # a print command hands the job to the spooler; it answers at once


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


class PrintProblem(enum.StrEnum):
    NOT_CONNECTED = "not_connected"  # no print command, no device, no answer: nothing printed
    FAILED = "failed"  # the printer or its command answered with an error
    SETTING = "setting"  # KIOSK_PRINTER (or KIOSK_SLIP_PAPER) holds a value not understood
    NOT_SAVED = "not_saved"  # the PDF itself could not be written


@dataclass(frozen=True)
class PrintOutcome:
    """What became of one printout. ``message`` is the whole sentence (the command line);
    a station shows ``title`` big, then ``sentence`` and words of its own about the kept PDF."""

    path: Path
    printed: bool
    message: str
    problem: PrintProblem | None = None  # None: printed, or saved with no printer set up
    reason: str = ""  # what went wrong, in words, without the file's path

    @property
    def failed(self) -> bool:
        return self.problem is not None

    @property
    def title(self) -> str:
        """What went wrong in a few words (a station's big line)."""
        if self.problem is None:
            return self.message
        return {
            PrintProblem.NOT_CONNECTED: _("Printer not connected"),
            PrintProblem.FAILED: _("Printing failed"),
            PrintProblem.SETTING: _("Printer setting not understood"),
            PrintProblem.NOT_SAVED: _("The PDF could not be saved"),
        }[self.problem]

    @property
    def sentence(self) -> str:
        """The reason as a sentence of its own, capitalised and ended."""
        if not self.reason:
            return ""
        return _("{reason}.").format(reason=self.reason[:1].upper() + self.reason[1:])

    @property
    def headline(self) -> str:
        """Title and reason in one line, as the command line prints it."""
        if self.problem is None:
            return self.message
        return {
            PrintProblem.NOT_CONNECTED: _("Printer not connected: {reason}"),
            PrintProblem.FAILED: _("Printing failed: {reason}"),
            PrintProblem.SETTING: _("Printer setting not understood: {reason}"),
            PrintProblem.NOT_SAVED: _("The PDF could not be saved: {reason}"),
        }[self.problem].format(reason=self.reason)


def failed(path: Path, problem: PrintProblem, reason: str) -> PrintOutcome:
    """The outcome of a printout that did not come out, with its sentence for the terminal."""
    reason = reason.strip().rstrip("。.")
    outcome = PrintOutcome(path, False, "", problem, reason)
    if problem == PrintProblem.NOT_SAVED:
        message = outcome.headline + "."
    else:
        message = outcome.headline + ". " + _("The PDF is kept at {path}.").format(path=path)
    return PrintOutcome(path, False, message, problem, reason)


def not_saved(path: Path, error: OSError | KioskError) -> PrintOutcome:
    """The PDF could not be written (a full disk, a missing folder): nothing to print. A
    disk's trouble is said in words with what to do (``kiosk.storage.file_error``)."""
    reason = str(file_error(error, path)) if isinstance(error, OSError) else str(error)
    return failed(path, PrintProblem.NOT_SAVED, reason)


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
    # Windows' print spooler: "" the default printer, else the printer's name; None: not used.
    spooler: str | None = None
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
        if kind == "spooler":
            if sys.platform != "win32":
                raise PrinterSettingError(
                    _(
                        "{name}={value}: the print spooler is Windows'; on this system use "
                        "command:lp -d PRINTER."
                    ).format(name=ENV_PRINTER, value=value)
                )
            return cls(spool_dir, spooler=rest.strip())
        if kind == "command":
            try:
                command = split_command(rest)
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
        return (
            not self.command and self.escpos is None and self.spooler is None and not self.problem
        )

    def path_for(self, name: str) -> Path:
        """Where to write printout ``name``: in the spool folder, kept 0700 on Linux/macOS
        (a looser one tightened, with a note) so each slip and statement PDF written into it
        is 0600 (``kiosk.files.atomic_path``): they carry customers' names and slip codes."""
        private_folder(self.spool_dir)
        return self.spool_dir / name

    def send(self, path: Path) -> PrintOutcome:
        """Print the spooled ``path``; the outcome says in words what happened."""
        if self.problem:
            return failed(path, PrintProblem.SETTING, self.problem)
        if self.escpos is not None:
            try:
                print_pdf(path, self.escpos, self.timeout)
            except EscPosUnreachable as error:
                return failed(path, PrintProblem.NOT_CONNECTED, str(error))
            except EscPosError as error:
                return failed(path, PrintProblem.FAILED, str(error))
            return PrintOutcome(path, True, _("Sent to the printer."))
        if self.spooler is not None:
            return self._spool(path, self.spooler)
        if not self.command:
            return PrintOutcome(
                path, False, _("Saved as {path} (no printer configured).").format(path=path)
            )
        command = self.command[0]
        try:
            result = subprocess.run(
                [*self.command, str(path)],
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        except FileNotFoundError:
            return failed(
                path,
                PrintProblem.NOT_CONNECTED,
                _("the print command “{command}” is not installed on this laptop").format(
                    command=command
                ),
            )
        except PermissionError:
            return failed(
                path,
                PrintProblem.NOT_CONNECTED,
                _("this user may not run the print command “{command}”").format(command=command),
            )
        except subprocess.TimeoutExpired:
            return failed(
                path,
                PrintProblem.NOT_CONNECTED,
                _("the print command “{command}” got no answer within {seconds:g} s").format(
                    command=command, seconds=COMMAND_TIMEOUT
                ),
            )
        except OSError as error:
            return failed(
                path,
                PrintProblem.NOT_CONNECTED,
                _("the print command “{command}” could not run ({reason})").format(
                    command=command, reason=error.strerror or error
                ),
            )
        if result.returncode != 0:
            said = [line.strip() for line in (result.stderr or result.stdout).splitlines()]
            said = [line for line in said if line]
            return failed(
                path,
                PrintProblem.FAILED,
                _("the print command “{command}” answered: {output}").format(
                    command=command, output=said[0]
                )
                if said
                else _("the print command “{command}” stopped with code {code}").format(
                    command=command, code=result.returncode
                ),
            )
        return PrintOutcome(path, True, _("Sent to the printer."))

    def _spool(self, path: Path, printer: str) -> PrintOutcome:
        """Hand ``path`` to the Windows print spooler through the program registered to print
        PDFs (Windows' shell verbs ``print`` and ``printto``): it answers at once, the job
        then waits in the spooler's queue like any other."""
        try:
            if printer:
                os.startfile(str(path), "printto", f'"{printer}"')  # type: ignore[attr-defined]
            else:
                os.startfile(str(path), "print")  # type: ignore[attr-defined]
        except OSError as error:
            return failed(
                path,
                PrintProblem.NOT_CONNECTED,
                _(
                    "Windows could not print the PDF ({reason}); install a PDF reader that "
                    "prints (docs/install.md) or check the printer's name"
                ).format(reason=error.strerror or error),
            )
        return PrintOutcome(path, True, _("Sent to the printer."))


def split_command(text: str) -> tuple[str, ...]:
    """The words of a print command. On Windows a path keeps its backslashes and may be
    quoted (``"C:\\Program Files\\SumatraPDF\\SumatraPDF.exe" -print-to-default``); elsewhere
    the shell's rules. Raises ``ValueError`` for an unbalanced quote."""
    if sys.platform != "win32":
        return tuple(shlex.split(text))
    words = shlex.split(text, posix=False)
    return tuple(w[1:-1] if len(w) >= 2 and w[0] == w[-1] == '"' else w for w in words)


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
