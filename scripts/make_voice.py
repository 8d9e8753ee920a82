"""Generate the phrase clips of the spoken call in assets/voice (run again only to change them).

    apt-get install -y espeak-ng
    PYTHONPATH=. .venv/bin/python scripts/make_voice.py [--report]

One clip per word of "请 B002 号 到 3 号柜台" (``kiosk.callvoice.CLIPS``) and the chime before
it; the laptop joins them at run time (``kiosk.callvoice``), so it needs no speech engine.

Why these settings (compared by their phonemes and measured durations, since nobody could
listen here; ``--report`` prints the figures):

- Voice ``cmn-latn-pinyin``, fed pinyin with tone numbers. espeak-ng 1.51's ``cmn`` voice
  (``zh`` is the same voice) reads many Hanzi through its English rules: ``espeak-ng -v cmn
  --ipa 请`` gives ``kɪŋθɹiː`` ("king three": the pinyin qing3 spelt out in English), 号
  gives "h-a-o four". The pinyin voice gives ``tɕhi2ŋ`` and ``χɑu5``: the right syllables and
  tones. The ``zh`` MBROLA voice (mb-cn1) needs a non-free database Debian does not ship.
  Pinyin with tones rather than Hanzi, so a dictionary change cannot change a word.
- Speed 165 words a minute, a little under espeak's 175: a call is said to elderly customers
  across a noisy hall, digits must not run together. Trimmed, one syllable lasts 0.22-0.44 s;
  the call "请 B002 号 到 3 号柜台" has 10 clips and about 3.4 s of speech.
- Amplitude 60 (of 200): no sample reaches full scale before the level is set; pitch 50
  (the default; a man's voice carries better than a raised one in a crowd).
- Each clip trimmed of the silence espeak puts around a word (below 2 % of its peak, 10 ms
  kept, 5 ms fades: about half of each file was silence) and brought to a peak of -3 dBFS,
  so every word sounds as loud as the next. The letters are said as Chinese speakers say
  them (B "bi", J "zhei").

The chime is two bell-like notes (E5 then C5, with a soft octave, decaying), 0.6 s, a little
under the voice; the same 16-bit mono 22.05 kHz as assets/sounds, so nothing is resampled.
"""

from __future__ import annotations

import argparse
import io
import math
import shutil
import subprocess
import sys
import wave
from array import array
from pathlib import Path

from kiosk import callvoice
from kiosk.services.reception import TICKET_PREFIX

OUT = Path(__file__).resolve().parent.parent / "assets" / "voice"
VOICE = "cmn-latn-pinyin"
SPEED = 165
AMPLITUDE = 60
PITCH = 50

# What espeak-ng is given for each clip: pinyin with tone numbers.
SAID = {
    "qing": "qing3",
    "hao": "hao4",
    "dao": "dao4",
    "guitai": "gui4 tai2",
    "shi": "shi2",
    "0": "ling2",
    "1": "yi1",
    "2": "er4",
    "3": "san1",
    "4": "si4",
    "5": "wu3",
    "6": "liu4",
    "7": "qi1",
    "8": "ba1",
    "9": "jiu3",
    "B": "B",
    "J": "J",
}


def speak(text: str) -> array:
    """espeak-ng's samples for ``text`` (it writes 16-bit mono WAV at 22.05 kHz)."""
    settings = ["-v", VOICE, "-s", str(SPEED), "-a", str(AMPLITUDE), "-p", str(PITCH)]
    wav = subprocess.run(
        ["espeak-ng", *settings, "--stdout", text],
        capture_output=True,
        check=True,
    ).stdout
    with wave.open(io.BytesIO(wav)) as f:
        if (f.getnchannels(), f.getsampwidth(), f.getframerate()) != (1, 2, callvoice.RATE):
            sys.exit(f"espeak-ng wrote {f.getparams()}, expected 16-bit mono {callvoice.RATE}")
        samples = array("h", f.readframes(f.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def chime() -> array:
    """Ding-dong: two decaying bell notes, the second lower and longer."""
    rate = callvoice.RATE

    def note(freq: float, seconds: float) -> list[float]:
        n = int(rate * seconds)
        attack = int(rate * 0.005)
        out = []
        for i in range(n):
            t = i / rate
            envelope = min(1.0, i / attack) * math.exp(-4.0 * t) * min(1.0, (n - i) / attack)
            tone = math.sin(2 * math.pi * freq * t) + 0.3 * math.sin(4 * math.pi * freq * t)
            out.append(envelope * tone)
        return out

    samples = note(659.25, 0.25) + note(523.25, 0.35)
    return callvoice.normalise(
        array("h", (round(v * 20000) for v in samples)), callvoice.CHIME_PEAK
    )


def write(name: str, samples: array) -> None:
    (OUT / f"{name}.wav").write_bytes(callvoice.wav_bytes(samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--report", action="store_true", help="print each clip's figures")
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        sys.exit("espeak-ng is not installed: apt-get install -y espeak-ng")
    missing = set(TICKET_PREFIX.values()) - set(callvoice.LETTERS)
    if missing or set(SAID) | {callvoice.CHIME} != set(callvoice.CLIPS):
        sys.exit("kiosk.callvoice.CLIPS and this script's words differ: make them agree")
    OUT.mkdir(parents=True, exist_ok=True)
    write(callvoice.CHIME, chime())
    for name, text in SAID.items():
        raw = speak(text)
        clip = callvoice.normalise(callvoice.trim(raw))
        write(name, clip)
        if args.report:
            print(
                f"{name:7} {text:10} {callvoice.seconds(raw):.2f} s -> "
                f"{callvoice.seconds(clip):.2f} s, peak {callvoice.peak_db(raw):5.1f} -> "
                f"{callvoice.peak_db(clip):5.1f} dBFS"
            )


if __name__ == "__main__":
    main()
