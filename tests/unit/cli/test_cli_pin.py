"""The command line asks the acting staff member's PIN (``KIOSK_PIN`` or typed without echo),
throttled and audited like the sign-in page: a typed ``--staff S001`` alone proves nothing.
Every test runs the real ``kiosk`` command, on SQLite and on PostgreSQL."""

from __future__ import annotations

import ast
import fcntl
import os
import select as selecting
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from kiosk import audit
from kiosk.db import open_database
from kiosk.models import AuditRecord, Slip, SlipStatus, Staff
from tests.booth_support import issue

ROOT = Path(__file__).resolve().parents[3]
KIOSK = str(Path(sys.executable).with_name("kiosk"))


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_PIN")}
    env.pop("KIOSK_SUPERVISOR_PIN", None)
    return {**env, "KIOSK_LANG": "en", **extra}


def kiosk(url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The installed ``kiosk`` command, stdin not a terminal (as in a script)."""
    return subprocess.run(
        [KIOSK, "--db", url, *args],
        env=_env(**env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _slip_status(url: str, serial: int = 1) -> str:
    database = open_database(url)
    with database.unit_of_work() as uow:
        status = uow.session.scalar(select(Slip.status).where(Slip.serial == serial))
    database.dispose()
    return str(status)


def _audit(url: str, action: str) -> list[tuple[str | None, str]]:
    """(staff number, station) of every record of ``action``, oldest first."""
    database = open_database(url)
    with database.unit_of_work() as uow:
        rows = uow.session.execute(
            select(Staff.staff_no, AuditRecord.station)
            .outerjoin(Staff, Staff.id == AuditRecord.staff_id)
            .where(AuditRecord.action == action)
            .order_by(AuditRecord.id)
        ).all()
    database.dispose()
    return [(no, station) for no, station in rows]


@pytest.fixture
def slip_url(any_demo_url: str) -> str:
    """The demo event with slip 1 issued."""
    database = open_database(any_demo_url)
    issue(database, ["O101"])
    database.dispose()
    return any_demo_url


def test_void_needs_the_staff_pin_throttled_and_audited(slip_url: str) -> None:
    void = ("slip", "void", "1", "--staff", "S001", "--reason", "customer changed mind")
    # No PIN and no terminal to type it on: refused, nothing voided.
    result = kiosk(slip_url, *void)
    assert result.returncode == 1
    assert result.stderr == "kiosk: Set KIOSK_PIN or run on a terminal to type the PIN of S001.\n"
    assert _slip_status(slip_url) == SlipStatus.ISSUED
    # A wrong PIN counts like one typed at the sign-in page.
    result = kiosk(slip_url, *void, KIOSK_PIN="9999")
    assert (result.returncode, result.stderr) == (
        1,
        "kiosk: Wrong PIN. 4 attempts left; the next in 1 s.\n",
    )
    assert _audit(slip_url, "sign_in_failed") == [("S001", "cli")]
    started = time.monotonic()
    result = kiosk(slip_url, *void, KIOSK_PIN="1234")
    # The wait is timed from the wrong PIN's audit record, and the command checks it part-way
    # through its own start: under load a run longer than the wait may still have checked
    # inside it. Refused "too quick" is then the only acceptable failure; a quick run must be.
    too_quick = result.returncode == 1 and "Too quick after a wrong PIN" in result.stderr
    if time.monotonic() - started < 0.9:  # a fast machine: certainly inside the wait
        assert too_quick, result.stderr
    if too_quick:
        assert _slip_status(slip_url) == SlipStatus.ISSUED
        time.sleep(1.1)
        result = kiosk(slip_url, *void, KIOSK_PIN="1234")
    assert (result.returncode, result.stderr) == (0, "")
    assert "Slip 1 voided" in result.stdout
    assert _slip_status(slip_url) == SlipStatus.VOIDED
    assert _audit(slip_url, "sign_in")[-1] == ("S001", "cli")
    assert _audit(slip_url, "slip_voided") == [("S001", "cli")]
    # The PIN never appears in an argument, so never in the process list or shell history.
    assert "--pin" not in kiosk(slip_url, "slip", "void", "--help").stdout


def test_a_locked_staff_number_stays_locked_on_the_command_line(
    slip_url: str, tmp_path: Path
) -> None:
    database = open_database(slip_url)
    with audit.unaudited(), database.unit_of_work() as uow:  # four wrong PINs earlier today
        uow.session.execute(update(Staff).where(Staff.staff_no == "A001").values(failed_attempts=4))
        uow.commit()
    database.dispose()
    out = str(tmp_path / "again.pdf")
    again = ("slip", "print", "1", "--out", out, "--staff", "A001")
    result = kiosk(slip_url, *again, KIOSK_PIN="0000")
    assert result.returncode == 1
    assert result.stderr.startswith("kiosk: Wrong PIN. Sign-in for A001 is now locked until ")
    result = kiosk(slip_url, *again, KIOSK_PIN="1234")  # the right PIN, too late
    assert result.returncode == 1 and "Sign-in for A001 is locked until" in result.stderr
    assert _audit(slip_url, "sign_in_locked") == [("A001", "cli")]
    assert not Path(out).exists()


@pytest.mark.parametrize(
    "command",
    [
        ("checkin", "6200000041", "--staff", "R001", "--no-ticket"),
        ("slip", "issue", "--customer", "6200000030", "--offer", "O102", "--out", "OUT",
         "--staff", "A001"),
        ("slip", "print", "1", "--out", "OUT", "--staff", "A001"),
        ("slip", "void", "1", "--staff", "A001", "--reason", "x", "--supervisor", "S001"),
        ("event", "close", "--staff", "S001"),
        ("event", "encrypt", "--staff", "S001"),
        ("event", "purge", "--staff", "S001"),
        ("import", "branches", "IMPORT", "--staff", "S001"),
        ("merchant-pack", "export", "--merchant", "M01", "--out", "OUT", "--staff", "M001"),
        ("bundle", "import", "BUNDLE", "--staff", "S001"),
    ],
    ids=lambda c: " ".join(c[:2]),
)  # fmt: skip
def test_every_command_that_changes_the_event_asks_the_pin(
    demo_url: str, command: tuple[str, ...], tmp_path: Path
) -> None:
    """Refused before the database is touched, so SQLite alone tells (the flow above runs on
    both backends)."""
    database = open_database(demo_url)
    issue(database, ["O101"])
    database.dispose()
    slip_url = demo_url
    # The PIN is asked before any file is read or anything is written.
    files = {"IMPORT": str(tmp_path / "branches.xlsx"), "BUNDLE": str(tmp_path / "bundle.json")}
    for path in files.values():
        Path(path).write_bytes(b"{}")
    files["OUT"] = str(tmp_path / "out.pdf")
    args = [files.get(a, a) for a in command]
    database = open_database(slip_url)
    with database.unit_of_work() as uow:
        before = uow.session.scalar(select(func.count(AuditRecord.id)))
    database.dispose()
    result = kiosk(slip_url, *args, KIOSK_PASSPHRASE="demo-passphrase", KIOSK_SUPERVISOR_PIN="1234")
    assert result.returncode == 1
    assert "Set KIOSK_PIN or run on a terminal to type the PIN of" in result.stderr
    database = open_database(slip_url)
    with database.unit_of_work() as uow:  # nothing written, not even an audit record
        assert uow.session.scalar(select(func.count(AuditRecord.id))) == before
    database.dispose()


def test_pin_typed_on_a_terminal_is_not_echoed(slip_url: str) -> None:
    """On a terminal the PIN is asked with the staff number and never shown as typed."""
    main, child = os.openpty()

    def controlling_terminal() -> None:  # the pty becomes the command's terminal (getpass)
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        [KIOSK, "--db", slip_url, "slip", "void", "1", "--staff", "S001", "--reason", "typo"],
        env=_env(),
        stdin=child,
        stdout=child,
        stderr=child,
        preexec_fn=controlling_terminal,
    )
    os.close(child)
    seen = _read_until(main, b"PIN of S001: ")
    assert seen.endswith(b"PIN of S001: ")
    os.write(main, b"1234\n")
    rest = _read_until(main, b"released.")
    process.wait(timeout=60)
    os.close(main)
    assert process.returncode == 0, rest
    assert b"1234" not in rest  # no echo
    assert b"Slip 1 voided" in rest
    assert _audit(slip_url, "sign_in")[-1] == ("S001", "cli")


def _read_until(fd: int, marker: bytes, timeout: float = 60.0) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while marker not in data and time.monotonic() < deadline:
        ready, _w, _x = selecting.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the command ended and closed its terminal
                break
            if not chunk:
                break
            data += chunk
    return data


def test_the_command_line_never_trusts_a_staff_number_alone() -> None:
    """``staff_session`` (no PIN) is for the simulation and tests; no CLI module calls it."""
    for path in (ROOT / "cli").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {
            n.id if isinstance(n, ast.Name) else n.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Name | ast.Attribute)
        }
        assert "staff_session" not in names, path.name
