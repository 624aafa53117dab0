"""A test tone to publish and the frequency found in what was received (standard library only)."""

from __future__ import annotations

import array
import math

SAMPLE_RATE = 48_000
TONE_HZ = 440.0
FRAME_MS = 10


def tone_frames(frequency: float = TONE_HZ, sample_rate: int = SAMPLE_RATE, frame_ms: int = FRAME_MS,
                amplitude: float = 0.5):
    """Endless 16-bit mono frames of a sine wave, phase-continuous across frames."""
    per_frame = sample_rate * frame_ms // 1000
    n = 0
    while True:
        yield array.array("h", (int(amplitude * 32767 * math.sin(2 * math.pi * frequency * (n + i) / sample_rate))
                                for i in range(per_frame)))
        n += per_frame


def rms(samples: array.array) -> float:
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def estimate_frequency(samples: array.array, sample_rate: int = SAMPLE_RATE) -> float:
    """Frequency from the median period between rising zero crossings (interpolated between
    samples): a codec's glitch or a lost packet moves one period, not the estimate."""
    crossings = []
    for i in range(1, len(samples)):
        a, b = samples[i - 1], samples[i]
        if a < 0 <= b:
            crossings.append(i - 1 + (-a / (b - a) if b != a else 0))
    if len(crossings) < 2:
        return 0.0
    periods = sorted(b - a for a, b in zip(crossings, crossings[1:]))
    return sample_rate / periods[len(periods) // 2]
