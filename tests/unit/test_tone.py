import array
import itertools

import pytest

from livekit_doctor.checks.plumbing.media.tone import estimate_frequency, rms, tone_frames


@pytest.mark.parametrize("hz", [220.0, 440.0, 1000.0])
def test_generated_tone_is_found_again(hz):
    samples = array.array("h")
    for frame in itertools.islice(tone_frames(hz), 20):  # 200 ms
        samples.extend(frame)
    assert len(samples) == 9600
    assert estimate_frequency(samples) == pytest.approx(hz, rel=0.002)
    assert rms(samples) == pytest.approx(0.5 * 32767 / 2 ** 0.5, rel=0.01)


def test_silence_has_no_frequency():
    assert estimate_frequency(array.array("h", [0] * 4800)) == 0.0
    assert rms(array.array("h")) == 0.0


def test_lost_and_repeated_frames_do_not_move_the_tone():
    """A starved sender or receiver: a quarter of the 10 ms frames silent, some repeated."""
    import random

    import numpy as np

    rng = random.Random(7)
    frames = []
    for frame in itertools.islice(tone_frames(440.0), 26):
        roll = rng.random()
        frames.append(np.zeros_like(frame) if roll < 0.25 else frames[-1] if roll < 0.4 and frames else frame)
    assert estimate_frequency(np.concatenate(frames)[480 * 6:]) == pytest.approx(440.0, rel=0.01)
