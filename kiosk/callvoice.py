"""The spoken call: "请 B002 号 到 3 号柜台" joined from phrase clips, without a speech engine.

The public display beside a counter plays a chime and the call in Mandarin when a customer is
called there. The laptop has no network and no speech engine, so the call is joined at run
time from one short clip per word (``assets/voice``, made once by ``scripts/make_voice.py``):
digits, the ticket letters, 请 / 号 / 到 / 柜台, and 十 for counters past 9. All clips are
16-bit mono PCM at ``RATE``, so joining them is concatenating samples.

A bank may record its own voice: a file with a clip's name in the voice folder (the
``Settings.voice_folder`` of the laptop, by default ``voice`` in the app's data folder)
replaces that clip alone. Such a file is converted to the shipped format (any PCM width,
mono or stereo, any rate), trimmed of its silence and brought to the shipped level; one
that cannot be read is refused with a sentence naming it and the shipped clip is used.

Pure Python (``wave``, ``array``): the domain imports no Qt; ``ui.call_voice`` plays it.
"""

from __future__ import annotations

import io
import math
import re
import sys
import wave
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from kiosk.datadir import default_data_dir
from kiosk.errors import KioskError
from kiosk.i18n import _

RATE = 22050  # the rate of assets/sounds: every clip joins without resampling
WIDTH = 2  # bytes per sample (16-bit)
CHIME = "chime"
# Word clips by pinyin name, with what each says: the name tells a bank what to record.
WORDS = {"qing": "请", "hao": "号", "dao": "到", "guitai": "柜台", "shi": "十"}
DIGITS = tuple("0123456789")  # 零 一 二 … 九, one clip each
LETTERS = ("B", "J")  # the ticket prefixes (kiosk.services.reception.TICKET_PREFIX)
CLIPS: tuple[str, ...] = (CHIME, *WORDS, *DIGITS, *LETTERS)

# Silence after a clip, in milliseconds: the chime lets the hall turn its head; words of one
# phrase ("B 零 零 二 号", "到 三 号 柜台") follow closely; phrases are set apart.
PAUSE_AFTER_CHIME = 250
PAUSE_WORD = 30
PAUSE_PHRASE = 140

SPEECH_PEAK = 0.70  # of full scale: the level every word clip is brought to (-3 dBFS)
CHIME_PEAK = 0.50  # the chime sits a little under the voice
LONGEST_CLIP = 3.0  # seconds: a clip says one word; a longer file is a wrong file
SILENCE_FLOOR = 0.02  # of the clip's peak: quieter than this at either end is silence


class VoiceError(KioskError):
    """A voice clip that cannot be used; the message names the file and why."""


@dataclass(frozen=True)
class Step:
    """One clip of a call and the silence after it."""

    clip: str
    pause_ms: int


def counter_number(counter: str) -> int | None:
    """The number a counter is called by: the first number in its name ("3", "3 号柜台",
    "Counter 12" -> 3, 3, 12); None for a name without one ("贵宾室")."""
    found = re.search(r"[0-9]+", counter)
    return int(found.group()) if found else None


def number_clips(number: int) -> list[str]:
    """How a counter number is said: 3 三, 10 十, 12 十二, 20 二十, 35 三十五; from 100 on,
    digit by digit (一零五), as a room number is."""
    if 0 <= number <= 9:
        return [str(number)]
    if number <= 99:
        tens, units = divmod(number, 10)
        said = ["shi"] if tens == 1 else [str(tens), "shi"]
        return said + ([str(units)] if units else [])
    return list(str(number))


def ticket_clips(ticket: str) -> list[str]:
    """A ticket said character by character, as queue callers do: "B002" -> B 零 零 二."""
    clips = []
    for char in ticket.strip().upper():
        if char not in LETTERS and char not in DIGITS:
            raise VoiceError(
                _('The ticket {ticket} has "{char}", which has no voice clip.').format(
                    ticket=ticket, char=char
                )
            )
        clips.append(char)
    if not clips:
        raise VoiceError(_("There is no ticket to call."))
    return clips


def call_steps(ticket: str, counter: str) -> list[Step]:
    """The clips of one call in order: chime, 请, the ticket, 号, 到, the counter, 号柜台.

    A counter named without a number is said "到柜台" (the display shows its name)."""
    steps = [Step(CHIME, PAUSE_AFTER_CHIME), Step("qing", PAUSE_PHRASE)]
    steps += [Step(clip, PAUSE_WORD) for clip in ticket_clips(ticket)]
    steps.append(Step("hao", PAUSE_PHRASE))
    number = counter_number(counter)
    if number is None:
        steps += [Step("dao", PAUSE_WORD), Step("guitai", 0)]
        return steps
    steps.append(Step("dao", PAUSE_WORD))
    steps += [Step(clip, PAUSE_WORD) for clip in number_clips(number)]
    steps += [Step("hao", PAUSE_WORD), Step("guitai", 0)]
    return steps


# -- samples -------------------------------------------------------------------------------


def silence(ms: int) -> array:
    return array("h", bytes(WIDTH * (RATE * ms // 1000)))


def _to_int16(frames: bytes, width: int) -> array:
    """PCM frames of any width as 16-bit samples (WAV: 8-bit unsigned, wider signed LE)."""
    if width == 2:
        samples = array("h", frames)
        if sys.byteorder == "big":
            samples.byteswap()
        return samples
    if width == 1:
        return array("h", ((b - 128) << 8 for b in frames))
    step = width
    return array(
        "h",
        (
            int.from_bytes(frames[i + step - 2 : i + step], "little", signed=True)
            for i in range(0, len(frames) - step + 1, step)
        ),
    )


def _to_mono(samples: array, channels: int) -> array:
    if channels == 1:
        return samples
    return array(
        "h",
        (
            sum(samples[i : i + channels]) // channels
            for i in range(0, len(samples) - channels + 1, channels)
        ),
    )


def _resample(samples: array, rate: int) -> array:
    """To ``RATE`` by linear interpolation, after averaging neighbours when the source is
    faster (a crude low-pass: speech keeps its words, the top octave is lost anyway)."""
    if rate == RATE or not samples:
        return samples
    source = samples
    if rate > RATE:
        span = max(1, round(rate / RATE))
        if span > 1:
            source = array(
                "h",
                (
                    sum(samples[max(0, i - span + 1) : i + 1])
                    // len(samples[max(0, i - span + 1) : i + 1])
                    for i in range(len(samples))
                ),
            )
    count = max(1, round(len(source) * RATE / rate))
    ratio = (len(source) - 1) / max(1, count - 1)
    out = array("h", bytes(WIDTH * count))
    last = len(source) - 1
    for i in range(count):
        position = i * ratio
        left = int(position)
        right = min(left + 1, last)
        fraction = position - left
        out[i] = round(source[left] * (1 - fraction) + source[right] * fraction)
    return out


def trim(samples: array, floor: float = SILENCE_FLOOR, margin_ms: int = 10) -> array:
    """Without the silence at either end (quieter than ``floor`` of the peak), keeping
    ``margin_ms`` and fading the first and last 5 ms so the cut does not click."""
    if not samples:
        return samples
    peak = max(abs(min(samples)), abs(max(samples)))
    if peak == 0:
        return array("h")
    limit = peak * floor
    loud = [i for i, v in enumerate(samples) if abs(v) > limit]
    margin = RATE * margin_ms // 1000
    start = max(0, loud[0] - margin)
    end = min(len(samples), loud[-1] + 1 + margin)
    out = samples[start:end]
    fade = min(len(out) // 2, RATE * 5 // 1000)
    for i in range(fade):
        out[i] = out[i] * i // fade
        out[-1 - i] = out[-1 - i] * i // fade
    return out


def normalise(samples: array, peak: float = SPEECH_PEAK) -> array:
    """Scaled so its loudest sample is ``peak`` of full scale: every word at one level."""
    loudest = max((abs(v) for v in samples), default=0)
    if loudest == 0:
        return samples
    gain = peak * 32767 / loudest
    return array("h", (max(-32768, min(32767, round(v * gain))) for v in samples))


def read_clip(path: Path) -> array:
    """A WAV file as 16-bit mono samples at ``RATE``, converted from whatever PCM it holds;
    ``VoiceError`` names the file and says what is wrong with it."""
    try:
        with wave.open(str(path), "rb") as f:
            channels, width, rate = f.getnchannels(), f.getsampwidth(), f.getframerate()
            frames = f.readframes(f.getnframes())
    except (wave.Error, EOFError) as error:
        raise VoiceError(
            _(
                "The voice clip {file} is not a PCM WAV file ({error}): record it again as "
                "WAV (16-bit PCM); the built-in clip is used meanwhile."
            ).format(file=path, error=error)
        ) from error
    except OSError as error:
        raise VoiceError(
            _("The voice clip {file} cannot be read ({error}); the built-in clip is used.").format(
                file=path, error=error.strerror or error
            )
        ) from error
    if width not in (1, 2, 3, 4) or channels < 1 or rate < 4000:
        raise VoiceError(
            _(
                "The voice clip {file} has {bits}-bit samples at {rate} Hz in {channels} "
                "channels, which cannot be played; the built-in clip is used."
            ).format(file=path, bits=8 * width, rate=rate, channels=channels)
        )
    seconds = len(frames) / (width * channels * rate)
    if seconds > LONGEST_CLIP:
        raise VoiceError(
            _(
                "The voice clip {file} is {seconds:.1f} s long; a clip says one word "
                "(at most {most:.0f} s); the built-in clip is used."
            ).format(file=path, seconds=seconds, most=LONGEST_CLIP)
        )
    samples = _resample(_to_mono(_to_int16(frames, width), channels), rate)
    if not any(samples):
        raise VoiceError(
            _("The voice clip {file} is silent; the built-in clip is used.").format(file=path)
        )
    return samples


def shipped_folder() -> Path:
    return Path(str(resources.files("assets") / "voice"))


def default_voice_folder() -> Path:
    """Where a bank drops its own recordings unless the laptop's settings name a folder."""
    return default_data_dir() / "voice"


@dataclass(frozen=True)
class Clips:
    """Every clip of the call, ready to join, and what was refused on the way."""

    samples: dict[str, array]
    replaced: tuple[str, ...]  # the clips taken from the voice folder
    problems: tuple[str, ...]  # one sentence per refused file


class ClipBank:
    """The shipped clips with a bank's recordings over them, read again when a file changes
    (a recording dropped in while the display is open is used from the next call)."""

    def __init__(self, override: Path | None = None, shipped: Path | None = None) -> None:
        self.override = override
        self.shipped = shipped or shipped_folder()
        self._cache: dict[Path, tuple[tuple[int, int], array | VoiceError]] = {}

    def _read(self, path: Path, *, prepare: float | None) -> array:
        stat = path.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(path)
        if cached is None or cached[0] != key:
            try:
                samples = read_clip(path)
                if prepare is not None:
                    samples = normalise(trim(samples), prepare)
                    if not samples:
                        raise VoiceError(
                            _("The voice clip {file} is silent; the built-in clip is used.").format(
                                file=path
                            )
                        )
                value: array | VoiceError = samples
            except VoiceError as error:
                value = error
            cached = (key, value)
            self._cache[path] = cached
        if isinstance(cached[1], VoiceError):
            raise cached[1]
        return cached[1]

    def load(self, names: Iterable[str] = CLIPS) -> Clips:
        samples: dict[str, array] = {}
        replaced: list[str] = []
        problems: list[str] = []
        for name in dict.fromkeys(names):
            own = self.override / f"{name}.wav" if self.override is not None else None
            if own is not None and own.is_file():
                try:
                    peak = CHIME_PEAK if name == CHIME else SPEECH_PEAK
                    samples[name] = self._read(own, prepare=peak)
                    replaced.append(name)
                    continue
                except VoiceError as error:
                    problems.append(str(error))
                except OSError as error:  # gone or locked between the listing and the read
                    problems.append(
                        _(
                            "The voice clip {file} cannot be read ({error}); the built-in "
                            "clip is used."
                        ).format(file=own, error=error.strerror or error)
                    )
            samples[name] = self._read(self.shipped / f"{name}.wav", prepare=None)
        return Clips(samples, tuple(replaced), tuple(problems))

    def problems(self) -> tuple[str, ...]:
        """What is wrong with the voice folder's files now (empty: nothing)."""
        return self.load().problems


def join(steps: Sequence[Step], clips: dict[str, array]) -> array:
    """The call's samples: each step's clip, then its silence."""
    out = array("h")
    for step in steps:
        out += clips[step.clip]
        if step.pause_ms:
            out += silence(step.pause_ms)
    return out


def gain(volume: int) -> float:
    """The amplitude for a volume from 0 to 100: squared, so each step of the slider sounds
    about as much louder as the last (50 is a quarter, -12 dB); 0 is silent."""
    volume = min(max(volume, 0), 100)
    return (volume / 100) ** 2


def scaled(samples: array, volume: int) -> array:
    factor = gain(volume)
    if factor == 1.0:
        return array("h", samples)
    return array("h", (round(v * factor) for v in samples))


def wav_bytes(samples: array) -> bytes:
    """The samples as a WAV file (16-bit mono at ``RATE``), what a player is given."""
    data = array("h", samples)
    if sys.byteorder == "big":
        data.byteswap()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(WIDTH)
        f.setframerate(RATE)
        f.writeframes(data.tobytes())
    return buffer.getvalue()


def call_audio(ticket: str, counter: str, bank: ClipBank, volume: int = 100) -> array:
    """The samples of one call at ``volume`` (0 to 100)."""
    steps = call_steps(ticket, counter)
    clips = bank.load(step.clip for step in steps)
    return scaled(join(steps, clips.samples), volume)


def seconds(samples: array) -> float:
    return len(samples) / RATE


def peak_db(samples: array) -> float:
    loudest = max((abs(v) for v in samples), default=0)
    return 20 * math.log10(loudest / 32767) if loudest else float("-inf")
