"""One websocket connection: the protocol's dispatch (hello, typed and spoken input, cancel, played).

The session's turns are scheduled by server.session.scheduling, its hands-free microphone is
server.session.microphone; this module answers each client message and sends what the turns produce.
"""

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
    Played,
    ProtocolError,
    Ready,
    TextInput,
    dump_server_message,
    error_message,
    parse_client_message,
)
from server.session.microphone import Microphone
from server.session.scheduling import TurnRequest, TurnScheduler
from server.session.utterance import Utterance
from server.turn.pipeline import TurnPipeline
from speech.streaming.endpointer import Endpointer
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
        self.settings = settings
        self.session_id = uuid.uuid4().hex
        self.persona = settings.persona
        self.portrait: str | None = None  # the uploaded portrait's id chosen in `hello`
        self._portrait_file: str | None = None
        self._authorised = not settings.token
        self._send_lock = asyncio.Lock()
        self._utterance: Utterance | None = None
        self._discarding = False  # inside audio_start ... audio_end after that utterance was refused
        self.turns = TurnScheduler(
            pipeline, store, turn_lock, self, settings.history_turns, settings.max_turns_per_minute, metrics
        )
        self.mic = Microphone(self, self.turns, pipeline.recognizer, make_endpointer, metrics)

    @property
    def authorised(self) -> bool:
        """The client has said `hello` with the right token (or none is needed)."""
        return self._authorised

    # ------------------------------------------------------------ sending (also the pipeline's TurnSink)

    async def send(self, message: BaseModel) -> None:
        """Send one JSON message; a connection that has gone away is ignored (the turn still gets stored)."""
        if self.metrics is not None and isinstance(message, ErrorOut):
            # Every error reaches the client through here, the pipeline's included: one place to count them.
            self.metrics.error(message.code)
        self.turns.observe(message)
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
                        if self.mic.listening:
                            await self.mic.audio(msg.data)
                        else:
                            self._on_binary(msg.data)
                    elif msg.type == WSMsgType.ERROR:
                        log.info("websocket closed with error: %s", self.ws.exception())
                except ProtocolError as exc:
                    await self._error(exc)
        finally:
            self.mic.close()
            await self.turns.close()

    async def _on_text(self, raw: str) -> None:
        message = parse_client_message(raw)
        if isinstance(message, Hello):
            await self._on_hello(message)
            return
        if isinstance(message, Cancel):
            self.turns.cancel()
            return
        if not self.authorised:
            raise ProtocolError("unauthorized", "send `hello` with the server's token first")
        if isinstance(message, TextInput):
            self.turns.check_idle()
            if not message.text.strip():
                raise ProtocolError("empty_input", "the text is empty")
            self._start_turn("text", text=message.text)
        elif isinstance(message, AudioStart):
            self._on_audio_start(message)
        elif isinstance(message, AudioEnd):
            await self._on_audio_end()
        elif isinstance(message, ListenStart):
            self.mic.start(in_utterance=self._utterance is not None or self._discarding)
        elif isinstance(message, ListenStop):
            await self.mic.stop()
        elif isinstance(message, Played):
            self.turns.played(message.turn_id, message.seconds)

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
            self._authorised = True
        if hello.session_id is not None or hello.persona is not None or hello.portrait is not None:
            if self.turns.turns_started:
                raise ProtocolError(
                    "invalid_message", "session_id, persona and portrait can only be set before the first turn"
                )
            if hello.portrait is not None:
                self._use_portrait(hello.portrait)
            if hello.session_id is not None:
                self.session_id = hello.session_id
                stored_persona = self.turns.resume(hello.session_id)
                if stored_persona is not None:
                    self.persona = stored_persona
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

    # ------------------------------------------------------------ push-to-talk utterances

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

    def _on_audio_start(self, start: AudioStart) -> None:
        if self._utterance is not None or self._discarding:
            self._utterance, self._discarding = None, True
            raise ProtocolError("invalid_message", "audio_start inside an utterance; send audio_end first")
        try:
            self.turns.check_idle()
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
        self.turns.check_idle()
        self._start_turn("audio", pcm=pcm, input_end=ended)

    # ------------------------------------------------------------ turns

    def start_audio_turn(self, pcm: npt.NDArray[np.int16], input_end: float, endpoint_ms: float) -> None:
        """A hands-free utterance the microphone has ended becomes a turn."""
        self._start_turn("audio", pcm=pcm, input_end=input_end, endpoint_ms=endpoint_ms)

    def _start_turn(
        self,
        kind: InputKind,
        text: str = "",
        pcm: npt.NDArray[np.int16] | None = None,
        input_end: float | None = None,
        endpoint_ms: float | None = None,
    ) -> None:
        self.turns.start(
            TurnRequest(self.session_id, self.persona, self._portrait_file, kind, text, pcm, input_end, endpoint_ms)
        )

    def _ready(self) -> Ready:
        return Ready(
            protocol=PROTOCOL_VERSION,
            session_id=self.session_id,
            persona=self.persona,
            media_mime=self.settings.media_mime,
            portrait=self.portrait,
        )
