"""One websocket connection: protocol state (hello, audio collection, busy, cancel) around the turn pipeline."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from aiohttp import WSMsgType, web
from pydantic import BaseModel

from core.emotion import VAD, EmotionState
from server.metrics import Metrics
from server.protocol import (
    PROTOCOL_VERSION,
    SUPPORTED_VERSIONS,
    AudioEnd,
    AudioStart,
    Cancel,
    ErrorOut,
    Hello,
    ListenStart,
    ListenStop,
    MediaOut,
    PartialTranscriptOut,
    Played,
    ProtocolError,
    Ready,
    ReplyEnd,
    ReplyStart,
    SpeechEndOut,
    SpeechStartOut,
    TextInput,
    dump_server_message,
    error_message,
    parse_client_message,
)
from server.session.mic_stream import EndOfTurn, MicStream, PartialAudio, SpeechStart
from server.session.rate_limit import TokenBucket
from server.session.utterance import Utterance
from server.turn.pipeline import TurnInput, TurnPipeline
from server.turn.played import ReplyTimeline
from speech.streaming.endpointer import Endpointer, EndpointerEvent
from storage.store import ConversationStore, InputKind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionSettings:
    persona: str
    media_mime: str
    max_utterance_seconds: float
    token: str = ""
    history_turns: int = 8
    max_turns_per_minute: int = 20
    # An uploaded portrait's file by its id (server.web.portraits.PortraitStore.path_of); None: no uploads here.
    portrait_path: Callable[[str], Path | None] | None = None


class Session:
    """Serves one websocket: sends `ready`, answers each client message, runs turns one at a time.

    `turn_lock` is shared by all sessions: the engines (and the 2 CPU cores) serve one turn at a time.
    """

    def __init__(
        self,
        ws: web.WebSocketResponse,
        pipeline: TurnPipeline,
        store: ConversationStore,
        turn_lock: asyncio.Lock,
        settings: SessionSettings,
        metrics: Metrics | None = None,
        make_endpointer: Callable[[], Endpointer] | None = None,
    ) -> None:
        self.ws = ws
        self.metrics = metrics
        self.pipeline = pipeline
        self.store = store
        self.turn_lock = turn_lock
        self.settings = settings
        self.session_id = uuid.uuid4().hex
        self.persona = settings.persona
        self.portrait: str | None = None  # the uploaded portrait's id chosen in `hello`
        self._portrait_file: str | None = None
        self._turn_rate = TokenBucket(settings.max_turns_per_minute)
        self.authorised = not settings.token
        self._send_lock = asyncio.Lock()
        self._next_turn = 0
        self._turns_started = 0
        self._agent_emotion: EmotionState | None = None
        self._user_emotion: EmotionState | None = None  # smoothed across turns
        self._utterance: Utterance | None = None
        self._discarding = False  # inside audio_start ... audio_end after that utterance was refused
        self._turn: asyncio.Task[None] | None = None
        self._turn_id: int | None = None  # the turn `_turn` runs
        # `_turn` has sent reply_end and is only tidying up (summary, model idle): a new turn may queue behind it.
        self._reply_ended = False
        self._reply_started = False  # `_turn` has sent reply_start: the avatar is answering (speech over it barges in)
        self._cancel = asyncio.Event()
        self._make_endpointer = make_endpointer
        self._mic: MicStream | None = None  # the hands-free microphone, between listen_start and listen_stop
        self._partial: asyncio.Task[None] | None = None
        # Reply timelines of the last turns and what the client says it played of them (barge-in, cancel).
        self._timelines: dict[int, ReplyTimeline] = {}
        self._played: dict[int, float] = {}

    # ------------------------------------------------------------ sending (also the pipeline's TurnSink)

    async def send(self, message: BaseModel) -> None:
        """Send one JSON message; a connection that has gone away is ignored (the turn still gets stored)."""
        if self.metrics is not None and isinstance(message, ErrorOut):
            # Every error reaches the client through here, the pipeline's included: one place to count them.
            self.metrics.error(message.code)
        if isinstance(message, ReplyEnd) and message.turn_id == self._turn_id:
            self._reply_ended = True
        if isinstance(message, ReplyStart) and message.turn_id == self._turn_id:
            self._reply_started = True
        async with self._send_lock:
            await self._send_str(dump_server_message(message))

    async def send_media(self, announce: MediaOut, data: bytes) -> None:
        """Send the `media` announcement and its binary frame with nothing in between."""
        async with self._send_lock:
            if await self._send_str(dump_server_message(announce)):
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await self.ws.send_bytes(data)

    async def _send_str(self, text: str) -> bool:
        if self.ws.closed:
            return False
        try:
            await self.ws.send_str(text)
        except (ConnectionError, RuntimeError):
            return False
        return True

    async def _error(self, exc: ProtocolError) -> None:
        await self.send(error_message(exc))

    # ------------------------------------------------------------ receiving

    async def run(self) -> None:
        """Serve the connection until it closes; a running turn is cancelled and stored."""
        await self.send(self._ready())
        try:
            async for msg in self.ws:
                try:
                    if msg.type == WSMsgType.TEXT:
                        await self._on_text(msg.data)
                    elif msg.type == WSMsgType.BINARY:
                        if self._mic is not None:
                            await self._on_mic_audio(msg.data)
                        else:
                            self._on_binary(msg.data)
                    elif msg.type == WSMsgType.ERROR:
                        log.info("websocket closed with error: %s", self.ws.exception())
                except ProtocolError as exc:
                    await self._error(exc)
        finally:
            if self._partial is not None:
                self._partial.cancel()
            self._mic = None  # a half-spoken turn of a dropped connection is not a turn
            if self._turn is not None and not self._turn.done():
                self._cancel.set()
                await asyncio.shield(self._turn)

    async def _on_text(self, raw: str) -> None:
        message = parse_client_message(raw)
        if isinstance(message, Hello):
            await self._on_hello(message)
            return
        if isinstance(message, Cancel):
            if self._turn is not None and not self._turn.done():
                self._cancel.set()
            return
        if not self.authorised:
            raise ProtocolError("unauthorized", "send `hello` with the server's token first")
        if isinstance(message, TextInput):
            self._check_idle()
            if not message.text.strip():
                raise ProtocolError("empty_input", "the text is empty")
            self._start_turn("text", text=message.text)
        elif isinstance(message, AudioStart):
            self._on_audio_start(message)
        elif isinstance(message, AudioEnd):
            await self._on_audio_end()
        elif isinstance(message, ListenStart):
            self._on_listen_start()
        elif isinstance(message, ListenStop):
            await self._on_listen_stop()
        elif isinstance(message, Played):
            self._played[message.turn_id] = message.seconds
            self._apply_played(message.turn_id)

    # ------------------------------------------------------------ hands-free microphone

    def _on_listen_start(self) -> None:
        if self._make_endpointer is None:
            raise ProtocolError("invalid_message", "this server has no streaming microphone; use audio_start")
        if self._utterance is not None or self._discarding:
            raise ProtocolError("invalid_message", "listen_start inside an utterance; send audio_end first")
        if self._mic is None:
            self._mic = MicStream.open(self._make_endpointer)

    async def _on_listen_stop(self) -> None:
        mic, self._mic = self._mic, None
        if mic is not None:
            await self._on_mic_events(mic.close())

    async def _on_mic_audio(self, data: bytes) -> None:
        mic = self._mic
        assert mic is not None
        # VAD inference is a fraction of a millisecond per 32 ms window, but a worker thread keeps the loop free.
        events = await asyncio.to_thread(mic.feed, data, self._answering())
        await self._on_mic_events(events)

    async def _on_mic_events(self, events: list[EndpointerEvent]) -> None:
        for event in events:
            if isinstance(event, SpeechStart):
                await self._on_speech_start(event)
            elif isinstance(event, PartialAudio):
                self._start_partial(event)
            elif isinstance(event, EndOfTurn):
                await self._on_end_of_turn(event)

    def _replying(self) -> bool:
        return self._turn is not None and not self._turn.done() and not self._cancel.is_set()

    def _answering(self) -> bool:
        """A reply is being sent (reply_start is out, reply_end is not): speaking now talks over the avatar.

        After reply_end the client may still be playing the reply: it stops it by itself and reports `played`.
        """
        return self._replying() and self._reply_started and not self._reply_ended

    async def _on_speech_start(self, event: SpeechStart) -> None:
        """The user started speaking: a reply in progress stops (barge-in) and the face listens.

        Speech before the running turn's reply has started is no barge-in (the avatar has said nothing yet), e.g.
        the user went on after a pause the endpointer took for the end of their turn: that turn still stops, as the
        newest input wins, but nothing was interrupted.
        """
        interrupted = self._turn_id if self._answering() else None
        if self._replying() and not self._reply_ended:
            self._cancel.set()
        if interrupted is not None and self.metrics is not None:
            self.metrics.barge_in()
        await self.send(SpeechStartOut(barge_in=interrupted is not None, turn_id=interrupted))

    def _start_partial(self, event: PartialAudio) -> None:
        # Partials are a nicety: skip one while the previous is still running or the engines are busy with a turn.
        if not self.authorised or (self._partial is not None and not self._partial.done()) or self.turn_lock.locked():
            return
        self._partial = asyncio.create_task(self._partial_transcript(event.pcm))

    async def _partial_transcript(self, pcm: npt.NDArray[np.int16]) -> None:
        try:
            async with self.turn_lock:
                transcript = await asyncio.to_thread(self.pipeline.recognizer.transcribe, pcm, 16000)
        except Exception:  # a failed partial costs nothing: the final transcript follows
            log.exception("partial transcript failed")
            return
        if transcript.text.strip() and self._mic is not None:
            await self.send(PartialTranscriptOut(text=transcript.text.strip()))

    async def _on_end_of_turn(self, event: EndOfTurn) -> None:
        """The user paused long enough: their utterance becomes a turn (interrupting anything still running)."""
        if self._partial is not None:
            self._partial.cancel()
        endpoint_s = max(0.0, event.time - event.speech_end)
        await self.send(
            SpeechEndOut(
                turn_id=self._next_turn,
                speech_ms=round((event.speech_end - event.start) * 1000.0, 1),
                endpoint_ms=round(endpoint_s * 1000.0, 1),
            )
        )
        if not self.authorised:
            raise ProtocolError("unauthorized", "send `hello` with the server's token first")
        if self._replying():  # e.g. a typed turn started while the user was speaking: the newest input wins
            self._cancel.set()
        # The stream runs in real time, so the speech ended `endpoint_s` before now.
        input_end = time.perf_counter() - endpoint_s
        self._start_turn("audio", pcm=event.pcm, input_end=input_end, endpoint_ms=endpoint_s * 1000.0)

    def _on_binary(self, data: bytes) -> None:
        if self._discarding:
            return
        if self._utterance is None:
            raise ProtocolError(
                "unexpected_binary", "binary frames are only accepted between audio_start and audio_end"
            )
        try:
            self._utterance.add(data)
        except ProtocolError:
            self._utterance, self._discarding = None, True
            raise

    async def _on_hello(self, hello: Hello) -> None:
        if hello.protocol not in SUPPORTED_VERSIONS:
            raise ProtocolError(
                "invalid_message",
                f"protocol version {hello.protocol} is not supported; this server speaks "
                f"{', '.join(map(str, SUPPORTED_VERSIONS))}",
            )
        if self.settings.token:
            # Constant-time comparison: the time a wrong token takes must not reveal how much of it matched.
            if not hmac.compare_digest((hello.token or "").encode(), self.settings.token.encode()):
                raise ProtocolError("unauthorized", "wrong or missing token in `hello`")
            self.authorised = True
        if hello.session_id is not None or hello.persona is not None or hello.portrait is not None:
            if self._turns_started:
                raise ProtocolError(
                    "invalid_message", "session_id, persona and portrait can only be set before the first turn"
                )
            if hello.portrait is not None:
                self._use_portrait(hello.portrait)
            if hello.session_id is not None:
                self._resume(hello.session_id)
            elif hello.persona is not None:
                self.persona = hello.persona
        await self.send(self._ready())

    def _use_portrait(self, portrait_id: str) -> None:
        path = self.settings.portrait_path(portrait_id) if self.settings.portrait_path is not None else None
        if path is None:
            raise ProtocolError(
                "invalid_message",
                f"unknown portrait {portrait_id}; upload the photo with POST /portraits and send the portrait_id "
                "it returns (uploads are kept only for a while)",
            )
        self.portrait, self._portrait_file = portrait_id, str(path)

    def _resume(self, session_id: str) -> None:
        record = self.store.get_session(session_id)
        self.session_id = session_id
        if record is None:  # e.g. a reconnect before the first turn was stored: start it under that id
            self._next_turn, self._agent_emotion, self._user_emotion = 0, None, None
            return
        self.persona = record.persona
        self._next_turn = self.store.next_turn_index(record.id)
        turns = self.store.turns(record.id)
        last = next((t.agent_emotion for t in reversed(turns) if t.agent_emotion), None)
        self._agent_emotion = _emotion_from_dict(last) if last else None
        last_user = next((t.user_emotion for t in reversed(turns) if t.user_emotion), None)
        self._user_emotion = _emotion_from_dict(last_user) if last_user else None

    def _on_audio_start(self, start: AudioStart) -> None:
        if self._utterance is not None or self._discarding:
            self._utterance, self._discarding = None, True
            raise ProtocolError("invalid_message", "audio_start inside an utterance; send audio_end first")
        try:
            self._check_idle()
            self._utterance = Utterance(start.format, start.sample_rate, self.settings.max_utterance_seconds)
        except ProtocolError:
            self._discarding = True  # drop this utterance's frames quietly: one error is enough
            raise

    async def _on_audio_end(self) -> None:
        if self._discarding:
            self._discarding = False
            return
        if self._utterance is None:
            raise ProtocolError("invalid_message", "audio_end without audio_start")
        utterance, self._utterance = self._utterance, None
        ended = time.perf_counter()
        pcm = await asyncio.to_thread(utterance.finish)
        self._check_idle()
        self._start_turn("audio", pcm=pcm, input_end=ended)

    # ------------------------------------------------------------ turns

    def _check_idle(self) -> None:
        # A cancelled turn is still winding down (up to one sentence): the next turn queues behind it.
        # So is one that has sent reply_end: the client has the whole reply and may answer at once.
        if self._turn is not None and not self._turn.done() and not self._cancel.is_set() and not self._reply_ended:
            raise ProtocolError("busy", "a reply is still running; send cancel first")

    def _start_turn(
        self,
        kind: InputKind,
        text: str = "",
        pcm: object = None,
        input_end: float | None = None,
        endpoint_ms: float | None = None,
    ) -> None:
        if not self._turn_rate.take():
            wait = self._turn_rate.wait_seconds()
            raise ProtocolError(
                "rate_limited",
                f"too many turns (at most {self.settings.max_turns_per_minute} a minute); try again in {wait:.1f} s",
                turn_id=self._next_turn,  # the turn that would have started (a hands-free `speech_end` named it)
            )
        turn = TurnInput(
            session_id=self.session_id,
            turn_index=self._next_turn,
            kind=kind,
            input_end=input_end if input_end is not None else time.perf_counter(),
            text=text,
            pcm=pcm,  # type: ignore[arg-type]
            persona=self.persona,
            portrait=self._portrait_file,
            endpoint_ms=endpoint_ms,
        )
        self._turn_id = turn.turn_index
        self._reply_ended = False
        self._reply_started = False
        self._next_turn += 1
        self._turns_started += 1
        self._cancel = asyncio.Event()
        self._turn = asyncio.create_task(self._run_turn(turn, self._cancel, self._turn))

    async def _run_turn(self, turn: TurnInput, cancel: asyncio.Event, previous: asyncio.Task[None] | None) -> None:
        try:
            if previous is not None:
                await asyncio.shield(previous)
            async with self.turn_lock:
                turn.history = self.store.history(turn.session_id, self.settings.history_turns)
                turn.previous_emotion = self._agent_emotion
                turn.previous_user_emotion = self._user_emotion
                outcome = await self.pipeline.run(turn, self, cancel)
            if outcome.agent_emotion is not None:
                self._agent_emotion = outcome.agent_emotion
            if outcome.user_emotion is not None:
                self._user_emotion = outcome.user_emotion
            if outcome.record is not None:
                self._remember_timeline(turn.turn_index, outcome.timeline)
            if self.metrics is not None and outcome.record is not None:
                self.metrics.turn_completed(turn.kind, outcome.record.timings)
        except Exception:  # the pipeline reports stage failures itself; this is a bug: keep the session alive
            log.exception("turn %s/%s crashed", turn.session_id, turn.turn_index)
            await self.send(ErrorOut(code="internal", message="the turn failed unexpectedly", turn_id=turn.turn_index))

    # ------------------------------------------------------------ what the client actually played

    def _remember_timeline(self, turn_index: int, timeline: ReplyTimeline) -> None:
        self._timelines[turn_index] = timeline
        for old in [t for t in self._timelines if t < turn_index - 4]:  # a client reports within a turn or two
            del self._timelines[old]
            self._played.pop(old, None)
        self._apply_played(turn_index)

    def _apply_played(self, turn_index: int) -> None:
        """Store what the listener heard of a reply they interrupted, once both the reply and the report are in."""
        timeline, seconds = self._timelines.get(turn_index), self._played.get(turn_index)
        if timeline is None or seconds is None or seconds >= timeline.duration:
            return
        del self._played[turn_index]
        try:
            self.store.set_played_reply(self.session_id, turn_index, timeline.text_until(seconds))
        except Exception:  # the generated reply stays stored; only the truncation is lost
            log.exception("could not store the played part of turn %s/%s", self.session_id, turn_index)

    def _ready(self) -> Ready:
        return Ready(
            protocol=PROTOCOL_VERSION,
            session_id=self.session_id,
            persona=self.persona,
            media_mime=self.settings.media_mime,
            portrait=self.portrait,
        )


def _emotion_from_dict(data: dict[str, object]) -> EmotionState:
    vad = data["vad"]
    assert isinstance(vad, dict)
    return EmotionState(
        vad=VAD(float(vad["valence"]), float(vad["arousal"]), float(vad["dominance"])),
        label=str(data["label"]),
        intensity=float(data["intensity"]),  # type: ignore[arg-type]
        mixture=dict(data.get("mixture") or {}),  # type: ignore[call-overload]
    )
