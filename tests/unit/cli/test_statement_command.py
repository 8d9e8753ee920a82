"""``kiosk statement CUSTOMER_NO --out FILE.pdf``: writes the statement, or refuses with a
sentence."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cli.main import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_statement_command_writes_the_pdf(
    capsys: pytest.CaptureFixture[str],
    any_demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KIOSK_PIN", "1234")  # every demo staff member's PIN
    pdf = tmp_path / "statement.pdf"
    common = ["--lang", "en", "--db", any_demo_url, "statement"]
    code, out, err = _run(
        capsys, *common, "6200000060", "--out", str(pdf), "--paper", "a5", "--staff", "R001"
    )
    assert (code, err) == (0, "")
    assert str(pdf) in out
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Personal points statement" in text and "62******60" in text
    code, _out, err = _run(
        capsys, *common, "6299999999", "--out", str(tmp_path / "no.pdf"), "--staff", "A001"
    )
    assert code == 1
    assert "No customer has the customer number 6299999999." in err
    assert not (tmp_path / "no.pdf").exists()
    code, _out, err = _run(
        capsys, *common, "6200000060", "--out", str(tmp_path / "m.pdf"), "--staff", "M001"
    )
    assert code == 1 and "Only reception staff, activation staff or a supervisor" in err
