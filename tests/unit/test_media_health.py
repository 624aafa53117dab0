"""When the doctor may blame its own CPU starvation for missing media: only when the loop lost much time."""

from __future__ import annotations

import time

from livekit_doctor.checks.plumbing.media.media_health import LagMeter


def meter(late: int, lost: float, elapsed: float) -> LagMeter:
    return LagMeter(worst=0.2, late=late, lost=lost, started=time.perf_counter() - elapsed)


def test_one_hiccup_during_a_blocked_connect_is_not_starvation():
    """A 10 s ICE timeout with one 200 ms stall (an import, a GC pause): the network is to blame."""
    assert not meter(late=1, lost=0.3, elapsed=10).starved


def test_frequent_small_lateness_is_not_starvation():
    assert not meter(late=5, lost=0.8, elapsed=10).starved


def test_a_loop_that_lost_a_third_of_the_time_was_starved():
    starved = meter(late=12, lost=3.5, elapsed=10)
    assert starved.starved and "3.5 s lost in all" in starved.describe()
