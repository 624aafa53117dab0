"""A short speech-like utterance the doctor says to a voice agent, and the energy gate it listens with.

Not a tone: voice-activity detectors ignore steady sines. This is what a voice is made of: a
glottal pulse train (pitch falling from 150 to 110 Hz, as a statement does) shaped by the
formants of two vowels (/a/, then /i/), in two syllables with a consonant-like gap, at a
talking level. Built with numpy (a dependency of the rtc SDK) on first use, deterministic.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 48_000
FRAME_SAMPLES = 480  # 10 ms
# (F1, F2, F3) in Hz of the syllables' vowels (adult male averages), each 140 ms long
VOWELS = ((730.0, 1090.0, 2440.0), (270.0, 2290.0, 3010.0))
SYLLABLE_MS, GAP_MS = 140, 40
PITCH_HZ = (150.0, 110.0)
FORMANT_BANDWIDTH_HZ = 90.0
PEAK = 0.35  # of full scale: a close-talking microphone
ENERGY_GATE = 400.0  # RMS of 16-bit samples above which a frame is voice, not silence or codec noise


@lru_cache(maxsize=1)
def utterance() -> "np.ndarray":
    """The utterance as int16 mono samples at SAMPLE_RATE (about 320 ms)."""
    import numpy as np

    parts = []
    total = len(VOWELS) * SYLLABLE_MS + (len(VOWELS) - 1) * GAP_MS
    for i, formants in enumerate(VOWELS):
        start_ms = i * (SYLLABLE_MS + GAP_MS)
        t = np.arange(SAMPLE_RATE * SYLLABLE_MS // 1000) / SAMPLE_RATE
        progress = (start_ms + t * 1000) / total
        pitch = PITCH_HZ[0] + (PITCH_HZ[1] - PITCH_HZ[0]) * progress
        phase = 2 * math.pi * np.cumsum(pitch) / SAMPLE_RATE
        voice = np.zeros_like(t)
        for k in range(1, int(4000 / PITCH_HZ[1])):  # harmonics up to 4 kHz, -6 dB/octave (glottal source)
            freq = k * pitch
            gain = sum(1.0 / (1.0 + ((freq - f) / FORMANT_BANDWIDTH_HZ) ** 2) for f in formants)
            voice += gain / k * np.sin(k * phase)
        envelope = np.sin(np.pi * np.minimum(1.0, t / (SYLLABLE_MS / 1000))) ** 0.5  # rise and fall of a syllable
        parts.append(voice * envelope)
        if i < len(VOWELS) - 1:
            parts.append(np.zeros(SAMPLE_RATE * GAP_MS // 1000))
    signal = np.concatenate(parts)
    signal *= PEAK * 32767 / np.max(np.abs(signal))
    return signal.astype(np.int16)


def utterance_frames() -> list[bytes]:
    """The utterance cut into 10 ms frames (the last one padded with silence)."""
    import numpy as np

    samples = utterance()
    padded = np.concatenate([samples, np.zeros(-len(samples) % FRAME_SAMPLES, dtype=np.int16)])
    return [padded[i:i + FRAME_SAMPLES].tobytes() for i in range(0, len(padded), FRAME_SAMPLES)]


def frame_rms(data: bytes) -> float:
    """RMS of one frame of 16-bit samples."""
    import numpy as np

    samples = np.frombuffer(data, dtype=np.int16).astype(np.float64)
    return float(np.sqrt(np.mean(samples * samples))) if samples.size else 0.0


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (the value a listener actually waited, not an interpolation)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]
