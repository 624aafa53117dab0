"""Talking to a voice agent: the doctor's microphone, its ear on the agent's voice, and the turns.

The microphone sends audio all the time, silence between utterances, as a real one does: an
agent's endpointing needs the silence after an utterance to arrive to know it has ended. The
latency of a turn is measured on the doctor's own clock, from the moment the utterance's last
sample leaves the doctor's audio queue to the first frame of the agent's audio above the energy
gate (network and both jitter buffers included, as a caller hears it).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from livekit_doctor.checks.plumbing.media.speech import ENERGY_GATE, FRAME_SAMPLES, SAMPLE_RATE, frame_rms, utterance_frames

if TYPE_CHECKING:
    import asyncio

    from livekit_doctor.checks.plumbing.agents.agent_dispatch import AgentRun

ANSWER_WAIT = 5.0  # s from the end of an utterance to the agent's voice
# why a turn got no answer (AgentRun.answer_cause)
NO_AUDIO_TRACK, LEFT_WHILE_LISTENING, NO_ANSWER = "no audio track", "left while listening", "no answer"
QUIET_S = 0.25  # agent silence that ends its reply (or its greeting) before the next utterance
QUIET_CAP = 3.0  # s the doctor waits for a talking agent to pause before it speaks anyway
SUBSCRIBE_WAIT = 3.0  # s for the agent to subscribe to the doctor's microphone


class Mic:
    """The doctor's microphone track: silence, or the utterance when asked to speak."""

    def __init__(self) -> None:
        self.pending: list[bytes] = []
        self.ended: asyncio.Future[float] | None = None
        self.task: asyncio.Task[None] | None = None
        self.source: Any = None
        self.publication: Any = None

    async def start(self, room: Any) -> None:
        import asyncio

        from livekit import rtc

        self.source = rtc.AudioSource(SAMPLE_RATE, 1, queue_size_ms=50)  # a short queue: the clock stays honest
        track = rtc.LocalAudioTrack.create_audio_track("doctor-voice", self.source)
        self.publication = await room.local_participant.publish_track(
            track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE))
        self.task = asyncio.ensure_future(self._play())

    async def _play(self) -> None:
        from livekit import rtc

        silence = bytes(FRAME_SAMPLES * 2)
        while True:
            data = self.pending.pop(0) if self.pending else silence
            await self.source.capture_frame(rtc.AudioFrame(data, SAMPLE_RATE, 1, FRAME_SAMPLES))
            if data is not silence and not self.pending and self.ended is not None and not self.ended.done():
                self.ended.set_result(time.monotonic() + self.source.queued_duration)

    def say(self) -> "asyncio.Future[float]":
        """Queue the utterance; the future holds the (monotonic) time its last sample is played out."""
        import asyncio

        self.ended = asyncio.get_running_loop().create_future()
        self.pending = utterance_frames()
        return self.ended

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()


class Ear:
    """Listens to the agent's audio track: when it was last loud, and the first loud frame after a time."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.last_loud = 0.0
        self.after: float | None = None
        self.heard: asyncio.Future[float] | None = None
        self.task: asyncio.Task[None] | None = None
        self.stream: Any = None

    def start(self, track: Any) -> None:
        import asyncio

        from livekit import rtc

        self.stream = rtc.AudioStream(track, sample_rate=SAMPLE_RATE, num_channels=1)
        self.task = asyncio.ensure_future(self._listen())

    async def _listen(self) -> None:
        async for event in self.stream:
            now = time.monotonic()
            if frame_rms(bytes(event.frame.data)) > ENERGY_GATE:
                self.last_loud = now
                if self.heard is not None and not self.heard.done() and self.after is not None and now > self.after:
                    self.heard.set_result(now)

    def expect_after(self, when: float) -> "asyncio.Future[float]":
        import asyncio

        self.after, self.heard = when, asyncio.get_running_loop().create_future()
        return self.heard

    async def quiet(self) -> None:
        """Return once the agent has been silent for QUIET_S (or after QUIET_CAP); at once while it has said
        nothing yet (waiting then would not avoid a greeting that starts later, only delay the first turn)."""
        import asyncio

        if not self.last_loud:
            return
        deadline = time.monotonic() + QUIET_CAP
        while time.monotonic() < deadline:
            since = time.monotonic() - max(self.last_loud, self.started)
            if since >= QUIET_S:
                return
            await asyncio.sleep(QUIET_S - since)

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.stream is not None:
            await self.stream.aclose()


async def _agent_audio(room: Any, agent: Any) -> Any:
    """The agent's first audio track, once subscribed (the doctor's room auto-subscribes)."""
    import asyncio

    from livekit import rtc

    deadline = time.monotonic() + SUBSCRIBE_WAIT
    while time.monotonic() < deadline:
        for publication in agent.track_publications.values():
            if publication.kind == rtc.TrackKind.KIND_AUDIO and publication.track is not None:
                return publication.track
        await asyncio.sleep(0.02)
    return None


async def _subscribed(mic: Mic) -> None:
    """Wait (bounded) until the agent subscribes to the doctor's microphone: an utterance before that is lost."""
    import asyncio

    waiting = getattr(mic.publication, "wait_for_subscription", None)  # rtc releases before 0.18 lack it
    if waiting is not None:
        try:
            await asyncio.wait_for(waiting(), SUBSCRIBE_WAIT)
        except asyncio.TimeoutError:
            pass


async def talk(room: Any, agent: Any, run: "AgentRun", turns: int, left: "asyncio.Future[Any]", mic: Mic) -> None:
    """Say the utterance `turns` times, each after the agent fell quiet; record each answer's latency."""
    import asyncio

    track = await _agent_audio(room, agent)
    if track is None:
        run.answer_cause = NO_AUDIO_TRACK
        run.answer_problem = f"the agent publishes no audio track the doctor could subscribe to ({', '.join(run.tracks)})"
        return
    ear = Ear()
    ear.start(track)
    try:
        await _subscribed(mic)
        for _ in range(turns):
            await ear.quiet()
            ended = await asyncio.wait_for(mic.say(), 5)
            heard = ear.expect_after(ended)
            done, _ = await asyncio.wait({heard, left}, timeout=ended - time.monotonic() + ANSWER_WAIT,
                                         return_when=asyncio.FIRST_COMPLETED)
            run.turns += 1
            if heard in done:
                run.latencies_ms.append(round((heard.result() - ended) * 1000, 1))
            elif left in done:
                run.answer_cause = LEFT_WHILE_LISTENING
                run.answer_problem = f"the agent left the room during turn {run.turns} (it crashed or ended the session)"
                return
            else:
                run.answer_cause = NO_ANSWER
                run.answer_problem = (f"no audio above the energy gate from the agent within {ANSWER_WAIT:g} s after "
                                      f"utterance {run.turns} ended")
                return
    finally:
        await ear.close()
