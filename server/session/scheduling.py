"""The turns of one session: started one at a time, each after the previous, on the engines all sessions share.

Also what carries from turn to turn: the turn index, the agent's and the user's emotion, and the reply timelines
that turn the client's `played` reports into the part of a reply the listener actually heard.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from core.emotion import VAD, EmotionState
from server.metrics import Metrics
from server.protocol import ErrorOut, ProtocolError, ReplyEnd, ReplyStart
from server.session.rate_limit import TokenBucket
from server.turn.pipeline import TurnInput, TurnPipeline
from server.turn.played import ReplyTimeline
from server.turn.sink import TurnSink
from storage.store import ConversationStore, InputKind

log = logging.getLogger(__name__)

_KEPT_TIMELINES = 4  # a client reports what it played within a turn or two


@dataclass(frozen=True)
class TurnRequest:
    """What starts a turn: the session's identity and the user's input (typed text or 16 kHz mono PCM)."""

    session_id: str
    persona: str
    portrait: str | None  # the file of the session's uploaded portrait; None: the persona's own face
    kind: InputKind
    text: str = ""
    pcm: npt.NDArray[np.int16] | None = None
    input_end: float | None = None  # time.perf_counter() when the input ended; None: now
    endpoint_ms: float | None = None  # hands-free: the pause the endpointer waited for


@dataclass(frozen=True)
class _Heard:
    session_id: str
    timeline: ReplyTimeline


class TurnScheduler:
    """Runs a session's turns in order; `turn_lock` (shared by all sessions) lets one turn use the engines at once."""

    def __init__(
        self,
        pipeline: TurnPipeline,
        store: ConversationStore,
        turn_lock: asyncio.Lock,
        sink: TurnSink,
        history_turns: int,
        max_turns_per_minute: int,
        metrics: Metrics | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.store = store
        self.turn_lock = turn_lock
        self.sink = sink
        self.history_turns = history_turns
        self.max_turns_per_minute = max_turns_per_minute
        self.metrics = metrics
        self.next_turn = 0
        self.turns_started = 0
        self._rate = TokenBucket(max_turns_per_minute)
        self._agent_emotion: EmotionState | None = None
        self._user_emotion: EmotionState | None = None  # smoothed across turns
        self._turn: asyncio.Task[None] | None = None
        self.turn_id: int | None = None  # the turn `_turn` runs
        self._reply_started = False  # it has sent reply_start: the avatar is answering (speech over it barges in)
        # It has sent reply_end and is only tidying up (summary, model idle): a new turn may queue behind it.
        self._reply_ended = False
        self._cancel = asyncio.Event()
        # Reply timelines of the last turns and what the client says it played of them (barge-in, cancel).
        self._timelines: dict[int, _Heard] = {}
        self._played: dict[int, float] = {}

    # ------------------------------------------------------------ state of the running turn

    def observe(self, message: BaseModel) -> None:
        """Follow the running turn's messages on their way out: its reply has started, or ended."""
        if isinstance(message, ReplyEnd) and message.turn_id == self.turn_id:
            self._reply_ended = True
        if isinstance(message, ReplyStart) and message.turn_id == self.turn_id:
            self._reply_started = True

    @property
    def running(self) -> bool:
        """A turn is running (also one winding down after a cancel)."""
        return self._turn is not None and not self._turn.done()

    def replying(self) -> bool:
        """A turn is running and has not been cancelled."""
        return self.running and not self._cancel.is_set()

    def answering(self) -> bool:
        """A reply is being sent (reply_start is out, reply_end is not): speaking now talks over the avatar.

        After reply_end the client may still be playing the reply: it stops it by itself and reports `played`.
        """
        return self.replying() and self._reply_started and not self._reply_ended

    def reply_ended(self) -> bool:
        """The running turn has sent its whole reply."""
        return self._reply_ended

    def cancel(self) -> None:
        """Stop the running turn within a sentence (it is still stored); nothing happens when none runs."""
        if self.running:
            self._cancel.set()

    def check_idle(self) -> None:
        """Raise `busy` while a reply is still being made (a new input must wait for it or cancel it)."""
        # A cancelled turn is still winding down (up to one sentence): the next turn queues behind it.
        # So is one that has sent reply_end: the client has the whole reply and may answer at once.
        if self.running and not self._cancel.is_set() and not self._reply_ended:
            raise ProtocolError("busy", "a reply is still running; send cancel first")

    # ------------------------------------------------------------ starting and running turns

    def resume(self, session_id: str) -> str | None:
        """Continue a stored conversation: its next turn index and last emotions; returns its persona.

        None: nothing of it is stored yet (e.g. a reconnect before its first turn), so it starts afresh.
        """
        record = self.store.get_session(session_id)
        if record is None:
            self.next_turn, self._agent_emotion, self._user_emotion = 0, None, None
            return None
        self.next_turn = self.store.next_turn_index(record.id)
        turns = self.store.turns(record.id)
        last = next((t.agent_emotion for t in reversed(turns) if t.agent_emotion), None)
        self._agent_emotion = _emotion_from_dict(last) if last else None
        last_user = next((t.user_emotion for t in reversed(turns) if t.user_emotion), None)
        self._user_emotion = _emotion_from_dict(last_user) if last_user else None
        return record.persona

    def start(self, request: TurnRequest) -> None:
        """Start the next turn; it runs once the previous one has finished. Raises `rate_limited`."""
        if not self._rate.take():
            wait = self._rate.wait_seconds()
            raise ProtocolError(
                "rate_limited",
                f"too many turns (at most {self.max_turns_per_minute} a minute); try again in {wait:.1f} s",
                turn_id=self.next_turn,  # the turn that would have started (a hands-free `speech_end` named it)
            )
        turn = TurnInput(
            session_id=request.session_id,
            turn_index=self.next_turn,
            kind=request.kind,
            input_end=request.input_end if request.input_end is not None else time.perf_counter(),
            text=request.text,
            pcm=request.pcm,
            persona=request.persona,
            portrait=request.portrait,
            endpoint_ms=request.endpoint_ms,
        )
        self.turn_id = turn.turn_index
        self._reply_ended = False
        self._reply_started = False
        self.next_turn += 1
        self.turns_started += 1
        self._cancel = asyncio.Event()
        self._turn = asyncio.create_task(self._run(turn, self._cancel, self._turn))

    async def close(self) -> None:
        """The connection is gone: cancel the running turn and wait until it is stored."""
        if self._turn is not None and not self._turn.done():
            self._cancel.set()
            await asyncio.shield(self._turn)

    async def _run(self, turn: TurnInput, cancel: asyncio.Event, previous: asyncio.Task[None] | None) -> None:
        try:
            if previous is not None:
                await asyncio.shield(previous)
            async with self.turn_lock:
                turn.history = self.store.history(turn.session_id, self.history_turns)
                turn.previous_emotion = self._agent_emotion
                turn.previous_user_emotion = self._user_emotion
                outcome = await self.pipeline.run(turn, self.sink, cancel)
            if outcome.agent_emotion is not None:
                self._agent_emotion = outcome.agent_emotion
            if outcome.user_emotion is not None:
                self._user_emotion = outcome.user_emotion
            if outcome.record is not None:
                self._remember_timeline(turn.session_id, turn.turn_index, outcome.timeline)
            if self.metrics is not None and outcome.record is not None:
                self.metrics.turn_completed(turn.kind, outcome.record.timings)
        except Exception:  # the pipeline reports stage failures itself; this is a bug: keep the session alive
            log.exception("turn %s/%s crashed", turn.session_id, turn.turn_index)
            await self.sink.send(
                ErrorOut(code="internal", message="the turn failed unexpectedly", turn_id=turn.turn_index)
            )

    # ------------------------------------------------------------ what the client actually played

    def played(self, turn_index: int, seconds: float) -> None:
        """The client's report of how much of a reply it played (it stopped early: barge-in or cancel)."""
        self._played[turn_index] = seconds
        self._apply_played(turn_index)

    def _remember_timeline(self, session_id: str, turn_index: int, timeline: ReplyTimeline) -> None:
        self._timelines[turn_index] = _Heard(session_id, timeline)
        for old in [t for t in self._timelines if t < turn_index - _KEPT_TIMELINES]:
            del self._timelines[old]
            self._played.pop(old, None)
        self._apply_played(turn_index)

    def _apply_played(self, turn_index: int) -> None:
        """Store what the listener heard of a reply they interrupted, once both the reply and the report are in."""
        heard, seconds = self._timelines.get(turn_index), self._played.get(turn_index)
        if heard is None or seconds is None or seconds >= heard.timeline.duration:
            return
        del self._played[turn_index]
        try:
            self.store.set_played_reply(heard.session_id, turn_index, heard.timeline.text_until(seconds))
        except Exception:  # the generated reply stays stored; only the truncation is lost
            log.exception("could not store the played part of turn %s/%s", heard.session_id, turn_index)


def _emotion_from_dict(data: dict[str, object]) -> EmotionState:
    vad = data["vad"]
    assert isinstance(vad, dict)
    return EmotionState(
        vad=VAD(float(vad["valence"]), float(vad["arousal"]), float(vad["dominance"])),
        label=str(data["label"]),
        intensity=float(data["intensity"]),  # type: ignore[arg-type]
        mixture=dict(data.get("mixture") or {}),  # type: ignore[call-overload]
    )
