"""The ``kiosk`` command: exit codes, plain errors on stderr, demo and info."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

from cli.main import main
from kiosk.db import open_database
from kiosk.models import AuditRecord, Event, Slip, Staff
from tests.gate_support import make_ready_by_number


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr, without the request id that acting commands announce
    first on stderr (tests/integration/test_full_disk.py checks that line)."""
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse usage errors
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    err = "".join(line for line in err.splitlines(True) if not line.startswith("Request "))
    return code, out, err


def test_demo_then_info(capsys: pytest.CaptureFixture[str], any_empty_url: str) -> None:
    code, out, err = run(
        capsys,
        "--lang",
        "en",
        "--db",
        any_empty_url,
        "demo",
        "--no-gui",
        "--yes",
        "--invitees",
        "40",
        "--date",
        "2026-11-28",
    )
    assert (code, err) == (0, "")
    assert "40 invitees from 15 branches" in out
    assert "every PIN is 1234" in out
    code, out, err = run(capsys, "--lang", "en", "--db", any_empty_url, "info")
    assert (code, err) == (0, "")
    assert "尊享积分集中兑换日（演示） (demo)" in out
    assert "2026-11-28" in out
    assert "上午场 09:00–11:30" in out
    assert "Merchants" in out


def test_info_in_chinese_by_default(
    capsys: pytest.CaptureFixture[str], demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KIOSK_LANG", raising=False)
    monkeypatch.setenv("KIOSK_DB", demo_url)
    code, out, _err = run(capsys, "info")
    assert code == 0
    assert "场次：" in out and "已邀请" in out and "出券前须：资料完整有效、手机银行已激活。" in out


def test_existing_demo_is_kept_without_confirmation(
    capsys: pytest.CaptureFixture[str], demo_url: str
) -> None:
    code, out, _err = run(capsys, "--lang", "en", "--db", demo_url, "demo", "--no-gui")
    assert code == 0
    assert "Kept the existing demo event" in out


def test_demo_never_replaces_a_real_event(
    capsys: pytest.CaptureFixture[str], demo_url: str
) -> None:
    database = open_database(demo_url)
    with database.unit_of_work() as uow:
        uow.session.execute(text("UPDATE event SET is_demo = :no"), {"no": False})
        uow.commit()
    database.dispose()
    code, _out, err = run(capsys, "--lang", "en", "--db", demo_url, "demo", "--no-gui", "--yes")
    assert code == 1
    assert "the demo never replaces it" in err
    database = open_database(demo_url)
    with database.unit_of_work() as uow:
        assert uow.session.query(Event).one().is_demo is False
    database.dispose()


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--db", "nonsense", "info"], 1, "is not a database URL"),
        (["--db", "postgresql://postgres@127.0.0.1:1/x", "init"], 1, "Cannot reach"),
        (["demo", "--invitees", "-3"], 2, "is not a positive whole number"),
        (["demo", "--date", "28/11/2026"], 2, "is not a date like"),
        (["frobnicate"], 2, "invalid choice"),
    ],
)
def test_errors(
    capsys: pytest.CaptureFixture[str], empty_url: str, argv: list[str], code: int, message: str
) -> None:
    argv = ["--lang", "en", *(argv if "--db" in argv else ["--db", empty_url, *argv])]
    got, out, err = run(capsys, *argv)
    assert got == code
    assert message in err
    assert "Traceback" not in err + out


def test_no_event(capsys: pytest.CaptureFixture[str], empty_url: str) -> None:
    code, _out, err = run(capsys, "--lang", "en", "--db", empty_url, "info")
    assert code == 1
    assert "holds no event yet" in err


def test_newer_schema(capsys: pytest.CaptureFixture[str], empty_url: str) -> None:
    run(capsys, "--db", empty_url, "init")
    database = open_database(empty_url, migrate_schema=False)
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff0000beef'"))
    database.dispose()
    code, _out, err = run(capsys, "--lang", "en", "--db", empty_url, "info")
    assert code == 1
    assert err.strip() == (
        "kiosk: This database was created by a newer version of kiosk (schema ffff0000beef). "
        "Update kiosk on this machine before opening it."
    )


def _script() -> str:
    return str(Path(sys.executable).with_name("kiosk"))


def test_installed_script_opens_the_window(tmp_path: Path) -> None:
    """What the README's first command runs: ``kiosk demo`` creates the event, then the window."""
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "KIOSK_EXIT_WHEN_READY": "1",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "KIOSK_LANG": "en",
    }
    url = f"sqlite:///{tmp_path / 'event.sqlite3'}"
    result = subprocess.run(
        [_script(), "--db", url, "demo", "--yes", "--invitees", "30"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Demo event created" in result.stdout
    assert "KIOSK_READY" in result.stdout


def test_booth_window_opens_without_a_pack(tmp_path: Path) -> None:
    """``kiosk booth`` on a new booth file opens the window (offering to install a pack)."""
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "KIOSK_EXIT_WHEN_READY": "1",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "KIOSK_LANG": "en",
    }
    result = subprocess.run(
        [_script(), "booth", "--booth-db", str(tmp_path / "booth.sqlite3")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "KIOSK_READY" in result.stdout
    assert (tmp_path / "booth.sqlite3").exists()


def test_installed_script_error_exit(tmp_path: Path) -> None:
    env = {**os.environ, "KIOSK_LANG": "en"}
    result = subprocess.run(
        [_script(), "--db", "sqlite:////proc/no/such/dir/x.db", "info"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("kiosk: Cannot create the data folder /proc/no/such/dir")
    assert "Traceback" not in result.stderr


def test_checkin_command(
    capsys: pytest.CaptureFixture[str],
    demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("KIOSK_PRINT_COMMAND", raising=False)
    monkeypatch.setenv("KIOSK_PIN", "1234")  # every demo staff member's PIN
    code, out, err = run(
        capsys,
        "--lang",
        "en",
        "--db",
        demo_url,
        "checkin",
        "6200000005",
        "--staff",
        "R001",
        "--route",
        "activation",
    )
    assert (code, err) == (0, "")
    assert "ticket J001, go to Activation desk, 0 waiting ahead" in out
    assert (tmp_path / "spool" / "ticket-J001.pdf").exists()
    code, out, _err = run(
        capsys, "--lang", "en", "--db", demo_url, "checkin", "6200000005", "--staff", "R001"
    )
    assert code == 0
    assert "was already checked in" in out
    code, _out, err = run(
        capsys, "--lang", "en", "--db", demo_url, "checkin", "6200000006", "--staff", "M001"
    )
    assert (code, err) == (1, "kiosk: Only reception staff or a supervisor check customers in.\n")
    code, _out, err = run(
        capsys, "--lang", "en", "--db", demo_url, "checkin", "NOPE", "--staff", "R001"
    )
    assert code == 1 and "No invitation or customer number" in err
    monkeypatch.setenv("KIOSK_PRINT_COMMAND", "false")
    code, out, err = run(
        capsys, "--lang", "en", "--db", demo_url, "checkin", "6200000006", "--staff", "R001"
    )
    assert code == 0  # the check-in stands even when the printer fails
    assert "Checked in" in out and "Printing failed" not in out
    assert err.startswith("Printing failed: the print command “false” stopped with code 1.")
    assert "The PDF is kept at" in err
    monkeypatch.setenv("KIOSK_PRINTER", "command:no-such-lp -d SLIPS")
    code, out, err = run(
        capsys, "--lang", "en", "--db", demo_url, "checkin", "6200000007", "--staff", "R001"
    )
    assert code == 0 and "Checked in" in out
    assert err.startswith(
        "Printer not connected: the print command “no-such-lp” is not installed on this laptop."
    )
    assert "Errno" not in err


def test_slip_issue_verify_void(
    capsys: pytest.CaptureFixture[str],
    demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("KIOSK_PASSPHRASE", raising=False)
    monkeypatch.setenv("KIOSK_PIN", "1234")  # R001's, A001's and S001's
    base = ["--lang", "en", "--db", demo_url]
    database = open_database(demo_url)
    make_ready_by_number(database, "6200000040")
    database.dispose()
    assert run(capsys, *base, "checkin", "6200000040", "--staff", "R001", "--no-ticket")[0] == 0
    issue = [
        *base,
        "slip",
        "issue",
        "--customer",
        "6200000040",
        "--offer",
        "O501",
        "--out",
        str(tmp_path / "slip.pdf"),
        "--staff",
        "A001",
    ]
    code, _out, err = run(capsys, *issue)
    assert code == 1 and "Set KIOSK_PASSPHRASE" in err  # no terminal, no passphrase: refused
    monkeypatch.setenv("KIOSK_PASSPHRASE", "demo-passphrase")
    code, out, err = run(capsys, *issue)
    assert (code, err) == (0, "")
    assert "Slip 1 issued: 星光影城 · 电影票两张 × 1 · 2,000 points" in out
    assert (tmp_path / "slip.pdf").exists()
    slip_code = out.splitlines()[-1]
    code, out, _err = run(capsys, *base, "slip", "verify", slip_code)
    assert code == 0 and out.startswith("Valid")
    again = tmp_path / "again.pdf"
    reprint = [*base, "slip", "print", "1", "--out", str(again), "--staff", "A001"]
    code, out, err = run(capsys, *reprint)
    assert (code, err) == (1, "kiosk: A supervisor must approve printing a slip again.\n")
    monkeypatch.delenv("KIOSK_SUPERVISOR_PIN", raising=False)
    code, out, err = run(capsys, *reprint, "--supervisor", "S001")
    assert code == 1 and "Set KIOSK_SUPERVISOR_PIN" in err  # no terminal, no PIN: refused
    monkeypatch.setenv("KIOSK_SUPERVISOR_PIN", "1234")
    code, out, err = run(capsys, *reprint, "--supervisor", "A002")
    assert (code, err) == (1, "kiosk: A002 is not a supervisor and cannot approve this.\n")
    assert not again.exists()
    code, out, err = run(capsys, *reprint, "--supervisor", "S001")
    assert (code, err) == (0, "") and again.exists() and "written again" in out
    database = open_database(demo_url)
    with database.unit_of_work() as uow:
        assert uow.session.scalar(select(Slip.copies_printed)) == 2  # issue + print again
        approver = uow.session.scalar(
            select(Staff.staff_no)
            .join(AuditRecord, AuditRecord.approved_by == Staff.id)
            .where(AuditRecord.action == "slip_printed")
        )
        assert approver == "S001"
    database.dispose()
    code, _out, err = run(capsys, *base, "slip", "void", "1", "--staff", "R001", "--reason", "x")
    assert (code, err) == (1, "kiosk: Only activation staff or a supervisor void slips.\n")
    void = [*base, "slip", "void", "1", "--staff", "A001", "--reason", "changed mind"]
    code, out, err = run(capsys, *void)
    assert (code, err) == (1, "kiosk: A supervisor must approve voiding a slip.\n")
    code, out, _err = run(capsys, *void, "--supervisor", "S001")
    assert code == 0 and "voided" in out
    code, out, _err = run(capsys, *base, "slip", "verify", slip_code)
    assert code == 1 and out.startswith("Voided")
    # A wrong supervisor PIN from the environment: refused before anything is written.
    monkeypatch.setenv("KIOSK_SUPERVISOR_PIN", "0000")
    code, out, err = run(capsys, *reprint, "--supervisor", "S001")
    assert (code, err) == (1, "kiosk: Wrong PIN. 4 attempts left; the next in 1 s.\n")
    database = open_database(demo_url)
    with database.unit_of_work() as uow:
        assert uow.session.scalar(select(Slip.copies_printed)) == 2  # no third copy
    database.dispose()
    monkeypatch.setenv("KIOSK_PASSPHRASE", "wrong one")
    code, _out, err = run(capsys, *issue)
    assert code == 1 and "Wrong passphrase" in err
    monkeypatch.setenv("KIOSK_PASSPHRASE", "demo-passphrase")
    monkeypatch.setenv("KIOSK_SLIP_PAPER", "a4")
    code, _out, err = run(capsys, *issue)
    assert code == 1 and "KIOSK_SLIP_PAPER=a4 is not a slip paper" in err
    monkeypatch.setenv("KIOSK_SLIP_PAPER", "a6")
    code, out, _err = run(capsys, *issue)
    assert code == 0 and "Slip 2 issued" in out
    info = subprocess.run(
        ["pdfinfo", str(tmp_path / "slip.pdf")], capture_output=True, text=True, check=True
    ).stdout
    assert "297.638 x 419.528 pts" in info  # A6: 105 x 148 mm


def test_merchant_pack_booth_and_bundle(
    capsys: pytest.CaptureFixture[str],
    demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Export a pack, install it as a booth, scan twice, list, export, import twice, push
    (through the booth gateway: the booth holds no database URL)."""
    from tests.booth_support import issue
    from tests.gateway_support import gateway, make_pki

    database = open_database(demo_url)
    code_a, code_b, other = issue(database, ["O101", "O102", "O501"])
    database.dispose()
    monkeypatch.setenv("KIOSK_PASSPHRASE", "demo-passphrase")
    monkeypatch.setenv("KIOSK_PIN", "1234")  # M001's and S001's
    base = ("--lang", "en", "--db", demo_url)
    pack = str(tmp_path / "m01.pack")
    code, out, err = run(
        capsys, *base, "merchant-pack", "export", "--merchant", "M01", "--out", pack, "--staff",
        "M001",
    )  # fmt: skip
    assert (code, err) == (0, "") and "2 offers" in out
    booth = ("--lang", "en", "booth", "--booth-db", str(tmp_path / "booth.sqlite3"))
    code, out, _err = run(capsys, *booth, "install", pack)
    assert code == 0 and "Booth ready for 康宁体检中心 (M01)" in out
    code, out, _err = run(capsys, *booth, "scan", code_a, "--staff", "李四")
    assert code == 0 and out.startswith("✓ Redeemed: serve the customer")
    assert "基础体检套餐 × 1" in out
    code, out, _err = run(capsys, *booth, "scan", code_a, "--staff", "王五")
    assert code == 1 and out.startswith("Already redeemed at ") and "by 李四" in out
    code, out, _err = run(capsys, *booth, "scan", other)
    assert code == 1 and out.startswith("Go to booth B1: 星光影城")
    code, out, _err = run(capsys, *booth, "scan", "not-a-slip")
    assert code == 1 and out.startswith("Unreadable")
    code, out, _err = run(capsys, *booth, "scan", code_b, "--check")
    assert code == 0 and out.startswith("Valid, NOT redeemed yet")
    code, out, err = run(capsys, *booth, "scan", code_b)  # nobody named: nothing recorded
    assert code == 1 and err.startswith("kiosk: Type your name first (once per shift)")
    code, out, _err = run(capsys, *booth, "list")
    assert code == 0 and "1 redemptions" in out and "基础体检套餐: 1 slips" in out
    bundle = str(tmp_path / "bundle.json")
    code, out, _err = run(capsys, *booth, "export", bundle)
    assert code == 0 and "1 redemptions" in out
    code, out, err = run(capsys, *base, "bundle", "import", bundle, "--staff", "M001")
    assert (code, err) == (1, "kiosk: A supervisor must approve importing a bundle.\n")
    monkeypatch.setenv("KIOSK_SUPERVISOR_PIN", "1234")
    code, out, _err = run(
        capsys, *base, "bundle", "import", bundle, "--staff", "M001", "--supervisor", "S001"
    )
    assert code == 0 and "1 new, 0 already known, 0 conflicts" in out
    code, out, _err = run(capsys, *base, "bundle", "import", bundle, "--staff", "S001")
    assert code == 0 and "0 new, 1 already known" in out
    run(capsys, *booth, "scan", code_b, "--staff", "李四")
    code, out, err = run(capsys, *booth, "push")  # no gateway yet: said, nothing sent
    assert code == 1 and "no booth gateway" in err
    pki = make_pki(tmp_path / "pki")
    with gateway(demo_url, pki) as url:
        code, out, _err = run(capsys, *booth, "connect", url, "--ca", str(pki.ca))
        assert code == 0 and "(1 earlier redemptions sent)" in out
        code, out, _err = run(capsys, *booth, "push")
        assert code == 0 and "0 new, 2 already known" in out
    code, out, _err = run(capsys, *booth, "list")
    assert "0 not yet sent" in out
    # A tampered pack is refused in one sentence, and so is a tampered bundle.
    tampered = tmp_path / "bad.pack"
    tampered.write_bytes(Path(pack).read_bytes().replace(b'"M01"', b'"M02"'))
    code, out, err = run(
        capsys,
        "--lang",
        "en",
        "booth",
        "--booth-db",
        str(tmp_path / "b2"),
        "install",
        str(tampered),
    )
    assert code == 1 and "signature does not match" in err and len(err.splitlines()) == 1
    Path(bundle).write_text(Path(bundle).read_text().replace('"quantity": 1', '"quantity": 9'))
    code, out, err = run(capsys, *base, "bundle", "import", bundle, "--staff", "S001")
    assert code == 1 and "altered" in err


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`kiosk … | head` must not print a broken-pipe traceback or error."""
    script = (
        "import sys\n"
        "import cli.event_commands as info\n"
        "import cli.main as m\n"
        "def flood(args):\n"
        "    for i in range(200_000):\n"
        "        print('line', i)\n"
        "    return 0\n"
        "info.cmd_info = flood\n"
        "sys.exit(m.main(['info']))\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert child.stdout is not None and child.stderr is not None
    assert child.stdout.readline() == b"line 0\n"
    child.stdout.close()  # what `head -1` does
    with child.stderr:
        error = child.stderr.read().decode()
    assert child.wait(timeout=60) == 0
    assert error == ""
