"""Merchant booths online on the venue LAN: one redemption per slip across booths, checked in
the event database before serving; offline with the LAN gone, and caught up when it is back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk.booth_laptop.booth import describe
from kiosk.booth_laptop.online import OnlineBooth, event_url, set_event_url
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.models import Redemption, Slip, SlipStatus
from kiosk.permissions import Action
from kiosk.services.auth import staff_session
from kiosk.services.slips import void_slip
from kiosk.slipcode import Verdict
from tests.approval_support import s001_approves
from tests.booth_support import MORNING, issue, new_booth, pack_bytes
from tests.tcp_proxy import LanCable

pytestmark = pytest.mark.pg
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def event(pg_demo_url: str):  # type: ignore[no-untyped-def]
    database = open_database(pg_demo_url)
    yield database
    database.dispose()


def _slip(db: Database, serial: int) -> tuple[str, list[tuple[str, str | None]]]:
    with db.unit_of_work() as uow:
        status = uow.session.scalar(select(Slip.status).where(Slip.serial == serial))
        rows = uow.session.execute(
            select(Redemption.booth_id, Redemption.conflict).where(Redemption.slip_serial == serial)
        ).all()
    assert status is not None
    return status, [tuple(r) for r in rows]  # type: ignore[misc]


def test_a_slip_redeemed_at_one_booth_is_refused_at_the_other(
    event: Database, tmp_path: Path
) -> None:
    codes = issue(event, ["O101", "O102"])
    pack = pack_bytes(event)
    first, second = new_booth(tmp_path / "a.sqlite3"), new_booth(tmp_path / "b.sqlite3")
    first.install(pack)
    second.install(pack)
    a, b = OnlineBooth(first, event.url), OnlineBooth(second, event.url)
    try:
        assert a.check(codes[0]).verdict == Verdict.VALID and a.online
        served = a.redeem(codes[0], "Ms Wang")
        assert served.redeemed and served.online
        assert first.pending() == 0  # in the event database already, nothing to push
        assert _slip(event, 1) == (SlipStatus.REDEEMED, [(first.database.booth_id, None)])

        # The other booth, before serving: redeemed elsewhere, when and by whom.
        seen = b.check(codes[0])
        assert seen.verdict == Verdict.ALREADY_REDEEMED and seen.elsewhere
        assert seen.redeemed_by == "Ms Wang"
        headline, _detail = describe(seen, "Asia/Shanghai")
        assert headline == "Already redeemed at another booth at 09:10 by Ms Wang"
        refused = b.redeem(codes[0], "Mr Li")
        assert refused.verdict == Verdict.ALREADY_REDEEMED and not refused.redeemed
        assert second.pending() == 0 and second.day_list().rows == []  # nothing recorded
        assert _slip(event, 1)[1] == [(first.database.booth_id, None)]  # no conflict either

        # Voided at the activation desk after the pack was made: refused online at once.
        void_slip(
            event.unit_of_work(),
            2,
            staff_session(event.unit_of_work(), "A001", clock=FixedClock(MORNING)),
            reason="customer changed their mind",
            approval=s001_approves(event, Action.VOID_SLIP, clock=FixedClock(MORNING)),
            clock=FixedClock(MORNING),
        )
        assert first.check(codes[1]).verdict == Verdict.VALID  # the pack alone cannot know
        assert b.redeem(codes[1], "Mr Li").verdict == Verdict.REVOKED
        assert _slip(event, 2) == (SlipStatus.VOIDED, [])
    finally:
        a.close()
        b.close()


def test_offline_when_the_lan_is_gone_and_caught_up_when_it_is_back(
    event: Database, pg_demo_url: str, tmp_path: Path
) -> None:
    codes = issue(event, ["O101", "O102"])
    booth = new_booth(tmp_path / "booth.sqlite3")
    booth.install(pack_bytes(event))
    with LanCable(pg_demo_url) as cable:
        online = OnlineBooth(booth, cable.url)
        try:
            assert online.redeem(codes[0], "Ms Wang").online
            cable.cut()
            served = online.redeem(codes[1], "Ms Wang")  # the customer is served all the same
            assert served.redeemed and not served.online
            assert online.online is False and online.error
            assert booth.pending() == 1
            assert _slip(event, 2) == (SlipStatus.ISSUED, [])
            # While offline the booth judges alone, without waiting for the LAN.
            assert online.check(codes[1]).verdict == Verdict.ALREADY_REDEEMED
            assert online.catch_up() is None and booth.pending() == 1
            cable.plug()
            result = online.catch_up()
            assert result is not None and result.added == 1 and online.online
            assert booth.pending() == 0
            assert _slip(event, 2) == (SlipStatus.REDEEMED, [(booth.database.booth_id, None)])
        finally:
            online.close()


def test_cli_connect_scan_and_push(event: Database, pg_demo_url: str, tmp_path: Path) -> None:
    codes = issue(event, ["O101"])
    pack_file = tmp_path / "M01.pack"
    pack_file.write_bytes(pack_bytes(event))
    booth_db = str(tmp_path / "booth.sqlite3")

    def booth(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "cli.main",
                "--lang",
                "en",
                "booth",
                "--booth-db",
                booth_db,
                *args,
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )

    assert booth("install", str(pack_file)).returncode == 0
    wrong = booth("connect", "postgresql://postgres@127.0.0.1:1/nothing")
    assert wrong.returncode == 1 and "cannot be reached" in wrong.stderr
    connected = booth("connect", pg_demo_url)
    assert connected.returncode == 0, connected.stderr
    assert "works online" in connected.stdout
    scanned = booth("scan", codes[0], "--staff", "Ms Wang")
    assert scanned.returncode == 0 and "Redeemed" in scanned.stdout, scanned.stderr
    assert _slip(event, 1)[0] == SlipStatus.REDEEMED  # straight in, no push needed
    again = booth("scan", codes[0], "--staff", "Ms Wang")
    assert again.returncode == 1 and "Already redeemed" in again.stdout, again.stderr
    assert booth("connect", "--off").returncode == 0
    local = new_booth(Path(booth_db))
    assert event_url(local) == ""
    set_event_url(local, pg_demo_url)
    assert event_url(local) == pg_demo_url
    local.database.dispose()
