"""The turns of one session: started one at a time, each after the previous, on the engines all sessions share.

Sessions' turns run side by side: the pipeline takes each engine's guard (server.turn.engine_guards) for the calls
that use it, so a local engine serves one call at a time while a remote LLM serves many sessions at once.

Also what carries from turn to turn: the turn index (handed out by the store, once per conversation, whichever
connection asks), the agent's and the user's emotion, and the reply timelines that turn the client's `played`
reports into the part of a reply the listener actually heard (only replies this connection started). Nothing here
waits for the database on the event loop: reads and writes run in worker threads.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from core.chat import ChatMessage
from core.emotion import VAD, EmotionState
from server.metrics import Metrics
from server.protocol import ErrorOut, ProtocolError, ReplyEnd, ReplyStart
from server.session.rate_limit import TurnLimits
from server.turn.pipeline import TurnInput, TurnPipeline
from server.turn.played import ReplyTimeline
from server.turn.sink import TurnSink
from storage.store import ConversationStore, InputKind, SessionRecord, TurnRecord

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
    secret_hash: str | None = None  # of the conversation's resume secret: stored with its first turn


@dataclass(frozen=True)
class _Heard:
    session_id: str
    timeline: ReplyTimeline


class TurnScheduler:
    """Runs a session's turns in order; other sessions' turns overlap them (the pipeline guards each engine)."""

    def __init__(
        self,
        pipeline: TurnPipeline,
        store: ConversationStore,
        sink: TurnSink,
        history_turns: int,
        limits: TurnLimits,
        address: str = "",
        metrics: Metrics | None = None,
    ) -> None:
        """`limits` are the server's turn rate limits, applied to this conversation and the client's `address`."""
        self.pipeline = pipeline
        self.store = store
        self.sink = sink
        self.history_turns = history_turns
        self.limits = limits
        self.address = address
        self.metrics = metrics
        self.session_id = ""  # set by `begin` or `resume`
        self.turns_started = 0
        # The turns this connection started, newest last: the only ones its `played` reports may name.
        self._started: deque[int] = deque(maxlen=_KEPT_TIMELINES + 2)
        self._agent_emotion: EmotionState | None = None
        self._user_emotion: EmotionState | None = None  # smoothed across turns
        self._turn: asyncio.Task[None] | None = None
        self._priming: asyncio.Task[None] | None = None  # warms the model's cache for the next turn (`_prime`)
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

    @property
    def next_turn(self) -> int:
        """The index the conversation's next turn will get (to announce it, e.g. in `speech_end`)."""
        return self.store.peek_turn_index(self.session_id)

    def begin(self, session_id: str) -> None:
        """Serve a new conversation under a fresh random `session_id` (nothing is stored under it)."""
        self.session_id = session_id
        self.store.new_session(session_id)
        self._agent_emotion, self._user_emotion = None, None

    async def resume(self, session_id: str) -> str | None:
        """Continue a conversation: its turn numbering and last emotions; returns its stored persona.

        None: nothing of it is stored yet (e.g. a reconnect before its first turn was written).
        """
        record, turns = await asyncio.to_thread(self._stored, session_id)
        self.session_id = session_id
        last = next((t.agent_emotion for t in reversed(turns) if t.agent_emotion), None)
        self._agent_emotion = _emotion_from_dict(last) if last else None
        last_user = next((t.user_emotion for t in reversed(turns) if t.user_emotion), None)
        self._user_emotion = _emotion_from_dict(last_user) if last_user else None
        return record.persona if record is not None else None

    def _stored(self, session_id: str) -> tuple[SessionRecord | None, list[TurnRecord]]:
        record = self.store.get_session(session_id)
        self.store.peek_turn_index(session_id)  # numbering starts after its stored turns (read here, off the loop)
        return record, self.store.turns(session_id) if record is not None else []

    def start(self, request: TurnRequest) -> None:
        """Start the next turn; it runs once the previous one has finished. Raises `rate_limited`."""
        allowed, wait, which = self.limits.take(self.session_id, self.address)
        if not allowed:
            limit = (
                f"at most {self.limits.per_session:g} a minute in a conversation"
                if which == "session"
                else f"at most {self.limits.per_address:g} a minute from one address"
            )
            raise ProtocolError(
                "rate_limited",
                f"too many turns ({limit}); try again in {wait:.1f} s",
                turn_id=self.next_turn,  # the turn that would have started (a hands-free `speech_end` named it)
            )
        turn = TurnInput(
            session_id=request.session_id,
            turn_index=self.store.allocate_turn_index(self.session_id),
            kind=request.kind,
            input_end=request.input_end if request.input_end is not None else time.perf_counter(),
            text=request.text,
            pcm=request.pcm,
            persona=request.persona,
            portrait=request.portrait,
            endpoint_ms=request.endpoint_ms,
            secret_hash=request.secret_hash,
        )
        self.turn_id = turn.turn_index
        self._started.append(turn.turn_index)
        self._reply_ended = False
        self._reply_started = False
        self.turns_started += 1
        self._cancel = asyncio.Event()
        self._turn = asyncio.create_task(self._run(turn, self._cancel, self._turn))

    async def close(self) -> None:
        """The connection is gone: cancel the running turn and wait until it is stored."""
        if self._turn is not None and not self._turn.done():
            self._cancel.set()
            await asyncio.shield(self._turn)
        if self._priming is not None:  # no next turn is coming on this connection
            self._priming.cancel()

    async def _run(self, turn: TurnInput, cancel: asyncio.Event, previous: asyncio.Task[None] | None) -> None:
        try:
            if previous is not None:
                await asyncio.shield(previous)
            turn.history = await self._history(turn.session_id)
            turn.previous_emotion = self._agent_emotion
            turn.previous_user_emotion = self._user_emotion
            outcome = await self.pipeline.run(turn, self.sink, cancel)
            if outcome.agent_emotion is not None:
                self._agent_emotion = outcome.agent_emotion
            if outcome.user_emotion is not None:
                self._user_emotion = outcome.user_emotion
            if outcome.record is not None:
                await self._remember_timeline(turn.session_id, turn.turn_index, outcome.timeline)
            if self.metrics is not None and outcome.record is not None:
                self.metrics.turn_completed(turn.kind, outcome.record.timings)
            if outcome.record is not None and not outcome.record.cancelled:
                self._priming = asyncio.create_task(self._prime(turn))
        except Exception:  # the pipeline reports stage failures itself; this is a bug: keep the session alive
            log.exception("turn %s/%s crashed", turn.session_id, turn.turn_index)
            await self.sink.send(
                ErrorOut(code="internal", message="the turn failed unexpectedly", turn_id=turn.turn_index)
            )

    async def _prime(self, turn: TurnInput) -> None:
        """While the user reads the reply and writes the next message, warm the reply model's prompt cache with
        the history that message's turn will read (`_history`, as `_run` reads it; TurnPipeline.prime)."""
        try:
            history = await self._history(turn.session_id)
        except Exception:  # a locked database: the next turn reads its history itself (and processes it then)
            log.exception("could not read the history of session %s to warm the prompt cache", turn.session_id)
            return
        await self.pipeline.prime(turn.persona, turn.portrait, history)

    async def _history(self, session_id: str) -> list[ChatMessage]:
        """The stored turns the session's next turn gives the model as context (read off the event loop)."""
        return await asyncio.to_thread(self.store.history, session_id, self.history_turns)

    # ------------------------------------------------------------ what the client actually played

    async def played(self, turn_index: int, seconds: float) -> None:
        """The client's report of how much of a reply it played (it stopped early: barge-in or cancel).

        Only a reply this connection started recently may be named (another connection's turns, even of the same
        conversation, are not this client's to cut short); anything else is `invalid_message`.
        """
        if turn_index not in self._started:
            raise ProtocolError(
                "invalid_message",
                f"turn {turn_index} is not one of this connection's last replies; `played` names a reply it received",
            )
        self._played[turn_index] = seconds
        await self._apply_played(turn_index)

    async def _remember_timeline(self, session_id: str, turn_index: int, timeline: ReplyTimeline) -> None:
        self._timelines[turn_index] = _Heard(session_id, timeline)
        for old in [t for t in self._timelines if t < turn_index - _KEPT_TIMELINES]:
            del self._timelines[old]
        for old in [t for t in self._played if t not in self._started]:
            del self._played[old]
        await self._apply_played(turn_index)

    async def _apply_played(self, turn_index: int) -> None:
        """Store what the listener heard of a reply they interrupted, once both the reply and the report are in."""
        heard, seconds = self._timelines.get(turn_index), self._played.get(turn_index)
        if heard is None or seconds is None or seconds >= heard.timeline.duration:
            return
        del self._played[turn_index]
        try:
            text = heard.timeline.text_until(seconds)
            await asyncio.to_thread(self.store.set_played_reply, heard.session_id, turn_index, text)
        except Exception:  # the generated reply stays stored; only the truncation is lost
            log.exception("could not store the played part of turn %s/%s", heard.session_id, turn_index)


def _emotion_from_dict(data: dict[str, Any]) -> EmotionState:  # a stored emotion, as JSON
    vad = data["vad"]
    assert isinstance(vad, dict)
    return EmotionState(
        vad=VAD(float(vad["valence"]), float(vad["arousal"]), float(vad["dominance"])),
        label=str(data["label"]),
        intensity=float(data["intensity"]),
        mixture=dict(data.get("mixture") or {}),
    )
