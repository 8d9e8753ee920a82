"""ESC/POS thermal receipt printers: the very PDF we keep, printed as a raster image.

The PDF is rasterised at the printer's 203 dpi to 1 bit (``pdftoppm -mono``) and sent as
``GS v 0`` raster bands, rather than as text in the printer's own fonts: many printers have
no Chinese font or the wrong code page, and printing the image of the spooled PDF means the
paper matches the file kept for a reprint. Slips draw their QR on the 203 dpi dot grid, so
each module stays exactly 4 dots through the rasterisation.

Transports: a network printer (``tcp://HOST[:PORT]``, raw port 9100 by default) or a device
file (``/dev/usb/lp0``). Both give up after a timeout; every failure is an ``EscPosError``
whose message is one sentence for the person at the desk.
"""

from __future__ import annotations

import math
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from kiosk.errors import KioskError
from kiosk.i18n import _

DPI = 203
ROLL_DOTS = 576
"""Printable width of 80 mm paper at 203 dpi (72 mm, 72 bytes a row)."""
ROLL_PAPER_DOTS = 648
"""80 mm paper at 203 dpi (640 dots) and a little: pages up to this wide are roll pages."""
BAND_ROWS = 255
"""Rows per ``GS v 0`` block: small enough for the input buffer of cheap printers."""
DEFAULT_PORT = 9100
TIMEOUT = 10.0

INIT = b"\x1b@"  # ESC @: reset the printer's modes
FEED = b"\x1bd\x03"  # ESC d 3: feed three lines so the last row clears the cutter
CUT = b"\x1dVB\x00"  # GS V 66 0: feed to the cutter and cut partially (the slip stays hanging)
RASTER = b"\x1dv0\x00"  # GS v 0 m=0: raster bit image, normal density
_INVERT = bytes(255 - value for value in range(256))


class EscPosError(KioskError):
    """The printer could not be reached or the page could not be prepared."""


class EscPosUnreachable(EscPosError):
    """The printer did not take the job: not there, not answering, or not ours to write to."""


@dataclass(frozen=True)
class Target:
    """Where the printer is: a TCP host and port, or a device file."""

    host: str = ""
    port: int = DEFAULT_PORT
    device: str = ""

    def __str__(self) -> str:
        return f"tcp://{self.host}:{self.port}" if self.host else self.device


def parse_target(text: str) -> Target:
    """``tcp://HOST[:PORT]`` or a device path; a ``ValueError`` says what is wrong."""
    text = text.strip()
    if text.lower().startswith("tcp://"):
        match = re.fullmatch(r"(\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+)(?::(\d{1,5}))?/?", text[6:])
        if not match:
            raise ValueError(
                _("{target} is not tcp://HOST or tcp://HOST:PORT.").format(target=text)
            )
        port = int(match[2] or DEFAULT_PORT)
        if not 0 < port < 65536:
            raise ValueError(
                _("The port in {target} is not between 1 and 65535.").format(target=text)
            )
        return Target(host=match[1].strip("[]"), port=port)
    if not text or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
        raise ValueError(
            _("{target} is neither tcp://HOST:PORT nor a device such as /dev/usb/lp0.").format(
                target=text or '""'
            )
        )
    if sys.platform == "win32" and re.fullmatch(r"(?i)(COM\d{1,3}|LPT\d)", text):
        # A serial or USB-serial port (a USB thermal printer's driver offers one): COM10 and
        # up open only by their device path, so every port is opened that way.
        return Target(device="\\\\.\\" + text.upper())
    return Target(device=text)


def rasterise(pdf: Path) -> list[Image.Image]:
    """Every page of ``pdf`` as a 1-bit image at 203 dpi (``pdftoppm`` from poppler-utils)."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        raise EscPosError(
            _(
                "pdftoppm (poppler-utils) is not installed, so the PDF cannot be sent to a "
                "thermal printer."
            )
        )
    with tempfile.TemporaryDirectory(prefix="kiosk-escpos-") as folder:
        result = subprocess.run(
            [tool, "-r", str(DPI), "-mono", str(pdf), str(Path(folder) / "page")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        files = sorted(Path(folder).glob("page-*.pbm"), key=lambda f: int(f.stem.split("-")[-1]))
        if result.returncode != 0 or not files:
            reason = result.stderr.strip() or f"exit {result.returncode}"
            raise EscPosError(
                _("The PDF could not be rasterised for the thermal printer ({reason}).").format(
                    reason=reason
                )
            )
        pages = []
        for file in files:
            with Image.open(file) as image:
                pages.append(image.convert("1"))
        return pages


def fit_width(page: Image.Image, dots: int = ROLL_DOTS) -> Image.Image:
    """The page cut or padded to the roll's printable width, centred.

    An 80 mm page is 640 dots wide at 203 dpi but the head prints 576: the blank side margins
    go. When the ink sits off centre the window moves to keep all of it. A page made for wider
    paper (an A6 slip) whose ink does not fit is refused rather than printed with a side
    missing; on an 80 mm page, ink outside 72 mm would not print on any roll printer anyway.
    """
    width, height = page.size
    if width <= dots:
        canvas = Image.new("1", (dots, height), 1)
        canvas.paste(page, ((dots - width) // 2, 0))
        return canvas
    left = (width - dots) // 2
    ink = ImageOps.invert(page.convert("L")).getbbox()
    if ink is not None:
        ink_left, _top, ink_right, _bottom = ink
        if ink_right - ink_left <= dots:
            left = min(max(left, ink_right - dots), ink_left)
        elif width > ROLL_PAPER_DOTS:
            raise EscPosError(
                _(
                    "The page is {mm} mm wide, more than the roll's 72 mm; print slips on the "
                    "roll with KIOSK_SLIP_PAPER=80mm."
                ).format(mm=round(width / DPI * 25.4))
            )
    return page.crop((left, 0, left + dots, height))


def encode(pages: list[Image.Image]) -> bytes:
    """The ESC/POS byte stream: initialise, each page as raster bands, feed and cut."""
    out = bytearray(INIT)
    for page in pages:
        width, height = page.size
        width_bytes = math.ceil(width / 8)
        if width % 8:  # whole bytes per row, padded with white
            padded = Image.new("1", (width_bytes * 8, height), 1)
            padded.paste(page, (0, 0))
            page = padded
        # Pillow's 1-bit rows are packed MSB first like ESC/POS, but with 1 = white.
        raw = page.convert("1").tobytes().translate(_INVERT)
        for top in range(0, height, BAND_ROWS):
            rows = min(BAND_ROWS, height - top)
            out += RASTER + struct.pack("<HH", width_bytes, rows)
            out += raw[top * width_bytes : (top + rows) * width_bytes]
        out += FEED + CUT
    return bytes(out)


def send(target: Target, data: bytes, timeout: float = TIMEOUT) -> None:
    """Write ``data`` to the printer; any failure becomes an ``EscPosError`` sentence."""
    try:
        if target.host:
            with socket.create_connection((target.host, target.port), timeout=timeout) as sock:
                sock.settimeout(timeout)
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
        else:
            _write_device(target.device, data, timeout)
    except OSError as error:
        raise EscPosUnreachable(_failure(target, error, timeout)) from error


def _write_device(device: str, data: bytes, timeout: float) -> None:
    """Write to a device file without ever blocking past ``timeout`` (a printer out of paper
    stops reading, and a blocking write would freeze the desk)."""
    posix = os.name == "posix"
    flags = os.O_WRONLY | getattr(os, "O_BINARY", 0)
    if posix:
        flags |= os.O_NONBLOCK | os.O_NOCTTY
    fd = os.open(device, flags)
    try:
        view = memoryview(data)
        deadline = time.monotonic() + timeout
        while view:
            if posix:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([], [fd], [], remaining)[1]:
                    raise TimeoutError(f"{device} took no data for {timeout:g} s")
            try:
                written = os.write(fd, view)
            except BlockingIOError:
                continue
            view = view[written:]
    finally:
        os.close(fd)


def _failure(target: Target, error: OSError, timeout: float) -> str:
    """One sentence per way a printer fails to take the job."""
    if isinstance(error, ConnectionRefusedError):
        return _(
            "The printer at {target} refused the connection; check that it is on and that the "
            "port is right."
        ).format(target=target)
    if isinstance(error, TimeoutError):  # socket.timeout is TimeoutError
        return _("The printer at {target} did not respond within {seconds:g} seconds.").format(
            target=target, seconds=timeout
        )
    if isinstance(error, socket.gaierror):
        return _("The printer address {host} is unknown on this network.").format(host=target.host)
    if isinstance(error, FileNotFoundError):
        return _(
            "There is no printer device {device}; check the cable and the device name."
        ).format(device=target.device)
    if isinstance(error, PermissionError):
        return _(
            "This user may not write to the printer device {device} (on Linux, add the user to "
            "the lp group)."
        ).format(device=target.device)
    return _("The printer at {target} could not take the job ({reason}).").format(
        target=target, reason=error.strerror or error
    )


def print_pdf(pdf: Path, target: Target, timeout: float = TIMEOUT) -> None:
    """Rasterise ``pdf``, fit it to the roll and send it; raises ``EscPosError``."""
    send(target, encode([fit_width(page) for page in rasterise(pdf)]), timeout)
