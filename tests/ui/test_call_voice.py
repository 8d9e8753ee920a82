"""The public display speaks each new call once (issue #24 item 4): a chime and "请 B001 号
到 3 号柜台" when a customer is called to its counter, here or on another laptop; nothing
when it refreshes the same calls; again on the repeat key; nothing at volume 0.

The real main window, call display and event database (SQLite and PostgreSQL); the plays are
counted at the player's seam (``CallPlayer.requests``, what would reach the speakers), and
each is compared with the call joined from the clip files."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk import callvoice
from kiosk.clock import FixedClock
from kiosk.db import open_database
from kiosk.models import Queue
from kiosk.services import activation, desk
from kiosk.services.auth import staff_session
from ui.call_voice import CallPlayer
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.stations.service_desk import ServiceDeskStation

from .conftest import sign_in
from .test_desks_remember import _arrivals, press, service_desk

pytestmark = pytest.mark.ui


def spoken(ticket: str, folder: Path, volume: int = 80) -> bytes:
    """The WAV of the call to counter 3 as joined from the clip files."""
    bank = callvoice.ClipBank(folder)
    return callvoice.wav_bytes(callvoice.call_audio(ticket, "3", bank, volume))


def test_each_new_call_is_spoken_once_here_or_from_another_laptop(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    any_demo_url: str,
    clock: FixedClock,
    settings: Settings,
    tmp_path: Path,
) -> None:
    _arrivals(any_demo_url, clock)
    settings.counter_name = "3"
    settings.voice_folder = str(tmp_path / "voice")  # empty: the shipped voice
    window = make_window(any_demo_url)
    sign_in(qtbot, window, "S001", "1234")
    station = service_desk(qtbot, window)
    station.display_button.click()
    display = window.call_display
    assert display is not None and display.isVisible()
    played = display.player.requests
    assert played == []  # nobody called yet
    # The tests' screen has no audio device: said to the staff, and nothing breaks.
    assert display.voice_status.text() == "This laptop has no sound output: calls are shown only."

    # This laptop's desk calls (F5): shown in large type, and spoken once.
    station.call_button.setFocus()
    press(qtbot, window, Qt.Key.Key_F5)
    assert station.called is not None and station.called.ticket == "B001"
    assert display.label.text() == "Ticket B001\nplease go to counter 3"
    display.label.ensurePolished()
    assert display.label.font().pointSize() >= 48
    assert played == [spoken("B001", tmp_path / "voice")]
    display.refresh()
    assert len(played) == 1  # the same call, read again: not said again
    # A language switch re-renders the staff's row too, and says nothing again.
    window.language.setCurrentIndex(window.language.findData("zh_CN"))
    assert window.call_display is display
    assert display.replay_button.text() == "再播一次（R）"
    assert display.volume_label.text() == "叫号音量"
    assert display.label.text().startswith("请 B001 号")
    window.language.setCurrentIndex(window.language.findData("en"))
    assert display.replay_button.text() == "Play again (R)"
    assert len(played) == 1
    station = window.current_station()  # the switch rebuilt the stations
    assert isinstance(station, ServiceDeskStation)
    # The volume handle is a target a finger can take (MIIT: 60 px; the slider's own is 14):
    # measured where it is drawn, its blue ring.
    picture = display.volume.grab().toImage()
    ring = [
        y
        for y in range(picture.height())
        if any(picture.pixelColor(x, y).name() == "#0b4f8a" for x in range(picture.width()))
    ]
    assert ring and max(ring) - min(ring) + 1 >= 40, ring

    # Another laptop at counter 3 calls at its activation desk, through the desk service.
    other = open_database(any_demo_url)
    staff = staff_session(other.unit_of_work(), "A001")
    called = desk.call_next(
        other.unit_of_work(), staff, desk="3", queue=Queue.ACTIVATION, clock=clock
    )
    assert called is not None and called.ticket == "J001"
    display.refresh()
    assert played[1:] == [spoken("J001", tmp_path / "voice")]
    display.refresh()
    qtbot.wait(1500)  # the window's live link hears of the commit and refreshes too
    assert len(played) == 2
    assert display.label.text() == "Ticket J001\nplease go to counter 3"

    # The repeat: R on the display, its button, Ctrl+R at the desk: the latest call again.
    qtbot.keyClick(display, Qt.Key.Key_R)
    display.replay_button.click()
    station.call_button.setFocus()
    press(qtbot, window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert played[2:] == [spoken("J001", tmp_path / "voice")] * 3

    # Closed and opened again: what was called meanwhile is not said late.
    display.close()
    activation.finish(other.unit_of_work(), called.entry_id, staff, clock=clock, desk="3")
    later = desk.call_next(
        other.unit_of_work(), staff, desk="3", queue=Queue.ACTIVATION, clock=clock
    )
    assert later is not None and later.ticket == "J002"
    station.display_button.click()
    assert window.call_display is display and display.isVisible()
    assert display.label.text() == "Ticket J002\nplease go to counter 3"
    assert len(played) == 5

    # Volume 0 (the slider at its left end, by keys): shown, never spoken.
    display.volume.setFocus()
    qtbot.keyClick(display.volume, Qt.Key.Key_Home)
    assert settings.call_volume == 0 and display.volume_value.text() == "Silent"
    desk.requeue(other.unit_of_work(), later.entry_id, staff, clock=clock, desk="3")
    clock.advance(minutes=1)
    again = desk.call_next(
        other.unit_of_work(), staff, desk="3", queue=Queue.ACTIVATION, clock=clock
    )
    assert again is not None and again.ticket == "J002"
    display.refresh()
    assert display.label.text() == "Ticket J002\nplease go to counter 3"
    qtbot.keyClick(display, Qt.Key.Key_R)
    display.replay_button.click()
    assert len(played) == 5
    # Turned up again: the next call is spoken at the new volume.
    qtbot.keyClick(display.volume, Qt.Key.Key_End)
    assert settings.call_volume == 100
    display.replay_button.click()
    assert played[5:] == [spoken("J002", tmp_path / "voice", volume=100)]
    other.dispose()


def test_a_bad_recording_is_named_on_the_display_and_the_call_still_spoken(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    demo_url: str,
    clock: FixedClock,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """A bank dropped an MP3 renamed .wav for 请 and a good recording of 号: the display
    says which file it refused and why; the call uses the good one and the shipped 请."""
    folder = tmp_path / "voice"
    folder.mkdir()
    (folder / "qing.wav").write_bytes(b"ID3\x04\x00 an mp3 with the wrong name")
    import math
    import struct
    import wave

    with wave.open(str(folder / "hao.wav"), "wb") as f:
        f.setnchannels(2)
        f.setsampwidth(2)
        f.setframerate(48000)
        wave_samples = [round(8000 * math.sin(2 * math.pi * 400 * i / 48000)) for i in range(14400)]
        f.writeframes(
            struct.pack(f"<{2 * len(wave_samples)}h", *(v for s in wave_samples for v in (s, s)))
        )
    _arrivals(demo_url, clock)
    settings.counter_name = "3"
    settings.voice_folder = str(folder)
    window = make_window(demo_url)
    sign_in(qtbot, window, "S001", "1234")
    station = service_desk(qtbot, window)
    station.display_button.click()
    display = window.call_display
    assert display is not None
    status = display.voice_status.text()
    assert status.startswith(f"The voice clip {folder / 'qing.wav'} is not a PCM WAV file")
    assert "the built-in clip is used" in status
    assert "hao.wav" not in status

    press(qtbot, window, Qt.Key.Key_F5)
    (call,) = display.player.requests
    assert call == spoken("B001", folder)
    shipped = spoken("B001", tmp_path / "nothing-here")
    assert call != shipped  # 号 is the bank's recording


def test_a_system_player_plays_the_calls_one_after_the_other(qtbot: QtBot, tmp_path: Path) -> None:
    """The player run as a child process (aplay, paplay, afplay on a laptop without Qt
    Multimedia), here a command that keeps what it is given: each call's WAV reaches it whole,
    and a second call waits for the first to end instead of talking over it."""
    out = tmp_path / "heard"
    out.mkdir()
    keep = f"import shutil, sys; shutil.copy(sys.argv[-1], {str(out)!r})"
    player = CallPlayer(command=[sys.executable, "-c", keep])
    assert player.backend == "command" and player.describe() == ""
    bank = callvoice.ClipBank()
    first = callvoice.call_audio("B001", "3", bank)
    second = callvoice.call_audio("J002", "12", bank)
    started = time.monotonic()
    player.play(callvoice.wav_bytes(first), callvoice.seconds(first))
    player.play(callvoice.wav_bytes(second), callvoice.seconds(second))
    heard = [out / "call-1.wav", out / "call-2.wav"]
    expected = [callvoice.wav_bytes(first), callvoice.wav_bytes(second)]

    def whole(n: int) -> bool:
        return heard[n].exists() and heard[n].read_bytes() == expected[n]

    qtbot.waitUntil(lambda: whole(0), timeout=5_000)
    assert not heard[1].exists()  # still playing the first
    qtbot.waitUntil(lambda: whole(1), timeout=15_000)
    assert time.monotonic() - started >= callvoice.seconds(first)
    player.stop()


def test_a_missing_player_is_stopped_not_waited_for(qtbot: QtBot, tmp_path: Path) -> None:
    """A player that cannot start (not installed, no device) does not block the next call."""
    player = CallPlayer(command=[str(tmp_path / "no-such-player")])
    audio = callvoice.call_audio("B001", "3", callvoice.ClipBank())
    player.play(callvoice.wav_bytes(audio[:2205]), 0.1)
    player.play(callvoice.wav_bytes(audio[:2205]), 0.1)
    qtbot.waitUntil(lambda: not player._queue and not player._playing, timeout=5_000)
    assert len(player.requests) == 2
    player.stop()
