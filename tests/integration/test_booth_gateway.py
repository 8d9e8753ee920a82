"""The booth gateway refuses in words and writes nothing (issue #29): a forged slip, another
merchant's slip, another merchant's seal, a seal for another booth, a stale time, a body too
large; and of two booths redeeming one slip at the same moment through it, exactly one is
served. On SQLite and on PostgreSQL, over TLS on loopback."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from kiosk.booth_laptop.booth import Booth
from kiosk.booth_laptop.online import OnlineBooth
from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.models import AuditRecord, OutboxEntry, Redemption, Slip, SlipStatus
from kiosk.slipcode import ALPHABET, Verdict
from tests.booth_support import MORNING, issue, new_booth, pack_bytes
from tests.gateway_support import Pki, gateway, make_pki


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


def _written(db: Database) -> tuple[int, int, int, list[str]]:
    """What a refused request must not change: redemptions, audit records, outbox entries
    and every slip's status."""
    with db.unit_of_work() as uow:
        s = uow.session
        return (
            s.scalar(select(func.count()).select_from(Redemption)) or 0,
            s.scalar(select(func.count()).select_from(AuditRecord)) or 0,
            s.scalar(select(func.count()).select_from(OutboxEntry)) or 0,
            list(s.scalars(select(Slip.status).order_by(Slip.serial))),
        )


def _ask(
    url: str,
    pki: Pki,
    booth: Booth,
    path: str,
    body: dict[str, Any] | bytes,
    *,
    change: dict[str, str] | None = None,
    language: str = "en",
) -> httpx.Response:
    """A request sealed by ``booth`` as the online booth seals it, then perhaps altered."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {**booth.seal("POST", path, data), "Accept-Language": language}
    headers.update(change or {})
    with httpx.Client(verify=ssl.create_default_context(cafile=str(pki.ca))) as client:
        return client.post(url + path, content=data, headers=headers)


def _forged(code: str) -> str:
    """The code with one letter of its signature changed."""
    last = code[-2]
    return code[:-2] + ALPHABET[(ALPHABET.index(last) + 1) % len(ALPHABET)] + code[-1]


def test_bad_requests_are_refused_in_words_and_nothing_is_written(
    event: Database, demo_url: str, pki: Pki, tmp_path: Path
) -> None:
    mine, other = issue(event, ["O101", "O501"])  # O501 is 星光影城's (M05)
    booth = new_booth(tmp_path / "m01.sqlite3")
    booth.install(pack_bytes(event))
    stranger = new_booth(tmp_path / "m05.sqlite3")
    stranger.install(pack_bytes(event, "M05"))
    late = new_booth(tmp_path / "late.sqlite3", FixedClock(MORNING.replace(hour=0)))
    late.install(pack_bytes(event))
    before = _written(event)
    redeem = {
        "uid": "a" * 32,
        "seq": 1,
        "staff_name": "Ms Wang",
        "redeemed_at": MORNING.isoformat(),
    }
    with gateway(demo_url, pki, FixedClock(MORNING)) as url:
        # The seal and the gateway agree: the one good request answers.
        good = _ask(url, pki, booth, "/v1/slips/check", {"code": mine})
        assert good.status_code == 200, good.text
        assert good.json()["slip"] == {
            "serial": 1,
            "status": SlipStatus.ISSUED,
            "redeemed_at": None,
            "staff_name": "",
            "booth_id": "",
            "offer": {
                "id": good.json()["slip"]["offer"]["id"],
                "code": "O101",
                "name": "基础体检套餐",
            },
            "quantity": 1,
            "points": 12000,
            "masked_name": good.json()["slip"]["masked_name"],
        }
        assert "*" in good.json()["slip"]["masked_name"]  # masked: never the whole name

        refusals = {
            "forged slip": (
                _ask(url, pki, booth, "/v1/slips/redeem", {**redeem, "code": _forged(mine)}),
                422,
                "altered or forged",
            ),
            "another merchant's slip": (
                _ask(url, pki, booth, "/v1/slips/redeem", {**redeem, "code": other}),
                422,
                "for another merchant",
            ),
            "another merchant's seal": (
                _ask(
                    url,
                    pki,
                    stranger,
                    "/v1/slips/redeem",
                    {**redeem, "code": mine},
                    change={"X-Kiosk-Merchant": "M01", "X-Kiosk-Merchant-Id": "1"},
                ),
                401,
                "seal does not match",
            ),
            "a seal for another booth": (
                _ask(
                    url,
                    pki,
                    booth,
                    "/v1/slips/redeem",
                    {**redeem, "code": mine},
                    change={"X-Kiosk-Booth": stranger.database.booth_id},
                ),
                401,
                "seal does not match",
            ),
            "a stale time": (
                _ask(url, pki, late, "/v1/slips/redeem", {**redeem, "code": mine}),
                401,
                "clock is 60 minutes behind",
            ),
            "a body too large": (
                _ask(url, pki, booth, "/v1/slips/check", {"code": mine, "x": "y" * 20_000}),
                413,
                "too large",
            ),
            "no seal at all": (
                _ask(
                    url, pki, booth, "/v1/slips/check", {"code": mine}, change={"X-Kiosk-Mac": ""}
                ),
                401,
                "not sealed",
            ),
        }
        for case, (response, status, words) in refusals.items():
            assert response.status_code == status, (case, response.text)
            assert words in response.json()["error"], (case, response.json())
        assert refusals["forged slip"][0].json()["verdict"] == Verdict.BAD_SIGNATURE
        assert _written(event) == before  # nothing written by any of them

        # In the request's language: Simplified Chinese unless the booth asks for English.
        chinese = _ask(url, pki, late, "/v1/slips/check", {"code": mine}, language="zh-CN")
        assert chinese.status_code == 401
        assert "时钟" in chinese.json()["error"], chinese.json()
        unknown = _ask(url, pki, late, "/v1/slips/check", {"code": mine}, language="fr")
        assert unknown.json()["error"] == chinese.json()["error"]

        # The booth's own client: the gateway's reading of a forged code is shown, not served.
        online = OnlineBooth(stranger, url, ca_file=str(pki.ca))
        try:
            assert online.ping()["merchant"] == "M05"
        finally:
            online.close()
    assert _written(event) == before
    for made in (booth, stranger, late):
        assert made.day_list().rows == []
        made.database.dispose()


def test_two_booths_redeem_one_slip_at_once_through_the_gateway(
    event: Database, demo_url: str, pki: Pki, tmp_path: Path
) -> None:
    """Two booths, two threads, one slip, started together: exactly one serves it, the
    event database holds one redemption and the other booth's file none."""
    (code,) = issue(event, ["O101"])
    pack = pack_bytes(event)
    booths = [new_booth(tmp_path / f"booth{n}.sqlite3") for n in range(2)]
    for booth in booths:
        booth.install(pack)
    with gateway(demo_url, pki, FixedClock(MORNING)) as url:
        online = [OnlineBooth(booth, url, ca_file=str(pki.ca)) for booth in booths]
        start = threading.Barrier(2)
        results: list[Any] = [None, None]

        def serve(n: int) -> None:
            start.wait()
            results[n] = online[n].redeem(code, f"booth {n}")

        threads = [threading.Thread(target=serve, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        for client in online:
            client.close()
    assert all(client.online for client in online), [c.error for c in online]
    served = [r for r in results if r.redeemed]
    assert len(served) == 1, results
    refused = [r for r in results if not r.redeemed]
    assert refused[0].verdict == Verdict.ALREADY_REDEEMED and refused[0].elsewhere
    winner = booths[results.index(served[0])]
    with event.unit_of_work() as uow:
        rows = uow.session.execute(select(Redemption.booth_id, Redemption.conflict)).all()
        status = uow.session.scalar(select(Slip.status).where(Slip.serial == 1))
    assert [tuple(r) for r in rows] == [(winner.database.booth_id, None)]
    assert status == SlipStatus.REDEEMED
    assert sorted(len(b.day_list().rows) for b in booths) == [0, 1]
    assert all(b.pending() == 0 for b in booths)
    for booth in booths:
        booth.database.dispose()


@pytest.mark.pg
def test_the_gateway_stalls_mid_redemption_and_the_booth_serves_offline_once(
    pg_demo_url: str, pki: Pki, tmp_path: Path
) -> None:
    """The gateway takes the redemption but does not answer in time (the slip row is held by
    another transaction): the booth gives up after its read timeout, serves from its pack with
    the same uid and works offline; the gateway then records it; the catch-up finds that uid
    known. One redemption in the event database, none twice."""
    import psycopg

    event = open_database(pg_demo_url)
    (code,) = issue(event, ["O101"])
    booth = new_booth(tmp_path / "booth.sqlite3")
    booth.install(pack_bytes(event))
    holder = psycopg.connect(pg_demo_url)
    with gateway(pg_demo_url, pki, FixedClock(MORNING)) as url:
        online = OnlineBooth(booth, url, ca_file=str(pki.ca), read_timeout=1.0)
        try:
            holder.execute("SELECT id FROM slip WHERE serial = 1 FOR UPDATE")
            served = online.redeem(code, "Ms Wang")
            assert served.redeemed and not served.online  # served from the pack
            assert online.online is False and "does not answer" in online.error
            assert booth.pending() == 1
            holder.rollback()  # the gateway's transaction goes on and records it
            deadline = time.monotonic() + 10
            while _written(event)[0] == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _written(event)[0] == 1  # recorded by the gateway, after the booth gave up
            assert online.probe()
            result = online.catch_up()
            assert result is not None and (result.added, result.duplicates) == (0, 1)
            assert booth.pending() == 0
        finally:
            online.close()
            holder.close()
    with event.unit_of_work() as uow:
        rows = uow.session.execute(select(Redemption.uid, Redemption.conflict)).all()
    assert [tuple(r) for r in rows] == [(_uid(booth), None)]
    event.dispose()
    booth.database.dispose()


def _uid(booth: Booth) -> str:
    from kiosk.booth_laptop.store import BoothRedemption

    with booth.database.unit_of_work() as uow:
        uid = uow.session.scalar(select(BoothRedemption.uid))
    assert uid is not None
    return uid


def test_the_gateway_is_served_over_https_on_the_lan(demo_url: str) -> None:
    """``kiosk booth serve`` on a LAN address without a certificate: refused in one sentence."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "--lang", "en", "booth", "serve", "--db", demo_url],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=60,
    )
    assert done.returncode == 1
    assert "served over HTTPS on the LAN: give --cert and --key" in done.stderr
