import array
import itertools

import pytest

from livekit_doctor.checks.plumbing.tone import estimate_frequency, rms, tone_frames


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
