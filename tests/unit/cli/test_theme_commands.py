"""``kiosk event theme``: set, show, the audience per branch and RM, invite once (on SQLite and
PostgreSQL), remove."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cli.main import main
from kiosk.db import open_database
from kiosk.demo import DEMO_PIN
from kiosk.models import Invitation


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _invitations(url: str) -> int:
    database = open_database(url)
    try:
        with database.unit_of_work() as uow:
            return uow.session.scalar(select(func.count(Invitation.id))) or 0
    finally:
        database.dispose()


def test_theme_commands(
    any_demo_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIOSK_PIN", DEMO_PIN)
    db = ["--lang", "en", "--db", any_demo_url]
    code, out, err = run(capsys, *db, "event", "theme", "show")
    assert (code, err) == (0, "") and "no theme" in out
    code, out, err = run(
        capsys, *db, "event", "theme", "set", "car", "--name", "洗车观影专场", "--slot", "PM",
        "--category", "car,movie", "--points-min", "1,000", "--affordable", "--tier", "GOLD",
        "--tier", "白金", "--staff", "S001",
    )  # fmt: skip
    assert (code, err) == (0, ""), err
    assert "CAR  洗车观影专场  (slot 下午场)" in out and "tiers GOLD, PLATINUM" in out
    code, out, err = run(capsys, *db, "event", "theme", "set", "X", "--name", "x",
                         "--category", "cars", "--staff", "S001")  # fmt: skip
    assert code == 1 and "“cars” is not a category" in err
    code, out, err = run(capsys, *db, "event", "theme", "set", "X", "--name", "x",
                         "--staff", "RM001")  # fmt: skip
    assert code == 1 and "supervisor" in err

    code, out, err = run(capsys, *db, "event", "theme", "audience", "car")
    assert code == 0, err
    assert "Per branch" in out and "Per RM" in out and "B01" in out
    before = _invitations(any_demo_url)
    # Every demo customer is invited already: nothing to invite, and the second run neither.
    code, out, err = run(capsys, *db, "event", "theme", "invite", "car", "--staff", "S001")
    assert code == 1 and "--yes" in err
    code, out, err = run(capsys, *db, "event", "theme", "invite", "car", "--yes", "--staff", "S001")
    assert (code, err) == (0, ""), err
    assert "0 invited to slot PM" in out
    assert _invitations(any_demo_url) == before

    code, out, err = run(
        capsys, *db, "event", "theme", "set", "nobody", "--name", "无人", "--slot", "AM",
        "--employer", "没有这家公司", "--staff", "S001",
    )  # fmt: skip
    assert code == 0, err
    code, out, err = run(
        capsys, *db, "event", "theme", "invite", "nobody", "--yes", "--staff", "S001"
    )
    assert code == 1 and "selects nobody" in err
    code, out, err = run(capsys, *db, "event", "theme", "remove", "nobody", "--staff", "S001")
    assert code == 0 and "NOBODY" in out
    code, out, err = run(capsys, *db, "event", "theme", "show")
    assert "CAR" in out and "NOBODY" not in out
