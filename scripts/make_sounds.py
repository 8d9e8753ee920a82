"""Generate the scan-result sounds in assets/sounds (run again only to change them).

Distinct at a noisy venue without being shrill: ok = two rising tones, warn = two equal mid
tones, error = one long low tone. 16-bit mono WAV, which QSoundEffect plays everywhere.
"""

import math
import struct
import wave
from pathlib import Path

RATE = 22050
OUT = Path(__file__).resolve().parent.parent / "assets" / "sounds"


def tone(freq: float, seconds: float, volume: float = 0.5) -> list[int]:
    n = int(RATE * seconds)
    fade = int(RATE * 0.01)
    samples = []
    for i in range(n):
        envelope = min(1.0, i / fade, (n - i) / fade)
        samples.append(int(32767 * volume * envelope * math.sin(2 * math.pi * freq * i / RATE)))
    return samples


def silence(seconds: float) -> list[int]:
    return [0] * int(RATE * seconds)


def write(name: str, samples: list[int]) -> None:
    with wave.open(str(OUT / f"{name}.wav"), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(RATE)
        f.writeframes(struct.pack(f"<{len(samples)}h", *samples))


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    write("ok", tone(880, 0.09) + silence(0.03) + tone(1320, 0.12))
    write("warn", tone(660, 0.12) + silence(0.06) + tone(660, 0.12))
    write("error", tone(220, 0.45, volume=0.6))
