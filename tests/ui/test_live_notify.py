"""The window's live link on PostgreSQL (``ui.live``): another station's commit is pushed to it
and emits ``changed`` with no query sent; its own echo reloads nothing; a server given by host
name is looked up by Qt's resolver, never by a call that blocks the main thread."""

from __future__ import annotations

import socket

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import make_url, select

from kiosk.clock import FixedClock
from kiosk.db import Database, open_database
from kiosk.models import Customer
from kiosk.services import reception
from kiosk.services.auth import staff_session
from tests.booth_support import MORNING
from ui.live import HostLookup, LiveLink

pytestmark = [pytest.mark.ui, pytest.mark.pg]


def _check_in(db: Database, customer_no: str) -> list[int]:
    """A check-in committed by ``db``: the counter values its commits reached."""
    with db.unit_of_work() as uow:
        found = select(Customer.id).where(Customer.customer_no == customer_no)
        customer = uow.session.scalar(found)
    assert customer is not None
    mark = db.own_commits.mark()
    clock = FixedClock(MORNING)
    staff = staff_session(db.unit_of_work(), "R001", clock=clock)
    assert reception.check_in(db.unit_of_work(), customer, staff, clock=clock).created
    return db.own_commits.since(mark)


def test_the_link_is_told_not_asked_and_ignores_its_own_echo(
    qtbot: QtBot, pg_demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = make_url(pg_demo_url).set(host="localhost").render_as_string(hide_password=False)
    here, there = open_database(named), open_database(pg_demo_url)

    def blocking_lookup(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("a host name resolved on the main thread")

    monkeypatch.setattr(socket, "getaddrinfo", blocking_lookup)
    link = LiveLink(here)
    emitted: list[bool] = []
    link.changed.connect(lambda: emitted.append(True))
    try:
        assert isinstance(link.watcher.lookup, HostLookup)
        first = link.watcher.poll()  # Qt's answer comes as an event: not in this call
        assert first.reachable is None and first.value is None and first.delay_ms <= 20
        link.start()
        qtbot.waitUntil(lambda: link.value is not None, timeout=5_000)
        assert link.reachable and link.watcher.listening
        assert link.watcher._conn.host == b"localhost"  # kept for TLS verify-full
        assert link.watcher._conn.hostaddr in (b"127.0.0.1", b"::1")
        emitted.clear()
        sent = link.watcher.queries

        reached = _check_in(there, "6200000050")  # another laptop
        qtbot.waitUntil(lambda: link.value == reached[-1], timeout=5_000)
        assert emitted == [True]
        assert link.watcher.queries == sent  # pushed, not polled

        echoes = link.echoes
        own = _check_in(here, "6200000051")  # this window's own action
        link.expect(own)
        qtbot.waitUntil(lambda: link.value == own[-1], timeout=5_000)
        assert link.echoes == echoes + 1 and emitted == [True]  # nothing reloaded
        assert link.watcher.queries == sent
    finally:
        link.stop()
        here.dispose()
        there.dispose()
