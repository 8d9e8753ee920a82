"""Booth windows online on the venue LAN through the booth gateway (issue #29): the banner, a
slip refused at the second booth, the fall back to offline with catch-up when the gateway
returns, and the "Booth gateway…" dialog taking the gateway's address and CA file. The
gateway runs in a child process (``GatewayCable``): a UI test runs no Python thread."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk.booth_laptop.online import gateway_ca, gateway_url, set_gateway
from kiosk.db import Database, open_database
from kiosk.models import Redemption, Slip, SlipStatus
from tests.booth_support import MORNING, issue, new_booth, pack_bytes
from tests.gateway_support import GatewayCable, Pki, make_pki
from tests.ui.wedge import type_like_a_person
from ui.app import ensure_application
from ui.booth_window import BoothWindow
from ui.connection import ConnectionDialog
from ui.language import apply_language
from ui.settings import Settings
from ui.theme import apply_theme
from ui.widgets import Tone

# Bounds how soon a knock returns: in the one group of timing-sensitive tests (tests/conftest.py).
pytestmark = [pytest.mark.ui, pytest.mark.pg, pytest.mark.xdist_group("timing")]


@pytest.fixture
def pg_demo_url(pg_station_demo_url: str) -> str:
    """The gateway and the test's checks connect as the stations' role (issue #29)."""
    return pg_station_demo_url


@pytest.fixture
def event(pg_demo_url: str) -> Iterator[Database]:
    database = open_database(pg_demo_url)
    yield database
    database.dispose()


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki")


@pytest.fixture
def cable(pg_demo_url: str, pki: Pki) -> Iterator[GatewayCable]:
    with GatewayCable(pg_demo_url, pki, MORNING) as made:
        yield made


@pytest.fixture
def make_booth(
    qtbot: QtBot, settings: Settings, tmp_path: Path, event: Database, pki: Pki
) -> Iterator[Callable[[str], BoothWindow]]:
    windows: list[BoothWindow] = []
    pack = pack_bytes(event)

    def make(url: str) -> BoothWindow:
        apply_theme(ensure_application(), False)
        apply_language(settings.language)
        booth = new_booth(tmp_path / f"booth{len(windows)}.sqlite3")
        booth.install(pack)
        set_gateway(booth, url, str(pki.ca))
        window = BoothWindow(booth, settings)
        qtbot.addWidget(window)
        windows.append(window)
        window.show()
        qtbot.waitExposed(window)
        if window.panel is not None and not window.panel.staff.text():
            type_like_a_person(qtbot, window.panel.staff, "王店员")  # once per shift
        return window

    yield make
    for window in windows:
        window.close()
        window.booth.database.dispose()


def _scan_and_confirm(qtbot: QtBot, window: BoothWindow, code: str) -> None:
    panel = window.panel
    assert panel is not None
    qtbot.keyClicks(panel.field, code)
    qtbot.keyClick(panel.field, Qt.Key.Key_Return)
    if panel.pending is not None:
        panel.redeem_button.click()


def _redemptions(event: Database, serial: int) -> list[str | None]:
    with event.unit_of_work() as uow:
        return list(
            uow.session.scalars(select(Redemption.conflict).where(Redemption.slip_serial == serial))
        )


def test_two_booths_online_serve_a_slip_once(
    qtbot: QtBot,
    event: Database,
    cable: GatewayCable,
    make_booth: Callable[[str], BoothWindow],
) -> None:
    (code,) = issue(event, ["O101"])
    first, second = make_booth(cable.url), make_booth(cable.url)
    qtbot.waitUntil(lambda: first.lan_banner.text().startswith("Online"), timeout=5_000)
    assert first.lan_banner.isVisible()

    _scan_and_confirm(qtbot, first, code)
    assert first.panel is not None and first.panel.banner.tone == Tone.OK
    assert first.panel.banner.headline.text() == "Redeemed: serve the customer"
    assert _redemptions(event, 1) == [None]
    panel = first.panel
    qtbot.waitUntil(lambda: "1 redeemed · 0 not yet sent" in panel.summary.text())

    assert second.panel is not None
    qtbot.keyClicks(second.panel.field, code)
    qtbot.keyClick(second.panel.field, Qt.Key.Key_Return)
    assert second.panel.banner.tone == Tone.ERROR
    assert second.panel.banner.headline.text().startswith("Already redeemed at another booth")
    assert second.panel.pending is None  # nothing to confirm
    assert _redemptions(event, 1) == [None]


def test_booth_goes_offline_with_a_banner_and_catches_up(
    qtbot: QtBot,
    event: Database,
    cable: GatewayCable,
    make_booth: Callable[[str], BoothWindow],
) -> None:
    codes = issue(event, ["O101", "O102"])
    window = make_booth(cable.url)
    qtbot.waitUntil(lambda: window.lan_banner.text().startswith("Online"), timeout=5_000)
    cable.cut()
    qtbot.waitUntil(lambda: window.lan_banner.text().startswith("OFFLINE"), timeout=10_000)
    _scan_and_confirm(qtbot, window, codes[1])  # served from the pack alone
    assert window.panel is not None and window.panel.banner.tone == Tone.OK
    panel = window.panel
    qtbot.waitUntil(lambda: "1 not yet sent" in panel.summary.text())
    assert _redemptions(event, 2) == []
    cable.plug()
    qtbot.waitUntil(lambda: window.lan_banner.text().startswith("Online"), timeout=10_000)
    qtbot.waitUntil(lambda: _redemptions(event, 2) == [None], timeout=5_000)
    qtbot.waitUntil(lambda: "0 not yet sent" in panel.summary.text())
    with event.unit_of_work() as uow:
        assert uow.session.scalar(select(Slip.status).where(Slip.serial == 2)) == (
            SlipStatus.REDEEMED
        )


def test_booth_chooses_its_gateway(
    qtbot: QtBot,
    event: Database,
    cable: GatewayCable,
    pki: Pki,
    make_booth: Callable[[str], BoothWindow],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = make_booth("")  # offline only: no banner, as before
    assert not window.lan_banner.isVisible() and window.lan is None
    said: list[str] = []

    def exec_online(dialog: ConnectionDialog) -> int:
        # A database address is refused in words: a booth never holds one.
        dialog.url.setText(event.url)
        assert not dialog.try_connect()
        said.append(dialog.error.text())
        # The gateway with another CA: not trusted, said so.
        dialog.url.setText(cable.url)
        dialog.ca.setText(str(pki.other_ca))
        assert not dialog.try_connect()
        said.append(dialog.error.text())
        dialog.ca.setText(str(pki.ca))
        assert dialog.try_connect()
        return int(QDialog.DialogCode.Accepted)

    monkeypatch.setattr(ConnectionDialog, "exec", exec_online)
    window.findChild(type(window.panel.redeem_button), "booth_database").click()  # type: ignore[union-attr]
    assert "never uses a database address" in said[0]
    assert "not trusted" in said[1]
    assert window.lan is not None and gateway_url(window.booth) == cable.url
    assert gateway_ca(window.booth) == str(pki.ca)
    qtbot.waitUntil(lambda: window.lan_banner.text().startswith("Online"), timeout=5_000)

    def exec_offline(dialog: ConnectionDialog) -> int:
        dialog.findChild(type(dialog.connect_button), "work_offline").click()
        return int(dialog.result())

    monkeypatch.setattr(ConnectionDialog, "exec", exec_offline)
    window.findChild(type(window.panel.redeem_button), "booth_database").click()  # type: ignore[union-attr]
    assert window.lan is None and gateway_url(window.booth) == ""
    assert not window.lan_banner.isVisible()


def test_an_offline_booth_knocks_without_freezing_the_screen(
    qtbot: QtBot, make_booth: Callable[[str], BoothWindow]
) -> None:
    """With the gateway laptop gone from the LAN (an address nobody answers), the poll tries
    a TCP connection in the event loop: the scanning staff never wait for its timeout."""
    import time

    window = make_booth("https://10.255.255.1:8443")  # TEST-NET-like: no answer, no refusal
    assert window.lan is not None
    window.lan.went_offline("gone")
    window.poll.stop()
    started = time.monotonic()
    window._poll_gateway()
    assert time.monotonic() - started < 0.2  # returned at once: the knock is under way
    assert window._socket is not None
    qtbot.waitUntil(lambda: window._socket is None, timeout=5_000)  # settled: no answer
    assert window.lan.online is False and window.poll.isActive()
