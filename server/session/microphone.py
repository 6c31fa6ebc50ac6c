"""The hands-free microphone of one session: listening on and off, barge-in, partial transcripts, end of turn.

Between `listen_start` and `listen_stop` every binary frame is microphone audio (server.session.mic_stream). Speech
over a reply stops it (barge-in); while the user speaks, partial transcripts (and how their words read, for the
listening face) are sent when the engines are free; a long enough pause ends the user's turn, which the session
then starts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from core.emotion import EmotionState
from server.metrics import Metrics
from server.protocol import EmotionOut, ListeningOut, PartialTranscriptOut, ProtocolError, SpeechEndOut, SpeechStartOut
from server.session.mic_stream import MIC_RATE, EndOfTurn, MicStream, PartialAudio, SpeechStart
from server.session.scheduling import TurnScheduler
from speech.base import Recognizer
from speech.streaming.endpointer import Endpointer, EndpointerEvent

log = logging.getLogger(__name__)


class MicrophoneHost(Protocol):
    """What the microphone needs of its session: whether it may start turns, a way to send, a way to start one."""

    @property
    def authorised(self) -> bool:
        """The client has said `hello` with the right token (or none is needed)."""
        ...

    async def send(self, message: BaseModel) -> None:
        """Send one JSON message to the client."""
        ...

    def start_audio_turn(self, pcm: npt.NDArray[np.int16], input_end: float, endpoint_ms: float) -> None:
        """Start a turn from a finished utterance (raises ProtocolError, e.g. rate_limited)."""
        ...


class Microphone:
    """One session's hands-free microphone; `listening` between `listen_start` and `listen_stop`."""

    def __init__(
        self,
        host: MicrophoneHost,
        turns: TurnScheduler,
        recognizer: Recognizer,
        make_endpointer: Callable[[], Endpointer] | None,
        metrics: Metrics | None = None,
        perceive: Callable[[str], EmotionState] | None = None,
    ) -> None:
        self.host = host
        self.turns = turns
        self.recognizer = recognizer
        self.make_endpointer = make_endpointer
        self.metrics = metrics
        # Reads each partial transcript for the listening face (`listening`); None: partials are not perceived.
        self.perceive = perceive
        self._mic: MicStream | None = None
        self._partial: asyncio.Task[None] | None = None

    @property
    def listening(self) -> bool:
        """Binary frames are microphone audio now."""
        return self._mic is not None

    def start(self, in_utterance: bool) -> None:
        """`listen_start`: open the stream (once; a second start changes nothing)."""
        if self.make_endpointer is None:
            raise ProtocolError("invalid_message", "this server has no streaming microphone; use audio_start")
        if in_utterance:
            raise ProtocolError("invalid_message", "listen_start inside an utterance; send audio_end first")
        if self._mic is None:
            self._mic = MicStream.open(self.make_endpointer)

    async def stop(self) -> None:
        """`listen_stop`: close the stream; a turn being spoken ends now."""
        mic, self._mic = self._mic, None
        if mic is not None:
            await self._on_events(mic.close())

    async def audio(self, data: bytes) -> None:
        """One binary frame of microphone audio."""
        mic = self._mic
        assert mic is not None, "only while listening"
        # VAD inference is a fraction of a millisecond per 32 ms window, but a worker thread keeps the loop free.
        events = await asyncio.to_thread(mic.feed, data, self.turns.answering())
        await self._on_events(events)

    def close(self) -> None:
        """The connection is gone: a half-spoken turn of a dropped connection is not a turn."""
        if self._partial is not None:
            self._partial.cancel()
        self._mic = None

    async def _on_events(self, events: list[EndpointerEvent]) -> None:
        for event in events:
            if isinstance(event, SpeechStart):
                await self._on_speech_start(event)
            elif isinstance(event, PartialAudio):
                self._start_partial(event)
            elif isinstance(event, EndOfTurn):
                await self._on_end_of_turn(event)

    async def _on_speech_start(self, event: SpeechStart) -> None:
        """The user started speaking: a reply in progress stops (barge-in) and the face listens.

        Speech before the running turn's reply has started is no barge-in (the avatar has said nothing yet), e.g.
        the user went on after a pause the endpointer took for the end of their turn: that turn still stops, as the
        newest input wins, but nothing was interrupted.
        """
        turns = self.turns
        interrupted = turns.turn_id if turns.answering() else None
        if turns.replying() and not turns.reply_ended():
            turns.cancel()
        if interrupted is not None and self.metrics is not None:
            self.metrics.barge_in()
        await self.host.send(SpeechStartOut(barge_in=interrupted is not None, turn_id=interrupted))

    def _start_partial(self, event: PartialAudio) -> None:
        # Partials are a nicety: skip one while the previous is still running, this session's turn is being made
        # (its stages want the cores) or the recognizer is busy with another session's turn.
        busy = self._partial is not None and not self._partial.done()
        if not self.host.authorised or busy or self.turns.running or self.turns.pipeline.guards.asr.busy:
            return
        self._partial = asyncio.create_task(self._partial_transcript(event.pcm))

    async def _partial_transcript(self, pcm: npt.NDArray[np.int16]) -> None:
        try:
            async with self.turns.pipeline.guards.partials():  # the recognizer's and perception's guards
                transcript = await asyncio.to_thread(self.recognizer.transcribe, pcm, MIC_RATE)
                text = transcript.text.strip()
                # Perception of a few words is milliseconds beside the ASR: the face can mirror the user mid-turn.
                perceive = self.perceive
                emotion = await asyncio.to_thread(perceive, text) if perceive is not None and text else None
        except Exception:  # a failed partial costs nothing: the final transcript follows
            log.exception("partial transcript failed")
            return
        if text and self._mic is not None:
            await self.host.send(PartialTranscriptOut(text=text))
            if emotion is not None:
                await self.host.send(ListeningOut(emotion=EmotionOut.of(emotion)))

    async def _on_end_of_turn(self, event: EndOfTurn) -> None:
        """The user paused long enough: their utterance becomes a turn (interrupting anything still running)."""
        if self._partial is not None:
            self._partial.cancel()
        endpoint_s = max(0.0, event.time - event.speech_end)
        await self.host.send(
            SpeechEndOut(
                turn_id=self.turns.next_turn,
                speech_ms=round((event.speech_end - event.start) * 1000.0, 1),
                endpoint_ms=round(endpoint_s * 1000.0, 1),
            )
        )
        if not self.host.authorised:
            raise ProtocolError("unauthorized", "send `hello` with the server's token first")
        if self.turns.replying():  # e.g. a typed turn started while the user was speaking: the newest input wins
            self.turns.cancel()
        # The stream runs in real time, so the speech ended `endpoint_s` before now.
        input_end = time.perf_counter() - endpoint_s
        self.host.start_audio_turn(event.pcm, input_end, endpoint_s * 1000.0)
