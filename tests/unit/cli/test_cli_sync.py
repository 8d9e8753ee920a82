"""The sync, close and report commands as an operator runs them (ledger on an SQLite file)."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.unit.cli.test_cli import run


def test_ledger_sync_close_and_reports(
    capsys: pytest.CaptureFixture[str],
    demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KIOSK_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("KIOSK_PASSPHRASE", "demo-passphrase")
    monkeypatch.setenv("KIOSK_PIN", "1234")  # R001's, A001's, S001's
    monkeypatch.delenv("KIOSK_LEDGER", raising=False)
    base = ["--lang", "en", "--db", demo_url]
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    code, _out, err = run(capsys, *base, "sync", "push")
    assert code == 1 and "--ledger URL or KIOSK_LEDGER" in err
    code, _out, err = run(capsys, *base, "sync", "push", "--ledger", ledger)
    assert code == 1 and "not a points ledger" in err  # not created yet
    assert run(capsys, *base, "ledger", "init", "--url", ledger)[0] == 0
    code, out, _err = run(capsys, *base, "ledger", "seed", "--url", ledger)
    assert code == 0 and "240 customer accounts" in out
    assert run(capsys, *base, "checkin", "6200000040", "--staff", "R001", "--no-ticket")[0] == 0
    slip = [*base, "slip", "issue", "--customer", "6200000040", "--offer", "O501"]
    code, _out, err = run(capsys, *slip, "--out", str(tmp_path / "s.pdf"), "--staff", "A001")
    assert code == 0, err
    code, _out, err = run(capsys, *base, "sync", "pull", "--ledger", ledger, "--staff", "S001")
    assert code == 1 and "2 entries are not pushed yet" in err
    code, out, err = run(capsys, *base, "sync", "push", "--ledger", ledger, "--batch", "1")
    # The check-in, the slip and the push's own checkpoint of the audit chain (#26).
    assert code == 0 and "3 entries pushed: 3 accepted, 0 rejected" in out
    assert "Checkpoint signed: the audit chain's" in out
    assert "[##############################] 3/3" in err  # the progress bar
    code, out, _err = run(capsys, *base, "sync", "status")
    assert code == 0 and "0 pending, 3 accepted, 0 rejected" in out
    code, out, _err = run(capsys, *base, "sync", "pull", "--ledger", ledger, "--staff", "S001")
    assert code == 0 and "240 customers refreshed" in out

    code, _out, err = run(capsys, *base, "event", "close", "--staff", "A001")
    assert code == 1 and "Only a supervisor" in err
    code, out, _err = run(capsys, *base, "event", "close", "--staff", "S001")
    assert code == 0 and "0 unredeemed slips released" in out and "can still be redeemed" in out
    assert "Checkpoint signed: the audit chain's" in out
    code, out, _err = run(capsys, *base, "report", "reconciliation")
    assert code == 0 and "Issued\t1\t2,000" in out and "Still open\t1\t2,000" in out
    book = tmp_path / "settlement.xlsx"
    code, out, _err = run(capsys, *base, "report", "settlement", "--out", str(book))
    assert code == 0 and book.exists()
    sheet = load_workbook(book).active
    assert sheet is not None and sheet["A1"].value == "Merchant" and sheet["A2"].value == "Total"
    code, _out, err = run(capsys, *base, "report", "settlement", "--out", str(tmp_path / "x.doc"))
    assert code == 1 and ".xlsx or .pdf" in err
    pdf = tmp_path / "reconciliation.pdf"
    assert run(capsys, *base, "report", "reconciliation", "--out", str(pdf))[0] == 0
    assert pdf.read_bytes().startswith(b"%PDF")
