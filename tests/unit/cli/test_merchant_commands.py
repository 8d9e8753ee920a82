"""``kiosk merchants …`` between two event databases (SQLite and PostgreSQL): thresholds shown
and set, a decision, the scorecard as .xlsx with its flags, the register exported with its
fingerprint printed, refused in the next event without --trust, imported with it, and the
next event's catalog refusing the merchant that exited."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from cli.main import main
from kiosk.db import Database
from kiosk.demo import DEMO_PASSPHRASE, DEMO_PIN
from kiosk.models import Offer, RegisterEntry
from tests.unit.kiosk.services.test_imports import write_xlsx
from tests.unit.kiosk.services.test_merchant_review import construct_m01, two_events

__all__ = ["two_events"]  # the fixture, shared with the service tests


def test_merchants_from_the_command_line(
    two_events: tuple[Database, Database],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = two_events
    construct_m01(first)
    monkeypatch.setenv("KIOSK_PIN", DEMO_PIN)
    monkeypatch.setenv("KIOSK_PASSPHRASE", DEMO_PASSPHRASE)
    one = ["--lang", "en", "--db", first.url]
    two = ["--lang", "en", "--db", second.url]

    assert main([*one, "merchants", "thresholds"]) == 0
    assert "Average score below: not checked" in capsys.readouterr().out
    assert main([*one, "merchants", "thresholds", "--complaints", "4"]) == 1
    assert "--staff" in capsys.readouterr().err
    assert main([*one, "merchants", "thresholds", "--score-floor", "3.55", "--staff", "S001"]) == 1
    assert "in tenths" in capsys.readouterr().err
    args = ["--score-floor", "3.6", "--complaints", "4", "--delivery-days", "7"]
    assert main([*one, "merchants", "thresholds", *args, "--staff", "S001"]) == 0
    assert "Complaints from: 4" in capsys.readouterr().out

    book = tmp_path / "scorecard.xlsx"
    assert main([*one, "merchants", "scorecard", "--xlsx", str(book)]) == 0
    out = capsys.readouterr().out
    assert "⚠ M01 康宁体检中心: 4 complaint(s) reach the threshold of 4." in out
    assert "1 merchant(s) flagged for review." in out
    rows = list(openpyxl.load_workbook(book).active.iter_rows(values_only=True))
    m01 = next(r for r in rows if r[0] == "M01")
    assert m01[2:5] == (5, 4, 3)  # issued, redeemed, delivered

    assert (
        main([*one, "merchants", "decide", "M03", "exit", "--reason", "拒收", "--staff", "A001"])
        == 1
    )
    assert "Only a supervisor" in capsys.readouterr().err
    decide = ["merchants", "decide", "M03", "exit", "--reason", "多次拒收兑换券", "--staff", "S001"]
    assert main([*one, *decide]) == 0
    assert "M03 安心保险代理: exit (多次拒收兑换券)." in capsys.readouterr().out

    register = tmp_path / "register.json"
    assert main([*one, "merchants", "register", "export", str(register), "--staff", "S001"]) == 0
    out = capsys.readouterr().out
    found = re.search(r"Key fingerprint: ([0-9a-f]{4}(?:-[0-9a-f]{4}){4})", out)
    assert found, out
    fingerprint = found.group(1)

    load = ["merchants", "register", "import", str(register), "--staff", "S001"]
    assert main([*two, *load]) == 1
    err = capsys.readouterr().err
    assert "does not trust" in err and fingerprint in err
    assert main([*two, *load, "--trust", fingerprint]) == 0
    out = capsys.readouterr().out
    assert "trusted from now on" in out and "M03" in out
    with second.unit_of_work() as uow:
        status = uow.session.scalar(
            select(RegisterEntry.status).where(RegisterEntry.merchant_code == "M03")
        )
    assert status == "exit"
    assert main([*two, "merchants", "register", "list"]) == 0
    assert "M03\t安心保险代理\texit\t多次拒收兑换券\tDEMO" in capsys.readouterr().out

    header = [
        "服务编号",
        "商户编号",
        "商户名称",
        "服务名称",
        "服务类别",
        "所需积分",
        "名额",
        "兑换截止日",
    ]
    catalog = write_xlsx(
        tmp_path / "catalog.xlsx",
        [header, ["O301", "M03", None, "一年期意外险", "保险", 3000, 99, "2027-06-01"]],
    )
    assert main([*two, "import", "catalog", str(catalog), "--staff", "S001"]) == 1
    captured = capsys.readouterr()
    said = captured.out + captured.err
    assert "Merchant M03 安心保险代理 exited at DEMO: 多次拒收兑换券" in said
    with second.unit_of_work() as uow:
        assert uow.session.scalar(select(Offer.capacity).where(Offer.code == "O301")) != 99
