"""A test tone to publish, and the frequency found in what was received.

The frequency is judged by the spectrum of the whole window (numpy, which the rtc SDK depends on):
frames lost, repeated or concealed by the codec when the machine is busy move energy around, but
the tone stays the strongest peak, where counting zero crossings by hand is thrown off by each gap.
"""

from __future__ import annotations

from typing import Any, Iterator

SAMPLE_RATE = 48_000
TONE_HZ = 440.0
FRAME_MS = 10


def tone_frames(frequency: float = TONE_HZ, sample_rate: int = SAMPLE_RATE, frame_ms: int = FRAME_MS,
                amplitude: float = 0.5) -> Iterator[Any]:
    """Endless 16-bit mono frames (numpy int16) of a sine wave, phase-continuous across frames."""
    import numpy as np

    per_frame = sample_rate * frame_ms // 1000
    n = 0
    while True:
        t = np.arange(n, n + per_frame, dtype=np.float64)
        yield (amplitude * 32767 * np.sin(2 * np.pi * frequency * t / sample_rate)).astype(np.int16)
        n += per_frame


def rms(samples: Any) -> float:
    import numpy as np

    data = np.asarray(samples, dtype=np.float64)
    return float(np.sqrt(np.mean(data * data))) if data.size else 0.0


def estimate_frequency(samples: Any, sample_rate: int = SAMPLE_RATE) -> float:
    """The dominant frequency of the window: the peak of its Hann-windowed spectrum, refined between bins
    (parabolic interpolation on the log magnitude); 0.0 for silence or a window too short to tell."""
    import numpy as np

    data = np.asarray(samples, dtype=np.float64)
    if data.size < 64 or not np.any(data):
        return 0.0
    data = data - data.mean()
    spectrum = np.abs(np.fft.rfft(data * np.hanning(data.size)))
    spectrum[0] = 0.0
    peak = int(np.argmax(spectrum))
    if spectrum[peak] <= 0.0:
        return 0.0
    offset = 0.0
    if 0 < peak < spectrum.size - 1:
        a, b, c = np.log(spectrum[peak - 1:peak + 2] + 1e-12)
        denominator = a - 2 * b + c
        offset = 0.5 * (a - c) / denominator if denominator else 0.0
    return float((peak + offset) * sample_rate / data.size)
