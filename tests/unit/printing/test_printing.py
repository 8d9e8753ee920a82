"""Printing back ends: the A6 slip, the ESC/POS raster stream, and choosing a printer.

Round trips use the real tools: reportlab writes the PDF, pdftoppm rasterises it as a printer
would, zxing-cpp reads the QR back and the event's keys verify it.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from kiosk.clock import FixedClock
from kiosk.db import Database
from kiosk.demo import DEMO_PASSPHRASE
from kiosk.i18n import set_language
from kiosk.models import Customer
from kiosk.services import keys, reception
from kiosk.services.auth import staff_session
from kiosk.services.slips import CartLine, SlipDocument, issue_slips
from kiosk.slipcode import Verdict
from printing import escpos
from printing.fonts import register_fonts
from printing.printer import (
    Printer,
    PrinterSettingError,
    PrintProblem,
    slip_paper_from_environment,
    split_command,
)
from printing.slips import (
    A6_MARGIN,
    A6_MODULE,
    A6_WIDTH,
    Paper,
    qr_matrix,
    render_slip,
)
from printing.text import wrap
from tests.conftest import DEMO_DATE
from tests.gate_support import make_ready

MORNING = datetime(2026, 11, 28, 1, 10, tzinfo=UTC)


@pytest.fixture
def slip(demo_db: Database) -> SlipDocument:
    """A slip issued for real in the demo event, as the activation desk would print it."""
    with demo_db.unit_of_work() as uow:
        customer_id = uow.session.scalar(
            select(Customer.id).where(Customer.customer_no == "6200000030")
        )
    assert customer_id is not None
    make_ready(demo_db, customer_id)
    reception.check_in(
        demo_db.unit_of_work(),
        customer_id,
        staff_session(demo_db.unit_of_work(), "R001", clock=FixedClock(MORNING)),
        clock=FixedClock(MORNING),
    )
    issued = issue_slips(
        demo_db.unit_of_work(),
        customer_id,
        [CartLine("O1001", 2)],
        staff_session(demo_db.unit_of_work(), "A001", clock=FixedClock(MORNING)),
        keys.unlock(demo_db.unit_of_work(), DEMO_PASSPHRASE),
        clock=FixedClock(MORNING),
    )[0]
    check = keys.verify_code(demo_db.unit_of_work(), issued.code, today=DEMO_DATE)
    assert check.payload is not None
    return SlipDocument(
        "尊享积分集中兑换日（演示）",
        issued.serial,
        issued.code,
        issued.merchant,
        issued.offer,
        issued.quantity,
        issued.points,
        check.payload.redeem_by,
        check.payload.masked_name,
    )


def _decode(image: Image.Image) -> zxingcpp.Result:
    results = zxingcpp.read_barcodes(image.convert("L"))
    assert len(results) == 1, results
    return results[0]


def _assert_valid(db: Database, code: str) -> None:
    check = keys.verify_code(db.unit_of_work(), code, merchant_code="M10", today=DEMO_DATE)
    assert check.verdict == Verdict.VALID


def _module_pixels(result: zxingcpp.Result, code: str) -> float:
    """Pixels per QR module, from the distance between the finder patterns' centres."""
    corners = result.position
    modules = len(qr_matrix(code)) - 8  # without the quiet zone
    return (corners.top_right.x - corners.top_left.x) / (modules - 1)


def test_a6_slip_round_trip_at_300_dpi(
    demo_db: Database, slip: SlipDocument, tmp_path: Path
) -> None:
    set_language("zh_CN")
    pdf = render_slip(slip, tmp_path / "slip.pdf", paper=Paper.A6)
    subprocess.run(["pdftoppm", "-r", "300", "-png", str(pdf), str(tmp_path / "page")], check=True)
    with Image.open(tmp_path / "page-1.png") as png:
        page = png.copy()
    # A6 at 300 dpi is 1240.2 x 1748.0 dots (pdftoppm rounds up), on one page.
    assert page.size == (1241, 1749) and not (tmp_path / "page-2.png").exists()
    result = _decode(page)
    assert result.text == slip.code
    _assert_valid(demo_db, result.text)
    # Modules are 6 dots at 300 dpi (0.508 mm), not the roll's 4 dots at 203 dpi.
    assert _module_pixels(result, slip.code) == pytest.approx(6, abs=0.25)
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for expected in (f"No. {slip.serial:06d}", "康养理疗馆", "10,000", slip.masked_name, "兑换券"):
        assert expected in text
    assert "每月累积" in text  # how points are earned


def test_a6_is_larger_type_than_the_roll(slip: SlipDocument, tmp_path: Path) -> None:
    """The same content; on A6 the merchant line is at least 1.3 times the roll's size."""
    sizes = {}
    for paper in Paper:
        pdf = render_slip(slip, tmp_path / f"{paper}.pdf", paper=paper)
        out = subprocess.run(
            ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        line = next(row for row in out.splitlines() if ">Merchant:<" in row)
        y_min = float(line.split('yMin="')[1].split('"')[0])
        y_max = float(line.split('yMax="')[1].split('"')[0])
        sizes[paper] = y_max - y_min
    assert sizes[Paper.A6] >= 1.3 * sizes[Paper.ROLL_80MM]


def test_long_names_wrap_and_stay_on_the_a6_page(slip: SlipDocument, tmp_path: Path) -> None:
    long = replace(
        slip,
        merchant="康养理疗馆中心城区旗舰店第二分店（滨江路）",
        offer="肩颈理疗加全身精油按摩九十分钟套餐，含茶点",
    )
    pdf = render_slip(long, tmp_path / "long.pdf", paper=Paper.A6)
    out = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = [row for row in out.splitlines() if row.strip().startswith("<word")]
    page_width, page_height = 105 / 25.4 * 72, 148 / 25.4 * 72
    for row in words:
        x_max = float(row.split('xMax="')[1].split('"')[0])
        y_max = float(row.split('yMax="')[1].split('"')[0])
        assert x_max <= page_width - 20 and y_max <= page_height - 20, row
    assert "含茶点" in subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout.replace("\n", "")


def test_wrap_breaks_latin_at_spaces_and_han_anywhere() -> None:
    font = register_fonts()
    width = A6_WIDTH - 2 * A6_MARGIN
    english = "Points are earned every month from your assets with the bank " * 2
    lines = wrap(english, font, 12.5, width)
    assert len(lines) > 1 and " ".join(lines).split() == english.split()
    chinese = "尊享积分按您在本行的金融资产每月累积，可在活动指定商户兑换服务。" * 2
    lines = wrap(chinese, font, 12.5, width)
    assert len(lines) > 1 and "".join(lines) == chinese
    assert not any(line.startswith(("，", "。")) for line in lines)
    from reportlab.pdfbase.pdfmetrics import stringWidth

    assert all(stringWidth(line, font, 12.5) <= width for line in lines)
    assert pytest.approx(0.02 * 72) == A6_MODULE  # 0.508 mm in points


# -- ESC/POS -----------------------------------------------------------------------------------


class RawPrinter:
    """A network printer on 127.0.0.1 that keeps every byte of one job (port 9100 style)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(10)
        self.port = self.server.getsockname()[1]
        self.received = bytearray()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _address = self.server.accept()
        with connection:
            while chunk := connection.recv(65536):
                self.received += chunk

    def job(self) -> bytes:
        self.thread.join(10)
        self.server.close()
        assert not self.thread.is_alive()
        return bytes(self.received)


def parse_escpos(data: bytes) -> Image.Image:
    """Rebuild the printed image from the byte stream, checking its framing on the way."""
    assert data[:2] == b"\x1b@", "the job must start with ESC @"
    assert data[-4:] == b"\x1dVB\x00", "the job must end with GS V 66 0 (feed, partial cut)"
    position, rows, width_bytes = 2, bytearray(), None
    while position < len(data) - 4:
        if data[position : position + 4] == b"\x1dv0\x00":
            x_low, x_high, y_low, y_high = data[position + 4 : position + 8]
            width, height = x_low + 256 * x_high, y_low + 256 * y_high
            assert width_bytes in (None, width) and 0 < height <= 255
            width_bytes = width
            rows += data[position + 8 : position + 8 + width * height]
            position += 8 + width * height
        elif data[position : position + 2] == b"\x1bd":  # ESC d n: feed n lines
            position += 3
        else:
            raise AssertionError(f"unexpected byte {data[position]:#x} at {position}")
    assert width_bytes is not None and len(rows) % width_bytes == 0
    # ESC/POS: 1 = burn a dot. Pillow's 1-bit: 1 = white.
    inverted = bytes(255 - value for value in rows)
    return Image.frombytes("1", (width_bytes * 8, len(rows) // width_bytes), inverted)


def test_escpos_round_trip_over_tcp(demo_db: Database, slip: SlipDocument, tmp_path: Path) -> None:
    set_language("zh_CN")
    printer_at = RawPrinter()
    printer = Printer.from_setting(f"escpos:tcp://127.0.0.1:{printer_at.port}", tmp_path)
    pdf = render_slip(slip, printer.path_for("slip.pdf"))
    outcome = printer.send(pdf)
    assert (outcome.printed, outcome.message) == (True, "已发送到打印机。")
    image = parse_escpos(printer_at.job())
    assert image.width <= 576
    assert image.width == 576  # the 80 mm page (640 dots) is cut to the head's 72 mm
    result = _decode(image)
    assert result.text == slip.code
    _assert_valid(demo_db, result.text)
    assert _module_pixels(result, slip.code) == pytest.approx(4, abs=0.25)  # 4 dots a module
    assert pdf.exists()


def test_escpos_to_a_device_file(slip: SlipDocument, tmp_path: Path) -> None:
    """A device path is written as a file; a queue ticket prints through the same path."""
    device = tmp_path / "lp0"
    device.touch()
    printer = Printer.from_setting(f"escpos:{device}", tmp_path / "spool")
    outcome = printer.send(render_slip(slip, printer.path_for("slip.pdf")))
    assert outcome.printed, outcome.message
    assert _decode(parse_escpos(device.read_bytes())).text == slip.code


def test_escpos_bands_and_padding() -> None:
    """A tall page is split into bands of at most 255 rows; narrow pages are centred."""
    page = Image.new("1", (100, 600), 1)
    page.putpixel((0, 0), 0)
    fitted = escpos.fit_width(page)
    assert fitted.size == (576, 600) and fitted.getpixel((238, 0)) == 0
    data = escpos.encode([fitted])
    assert data.count(b"\x1dv0\x00") == 3  # 255 + 255 + 90 rows
    assert parse_escpos(data).tobytes() == fitted.tobytes()


def test_escpos_refuses_a_page_wider_than_the_roll(slip: SlipDocument, tmp_path: Path) -> None:
    printer = Printer.from_setting(f"escpos:{tmp_path / 'lp0'}", tmp_path)
    (tmp_path / "lp0").touch()
    pdf = render_slip(slip, tmp_path / "a6.pdf", paper=Paper.A6)
    outcome = printer.send(pdf)
    assert not outcome.printed and "KIOSK_SLIP_PAPER=80mm" in outcome.message
    assert (tmp_path / "lp0").read_bytes() == b"" and pdf.exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nobody listens there once the probe closes


def test_escpos_connection_refused_keeps_the_pdf(slip: SlipDocument, tmp_path: Path) -> None:
    printer = Printer.from_setting(f"escpos:tcp://127.0.0.1:{_free_port()}", tmp_path)
    pdf = render_slip(slip, printer.path_for("slip.pdf"))
    outcome = printer.send(pdf)
    assert not outcome.printed
    assert "refused the connection" in outcome.message
    assert f"The PDF is kept at {pdf}" in outcome.message and pdf.exists()


def test_escpos_missing_device(slip: SlipDocument, tmp_path: Path) -> None:
    device = tmp_path / "no-such-folder" / "lp0"
    printer = Printer.from_setting(f"escpos:{device}", tmp_path)
    pdf = render_slip(slip, printer.path_for("slip.pdf"))
    outcome = printer.send(pdf)
    assert not outcome.printed
    assert outcome.message.startswith(f"Printer not connected: There is no printer device {device}")
    assert outcome.problem == PrintProblem.NOT_CONNECTED
    assert pdf.exists()


def test_escpos_device_without_permission(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    device = tmp_path / "lp0"
    device.touch(mode=0o444)
    if os.name != "posix" or os.geteuid() == 0:  # root writes anyway: answer as the OS would

        def denied(*_args: object) -> int:
            raise PermissionError(13, "Permission denied", str(device))

        monkeypatch.setattr(escpos.os, "open", denied)
    with pytest.raises(escpos.EscPosError, match="may not write to the printer device"):
        escpos.send(escpos.parse_target(str(device)), b"\x1b@")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_escpos_device_that_stops_reading_times_out(tmp_path: Path) -> None:
    """A printer that takes no more data (out of paper) must not freeze the desk."""
    fifo = tmp_path / "lp0"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # opened, never read: the pipe fills
    try:
        with pytest.raises(
            escpos.EscPosError, match=re.escape("did not respond within 0.2 seconds")
        ):
            escpos.send(escpos.parse_target(str(fifo)), b"\0" * 1_000_000, timeout=0.2)
    finally:
        os.close(reader)


def test_escpos_printer_that_stops_reading_times_out() -> None:
    """A network printer that accepts the connection but takes no data (cover open)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        target = escpos.parse_target(f"tcp://127.0.0.1:{server.getsockname()[1]}")
        with pytest.raises(
            escpos.EscPosError, match=re.escape("did not respond within 0.3 seconds")
        ):
            escpos.send(target, b"\0" * 64_000_000, timeout=0.3)
    finally:
        server.close()


# -- choosing the printer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("lp -d SLIPS", "KIOSK_PRINTER=lp -d SLIPS is not understood; use pdf, command:"),
        ("command:", "names no print command"),
        ("escpos:", "neither tcp://HOST:PORT nor a device"),
        ("escpos:usb://lp0", "neither tcp://HOST:PORT nor a device"),
        ("escpos:tcp://", "is not tcp://HOST or tcp://HOST:PORT"),
        ("escpos:tcp://printer:70000", "not between 1 and 65535"),
        ("laser", "is not understood"),
    ],
)
def test_bad_printer_setting(
    value: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(PrinterSettingError, match=re.escape(message)):
        Printer.from_setting(value, tmp_path)
    # A station still opens: every print keeps the PDF and repeats what to fix.
    monkeypatch.setenv("KIOSK_PRINTER", value)
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path))
    printer = Printer.from_environment()
    pdf = printer.path_for("ticket.pdf")
    pdf.write_bytes(b"%PDF-1.4\n")
    outcome = printer.send(pdf)
    assert not outcome.printed and message in outcome.message and str(pdf) in outcome.message


def test_printer_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path))
    monkeypatch.delenv("KIOSK_PRINTER", raising=False)
    monkeypatch.delenv("KIOSK_PRINT_COMMAND", raising=False)
    assert Printer.from_environment() == Printer(tmp_path)
    monkeypatch.setenv("KIOSK_PRINTER", "pdf")
    assert Printer.from_environment() == Printer(tmp_path)
    monkeypatch.setenv("KIOSK_PRINTER", "command:lp -d 'Slip printer'")
    assert Printer.from_environment().command == ("lp", "-d", "Slip printer")
    monkeypatch.setenv("KIOSK_PRINTER", "escpos:tcp://192.168.1.50")
    assert Printer.from_environment().escpos == escpos.Target(host="192.168.1.50", port=9100)
    monkeypatch.setenv("KIOSK_PRINTER", "escpos:/dev/usb/lp0")
    assert Printer.from_environment().escpos == escpos.Target(device="/dev/usb/lp0")
    # The older setting still works, and KIOSK_PRINTER wins when both are set.
    monkeypatch.delenv("KIOSK_PRINTER")
    monkeypatch.setenv("KIOSK_PRINT_COMMAND", "lp -d TICKETS")
    assert Printer.from_environment().command == ("lp", "-d", "TICKETS")
    monkeypatch.setenv("KIOSK_PRINTER", "pdf")
    assert Printer.from_environment().command == ()


def test_slip_paper_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIOSK_SLIP_PAPER", raising=False)
    assert slip_paper_from_environment() == Paper.ROLL_80MM
    monkeypatch.setenv("KIOSK_SLIP_PAPER", "A6")
    assert slip_paper_from_environment() == Paper.A6
    monkeypatch.setenv("KIOSK_SLIP_PAPER", "80mm")
    assert slip_paper_from_environment() == Paper.ROLL_80MM
    monkeypatch.setenv("KIOSK_SLIP_PAPER", "a4")
    with pytest.raises(PrinterSettingError, match="KIOSK_SLIP_PAPER=a4 is not a slip paper"):
        slip_paper_from_environment()


def test_roll_slip_text_stays_within_the_printable_72_mm(
    slip: SlipDocument, tmp_path: Path
) -> None:
    """English sentences and long names shrink rather than run off the roll's printable width."""
    long = replace(slip, merchant="Riverside Wellness and Physiotherapy Centre, Flagship Store")
    pdf = render_slip(long, tmp_path / "slip.pdf")  # English: the tests' language
    out = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    right_edges = [
        float(row.split('xMax="')[1].split('"')[0])
        for row in out.splitlines()
        if row.strip().startswith("<word")
    ]
    assert right_edges and max(right_edges) <= 76 / 25.4 * 72  # 4 mm margin of 80 mm paper


def test_a_print_command_that_fails_is_said_in_words(slip: SlipDocument, tmp_path: Path) -> None:
    """No ``lp`` on this laptop, a command that refuses, a setting not understood: each is a
    problem of its own kind with a reason in words (never "[Errno 2]"), and the PDF stays."""
    missing = Printer.from_setting("command:lp-not-here -d SLIPS", tmp_path)
    pdf = render_slip(slip, missing.path_for("slip.pdf"))
    outcome = missing.send(pdf)
    assert (outcome.printed, outcome.failed, outcome.problem) == (
        False,
        True,
        PrintProblem.NOT_CONNECTED,
    )
    assert outcome.headline == (
        "Printer not connected: the print command “lp-not-here” is not installed on this laptop"
    )
    assert "Errno" not in outcome.message and f"The PDF is kept at {pdf}" in outcome.message
    set_language("zh_CN")
    assert missing.send(pdf).headline == "打印机未连接：本机没有安装打印命令“lp-not-here”"
    set_language("en")
    script = tmp_path / "lp"
    script.write_text("#!/bin/sh\necho 'lp: The printer or class does not exist.' >&2\nexit 1\n")
    script.chmod(0o755)
    refusing = Printer.from_setting(f"command:{script} -d SLIPS", tmp_path).send(pdf)
    assert refusing.problem == PrintProblem.FAILED
    assert refusing.headline == (
        f"Printing failed: the print command “{script}” answered: lp: The printer or class "
        "does not exist"
    )
    mistyped = Printer(tmp_path, problem="KIOSK_PRINTER=escpso is not understood.").send(pdf)
    assert mistyped.problem == PrintProblem.SETTING and mistyped.failed
    nowhere = Printer(tmp_path).send(pdf)  # no printer set up: saved, neither printed nor failed
    assert (nowhere.printed, nowhere.failed) == (False, False)
    assert pdf.exists()


def test_windows_print_spooler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``spooler:`` hands the PDF to Windows' print spooler through the shell's print verbs
    (the real spooler cannot run here: docs/install.md lists it as tested on Windows only);
    elsewhere it is refused in words that name the way that works there."""
    with pytest.raises(PrinterSettingError, match="command:lp -d PRINTER"):
        Printer.from_setting("spooler:", tmp_path)
    monkeypatch.setattr("sys.platform", "win32")
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(os, "startfile", lambda *args: calls.append(args), raising=False)
    pdf = tmp_path / "slip.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    default = Printer.from_setting("spooler:", tmp_path)
    assert not default.spool_only and default.send(pdf).printed
    named = Printer.from_setting("spooler:Slip printer", tmp_path)
    assert named.send(pdf).printed
    assert calls == [(str(pdf), "print"), (str(pdf), "printto", '"Slip printer"')]

    def no_reader(*_args: str) -> None:
        raise OSError(1155, "No application is associated with the specified file")

    monkeypatch.setattr(os, "startfile", no_reader, raising=False)
    outcome = default.send(pdf)
    assert not outcome.printed and "install a PDF reader" in outcome.message


def test_windows_paths_in_print_commands_and_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    """On Windows a print command keeps its backslashes and quoted paths, and an ESC/POS
    printer on a COM port is opened by its device path (COM10 and up need it)."""
    monkeypatch.setattr("sys.platform", "win32")
    sumatra = r'"C:\Program Files\SumatraPDF\SumatraPDF.exe" -print-to "Slip printer" -silent'
    assert split_command(sumatra) == (
        r"C:\Program Files\SumatraPDF\SumatraPDF.exe",
        "-print-to",
        "Slip printer",
        "-silent",
    )
    assert escpos.parse_target("com3") == escpos.Target(device=r"\\.\COM3")
    assert escpos.parse_target("COM12") == escpos.Target(device=r"\\.\COM12")
    monkeypatch.setattr("sys.platform", "linux")
    assert split_command("lp -d 'Slip printer'") == ("lp", "-d", "Slip printer")
    assert escpos.parse_target("COM3") == escpos.Target(device="COM3")  # a file name here
