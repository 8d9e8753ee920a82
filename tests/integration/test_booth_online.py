"""Merchant booths online through the booth gateway (issue #29): one redemption per slip
across booths, checked in the event database before serving; offline with the gateway gone,
and caught up when it is back. The booth holds no database URL; the gateway runs the real
uvicorn server with TLS on loopback, on SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from kiosk.booth_laptop.booth import describe
from kiosk.booth_laptop.online import GATEWAY_URL, OnlineBooth, gateway_url, set_gateway
from kiosk.booth_laptop.store import BoothSetting
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.errors import KioskError
from kiosk.models import Redemption, Slip, SlipStatus
from kiosk.permissions import Action
from kiosk.services.auth import staff_session
from kiosk.services.slips import void_slip
from kiosk.slipcode import Verdict
from tests.approval_support import s001_approves
from tests.booth_support import MORNING, issue, new_booth, pack_bytes
from tests.gateway_support import GatewayCable, Pki, gateway, make_pki

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg_demo_url(pg_station_demo_url: str) -> str:
    """On PostgreSQL the gateway (and the test's own checks) connect as the stations' role,
    as on the venue LAN (issue #29): the gateway needs no more than a station is granted."""
    return pg_station_demo_url


@pytest.fixture
def event(demo_url: str) -> Iterator[Database]:
    database = open_database(demo_url)
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _slip(db: Database, serial: int) -> tuple[str, list[tuple[str, str | None]]]:
    with db.unit_of_work() as uow:
        status = uow.session.scalar(select(Slip.status).where(Slip.serial == serial))
        rows = uow.session.execute(
            select(Redemption.booth_id, Redemption.conflict).where(Redemption.slip_serial == serial)
        ).all()
    assert status is not None
    return status, [tuple(r) for r in rows]  # type: ignore[misc]


def test_a_slip_redeemed_at_one_booth_is_refused_at_the_other(
    event: Database, demo_url: str, pki: Pki, tmp_path: Path
) -> None:
    codes = issue(event, ["O101", "O102"])
    pack = pack_bytes(event)
    first, second = new_booth(tmp_path / "a.sqlite3"), new_booth(tmp_path / "b.sqlite3")
    first.install(pack)
    second.install(pack)
    with gateway(demo_url, pki, FixedClock(MORNING)) as url:
        a = OnlineBooth(first, url, ca_file=str(pki.ca))
        b = OnlineBooth(second, url, ca_file=str(pki.ca))
        try:
            assert a.check(codes[0]).verdict == Verdict.VALID and a.online
            commits: list[object] = []
            committed = commits.append
            sa_event.listen(first.database.engine, "commit", committed)
            served = a.redeem(codes[0], "Ms Wang")
            sa_event.remove(first.database.engine, "commit", committed)
            assert served.redeemed and served.online
            # Recorded and marked delivered in one commit of the booth's file (issue #23).
            assert len(commits) == 1
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
            assert _slip(event, 1)[1] == [(first.database.booth_id, None)]  # no conflict

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
            assert second.day_list().rows == []
            assert _slip(event, 2) == (SlipStatus.VOIDED, [])
        finally:
            a.close()
            b.close()


def test_a_lost_answer_asked_again_with_the_same_request_is_served_once(
    event: Database, demo_url: str, pki: Pki, tmp_path: Path
) -> None:
    """The gateway recorded the redemption but the booth's file did not keep it (the answer
    was lost, or the booth's commit failed): the same request id asks again with the same uid
    and is answered as the first time; the event database holds it once."""
    (code,) = issue(event, ["O101"])
    booth = new_booth(tmp_path / "booth.sqlite3")
    booth.install(pack_bytes(event))
    with gateway(demo_url, pki, FixedClock(MORNING)) as url:
        online = OnlineBooth(booth, url, ca_file=str(pki.ca))
        try:
            original = booth.redeem

            def commit_fails(*args, **kwargs):  # type: ignore[no-untyped-def]
                asked = kwargs["confirm"]

                def confirm_then_fail(redemption):  # type: ignore[no-untyped-def]
                    assert asked(redemption)  # the gateway recorded it
                    raise KioskError("the booth's disk failed at its commit")

                return original(*args, **{**kwargs, "confirm": confirm_then_fail})

            booth.redeem = commit_fails  # type: ignore[method-assign]
            with pytest.raises(KioskError):
                online.redeem(code, "Ms Wang", request_id="req-0001")
            booth.redeem = original  # type: ignore[method-assign]
            assert booth.day_list().rows == []
            assert _slip(event, 1) == (SlipStatus.REDEEMED, [(booth.database.booth_id, None)])

            again = online.redeem(code, "Ms Wang", request_id="req-0001")
            assert again.redeemed and again.online
            assert len(booth.day_list().rows) == 1 and booth.pending() == 0
            assert _slip(event, 1) == (SlipStatus.REDEEMED, [(booth.database.booth_id, None)])
            # A new request for the same slip is "already redeemed" here, as it should be.
            assert online.redeem(code, "Ms Wang", request_id="req-0002").verdict == (
                Verdict.ALREADY_REDEEMED
            )
        finally:
            online.close()


def test_offline_when_the_gateway_is_gone_and_caught_up_when_it_is_back(
    event: Database, demo_url: str, pki: Pki, tmp_path: Path
) -> None:
    codes = issue(event, ["O101", "O102"])
    booth = new_booth(tmp_path / "booth.sqlite3")
    booth.install(pack_bytes(event))
    with GatewayCable(demo_url, pki, MORNING) as cable:
        online = OnlineBooth(booth, cable.url, ca_file=str(pki.ca))
        try:
            assert online.redeem(codes[0], "Ms Wang").online
            cable.cut()
            served = online.redeem(codes[1], "Ms Wang")  # the customer is served all the same
            assert served.redeemed and not served.online
            assert online.online is False and "does not answer" in online.error
            assert booth.pending() == 1
            assert _slip(event, 2) == (SlipStatus.ISSUED, [])
            # While offline the booth judges alone, without waiting for the gateway.
            assert online.check(codes[1]).verdict == Verdict.ALREADY_REDEEMED
            assert online.catch_up() is None and booth.pending() == 1
            cable.plug()
            assert online.probe()
            result = online.catch_up()
            assert result is not None and result.added == 1 and online.online
            assert booth.pending() == 0
            assert _slip(event, 2) == (SlipStatus.REDEEMED, [(booth.database.booth_id, None)])
        finally:
            online.close()


def test_cli_connect_scan_and_push(
    event: Database, demo_url: str, pki: Pki, tmp_path: Path
) -> None:
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
    refused = booth("connect", demo_url)  # a database URL: never on a booth
    assert refused.returncode == 1 and "never uses a database address" in refused.stderr
    plain = booth("connect", "http://192.168.1.10:8443")
    assert plain.returncode == 1 and "HTTPS only" in plain.stderr
    wrong = booth("connect", "https://127.0.0.1:1", "--ca", str(pki.ca))
    assert wrong.returncode == 1 and "does not answer" in wrong.stderr
    # The gateway's clock is the real one here: the CLI's booth uses the laptop's clock.
    with gateway(demo_url, pki) as url:
        untrusted = booth("connect", url, "--ca", str(pki.other_ca))
        assert untrusted.returncode == 1 and "not trusted" in untrusted.stderr
        connected = booth("connect", url, "--ca", str(pki.ca))
        assert connected.returncode == 0, connected.stderr
        assert "works online" in connected.stdout
        scanned = booth("scan", codes[0], "--staff", "Ms Wang")
        assert scanned.returncode == 0 and "Redeemed" in scanned.stdout, scanned.stderr
        assert _slip(event, 1)[0] == SlipStatus.REDEEMED  # straight in, no push needed
        again = booth("scan", codes[0], "--staff", "Ms Wang")
        assert again.returncode == 1 and "Already redeemed" in again.stdout, again.stderr
        pushed = booth("push")
        assert pushed.returncode == 0 and "0 new, 1 already known" in pushed.stdout
    assert booth("connect", "--off").returncode == 0
    local = new_booth(Path(booth_db))
    assert gateway_url(local) == ""
    set_gateway(local, "https://192.168.1.10:8443", str(pki.ca))
    assert gateway_url(local) == "https://192.168.1.10:8443"
    with pytest.raises(KioskError):
        set_gateway(local, demo_url)
    # A database URL an older kiosk kept in the booth's file is erased when read.
    local.set_setting("event_db_url", demo_url)
    gateway_url(local)
    with local.database.unit_of_work() as uow:
        values = [row.value for row in uow.session.scalars(select(BoothSetting))]
    assert not any(v.startswith(("postgresql", "sqlite")) for v in values), values
    assert local.setting(GATEWAY_URL) == "https://192.168.1.10:8443"
    local.database.dispose()
