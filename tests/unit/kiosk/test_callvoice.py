"""The spoken call is joined from the shipped clips in the right order, a bank's recording
replaces exactly its word, and a file that cannot be used is refused in a sentence.

The samples are compared with the clip files read here with ``wave`` directly, not through
the module under test."""

from __future__ import annotations

import io
import itertools
import math
import struct
import wave
from array import array
from pathlib import Path

import pytest

from kiosk import callvoice
from kiosk.services.reception import TICKET_PREFIX

ASSETS = Path(__file__).resolve().parents[3] / "assets"
RATE = 22050


def clip(name: str) -> array:
    with wave.open(str(ASSETS / "voice" / f"{name}.wav"), "rb") as f:
        assert (f.getnchannels(), f.getsampwidth(), f.getframerate()) == (1, 2, RATE)
        return array("h", f.readframes(f.getnframes()))


def gap(ms: int) -> array:
    return array("h", [0] * (RATE * ms // 1000))


def write_wav(
    path: Path, samples: list[int], *, rate: int = RATE, channels: int = 1, width: int = 2
) -> None:
    with wave.open(str(path), "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(width)
        f.setframerate(rate)
        if width == 2:
            f.writeframes(struct.pack(f"<{len(samples)}h", *samples))
        else:  # 8-bit: unsigned
            f.writeframes(bytes((v >> 8) + 128 for v in samples))


def tone(freq: float, seconds: float, rate: int = RATE, amplitude: int = 9000) -> list[int]:
    return [
        round(amplitude * math.sin(2 * math.pi * freq * i / rate))
        for i in range(int(rate * seconds))
    ]


def crossings(samples: array) -> int:
    return sum(1 for a, b in itertools.pairwise(samples) if a < 0 <= b)


def test_the_call_is_chime_please_ticket_number_to_counter_in_that_order() -> None:
    """ "请 B002 号 到 3 号柜台": every sample of the joined call is the clip files' and the
    pauses', in the order a caller says it."""
    joined = callvoice.call_audio("B002", "3", callvoice.ClipBank())
    word, phrase = gap(30), gap(140)
    expected = (
        clip("chime")
        + gap(250)
        + clip("qing")
        + phrase
        + clip("B")
        + word
        + clip("0")
        + word
        + clip("0")
        + word
        + clip("2")
        + word
        + clip("hao")
        + phrase
        + clip("dao")
        + word
        + clip("3")
        + word
        + clip("hao")
        + word
        + clip("guitai")
    )
    assert joined == expected
    assert 3.0 < len(joined) / RATE < 5.5  # a call, not a speech: about 4.7 s

    with wave.open(io.BytesIO(callvoice.wav_bytes(joined))) as f:
        assert (f.getnchannels(), f.getsampwidth(), f.getframerate()) == (1, 2, RATE)
        assert array("h", f.readframes(f.getnframes())) == joined


@pytest.mark.parametrize(
    ("counter", "said"),
    [
        ("3", ["3"]),
        ("3 号柜台", ["3"]),
        ("Counter 10", ["shi"]),
        ("12", ["shi", "2"]),
        ("20", ["2", "shi"]),
        ("35", ["3", "shi", "5"]),
        ("105", ["1", "0", "5"]),
    ],
)
def test_a_counter_is_said_as_a_chinese_number(counter: str, said: list[str]) -> None:
    steps = [s.clip for s in callvoice.call_steps("J015", counter)]
    assert steps == ["chime", "qing", "J", "0", "1", "5", "hao", "dao", *said, "hao", "guitai"]


def test_a_counter_without_a_number_is_said_to_the_counter() -> None:
    steps = [s.clip for s in callvoice.call_steps("B001", "贵宾室")]
    assert steps[-2:] == ["dao", "guitai"] and "hao" in steps  # 请 B001 号 到柜台


def test_a_ticket_letter_without_a_clip_is_said_in_a_sentence() -> None:
    with pytest.raises(callvoice.VoiceError, match=r'The ticket X001 has "X"'):
        callvoice.call_steps("X001", "3")


def test_the_shipped_clips_are_all_there_in_one_format_and_level() -> None:
    """Every word of every call has its clip, at the rate of the scan sounds (joined without
    resampling), trimmed (no word longer than a second) and at one level (-3 dBFS)."""
    assert set(TICKET_PREFIX.values()) <= set(callvoice.LETTERS)
    with wave.open(str(ASSETS / "sounds" / "ok.wav"), "rb") as f:
        assert f.getframerate() == RATE == callvoice.RATE
    shipped = {p.stem for p in (ASSETS / "voice").glob("*.wav")}
    assert shipped == set(callvoice.CLIPS)
    for name in callvoice.CLIPS:
        samples = clip(name)
        peak = max(abs(v) for v in samples)
        if name == "chime":
            assert abs(peak - 0.5 * 32767) < 2 and len(samples) / RATE < 0.7
            continue
        assert abs(peak - 0.7 * 32767) < 2, name
        assert 0.15 < len(samples) / RATE < 1.0, name
        # Trimmed: sound within 10 ms of each end, not espeak's 0.2 s of silence.
        edge = RATE // 100 + 1
        assert max(abs(v) for v in samples[: edge * 2]) > 0.02 * peak, name
        assert max(abs(v) for v in samples[-edge * 2 :]) > 0.02 * peak, name


def test_a_bank_recording_replaces_exactly_its_word(tmp_path: Path) -> None:
    """A file in the voice folder with a clip's name replaces that clip alone: the samples
    before and after it are the same; the new word is trimmed and brought to the level."""
    shipped = callvoice.call_audio("B002", "3", callvoice.ClipBank())
    folder = tmp_path / "voice"
    folder.mkdir()
    recorded = [0] * 4410 + tone(440, 0.5) + [0] * 8820  # 0.2 s of silence, the word, 0.4 s
    write_wav(folder / "qing.wav", recorded)
    bank = callvoice.ClipBank(folder)
    own = callvoice.call_audio("B002", "3", bank)

    start = len(clip("chime")) + len(gap(250))
    old = len(clip("qing"))
    assert own[:start] == shipped[:start]
    new = len(own) - len(shipped) + old
    assert own[start + new :] == shipped[start + old :]
    word = own[start : start + new]
    assert word != clip("qing")
    assert abs(len(word) / RATE - 0.52) < 0.01  # the tone and 10 ms either side
    assert max(abs(v) for v in word) == round(0.7 * 32767)
    assert abs(crossings(word) - 220) <= 3  # 440 Hz for 0.5 s: the recording, not noise
    assert bank.load().replaced == ("qing",) and bank.load().problems == ()


def test_a_recording_at_another_rate_and_in_stereo_is_converted(tmp_path: Path) -> None:
    """A phone or a studio records at 44.1 or 48 kHz, often in stereo or 8-bit: converted to
    the shipped format, the same length and pitch."""
    folder = tmp_path / "voice"
    folder.mkdir()
    left = tone(500, 0.4, rate=44100)
    write_wav(folder / "3.wav", [v for s in left for v in (s, s)], rate=44100, channels=2)
    write_wav(folder / "5.wav", tone(300, 0.3, rate=8000), rate=8000, width=1)
    clips = callvoice.ClipBank(folder).load(["3", "5"])
    assert clips.problems == () and set(clips.replaced) == {"3", "5"}
    three, five = clips.samples["3"], clips.samples["5"]
    assert abs(len(three) / RATE - 0.40) < 0.01 and abs(crossings(three) - 200) <= 3
    assert abs(len(five) / RATE - 0.30) < 0.01 and abs(crossings(five) - 90) <= 3


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"ID3\x04 this is an mp3, renamed", "is not a PCM WAV file"),
        (None, "is 4.0 s long; a clip says one word"),
        (b"", "is not a PCM WAV file"),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_in_a_sentence_naming_it(
    tmp_path: Path, content: bytes | None, said: str
) -> None:
    folder = tmp_path / "voice"
    folder.mkdir()
    bad = folder / "hao.wav"
    if content is None:
        write_wav(bad, tone(200, 4.0))
    else:
        bad.write_bytes(content)
    bank = callvoice.ClipBank(folder)
    clips = bank.load()
    assert clips.replaced == ()
    (problem,) = clips.problems
    assert str(bad) in problem and said in problem and "the built-in clip is used" in problem
    # The call is still spoken, with the shipped word.
    assert callvoice.call_audio("B002", "3", bank) == callvoice.call_audio(
        "B002", "3", callvoice.ClipBank()
    )


def test_a_silent_recording_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "voice"
    folder.mkdir()
    write_wav(folder / "dao.wav", [0] * 8000)
    (problem,) = callvoice.ClipBank(folder).load().problems
    assert "dao.wav is silent" in problem


def test_a_recording_dropped_in_later_is_used_from_the_next_call(tmp_path: Path) -> None:
    folder = tmp_path / "voice"
    folder.mkdir()
    bank = callvoice.ClipBank(folder)
    before = callvoice.call_audio("B002", "3", bank)
    write_wav(folder / "guitai.wav", tone(330, 0.6))
    after = callvoice.call_audio("B002", "3", bank)
    assert after[: len(before) - len(clip("guitai"))] == before[: len(before) - len(clip("guitai"))]
    assert after != before and bank.load().replaced == ("guitai",)


def test_volume_scales_the_samples_and_zero_is_silence() -> None:
    bank = callvoice.ClipBank()
    full = callvoice.call_audio("B002", "3", bank)
    half = callvoice.call_audio("B002", "3", bank, volume=50)
    assert half == array("h", (round(v * 0.25) for v in full))
    assert not any(callvoice.call_audio("B002", "3", bank, volume=0))
