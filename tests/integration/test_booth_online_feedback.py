"""An online booth's deliveries and complaints (issue #21) reach the event database at once
through the booth gateway; with the gateway gone they wait, and the catch-up brings them,
once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from kiosk.booth_laptop.online import OnlineBooth
from kiosk.db import Database, open_database
from kiosk.models import ServiceDelivery, Slip, SlipFeedback
from kiosk.services.feedback import feedback_for_slip
from tests.booth_support import MORNING, issue, new_booth, pack_bytes
from tests.gateway_support import GatewayCable, make_pki


@pytest.fixture
def pg_demo_url(pg_station_demo_url: str) -> str:
    """On PostgreSQL the gateway (and the test's own checks) connect as the stations' role,
    as on the venue LAN (issue #29): the gateway needs no more than a station is granted."""
    return pg_station_demo_url


@pytest.fixture
def event(demo_url: str):  # type: ignore[no-untyped-def]
    database = open_database(demo_url)
    yield database
    database.dispose()


def _rows(db: Database) -> tuple[int, int]:
    with db.unit_of_work() as uow:
        return (
            uow.session.scalar(select(func.count()).select_from(ServiceDelivery)) or 0,
            uow.session.scalar(select(func.count()).select_from(SlipFeedback)) or 0,
        )


def test_online_deliveries_and_complaints(event: Database, demo_url: str, tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    codes = issue(event, ["O101", "O102"])
    with event.unit_of_work() as uow:
        serials = dict(uow.session.execute(select(Slip.code, Slip.serial)).all())
    booth = new_booth(tmp_path / "booth.sqlite3")
    booth.install(pack_bytes(event))
    booth.set_delivers_on_redeem(True)
    with GatewayCable(demo_url, pki, MORNING) as cable:
        online = OnlineBooth(booth, cable.url, ca_file=str(pki.ca))
        try:
            assert online.redeem(codes[0], "Ms Wang").online
            # Delivered at the redemption, in the event database already.
            found = feedback_for_slip(event.unit_of_work(), serials[codes[0]])
            assert found.delivered_at == MORNING
            online.complain(serials[codes[0]], "refused", "说名额满了", "Ms Wang")
            assert _rows(event) == (1, 1)
            cable.cut()
            booth.set_delivers_on_redeem(False)
            assert online.redeem(codes[1], "Ms Wang").redeemed
            online.deliver(serials[codes[1]], "Ms Wang")  # kept at the booth meanwhile
            online.complain(serials[codes[1]], "quality", "等了很久", "Ms Wang")
            assert online.online is False and _rows(event) == (1, 1)
            cable.plug()
            online.came_back()  # the window's poll says so (tested in tests/ui)
            result = online.catch_up()
            assert result is not None
            assert (result.added, result.deliveries, result.complaints) == (1, 1, 1)
            assert _rows(event) == (2, 2)
            assert online.catch_up() is None  # nothing left to send
        finally:
            online.close()
