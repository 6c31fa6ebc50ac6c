"""One websocket connection: the protocol's dispatch (hello, typed and spoken input, cancel, played).

The session's turns are scheduled by server.session.scheduling, its hands-free microphone is
server.session.microphone; this module answers each client message and sends what the turns produce. Who may talk
(the token, the hello deadline, the session slots) is server.session.admission; which connection serves which
conversation, and who may resume one, is server.session.registry.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
import unicodedata
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from aiohttp import WSCloseCode, WSMsgType, web
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
from server.session.admission import Admission
from server.session.microphone import Microphone
from server.session.rate_limit import TurnLimits
from server.session.registry import (
    TAKEN_OVER,
    TAKEN_OVER_REASON,
    SessionRegistry,
    hash_secret,
    new_secret,
    secret_matches,
)
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
    max_turns_per_minute_per_address: int = 0
    hello_timeout: float = 5.0  # with a token: seconds a connection may stay unauthorised before it is closed
    max_sessions: int = 16


@dataclass
class SharedState:
    """What every session of one server shares: who serves which conversation, the rate limits, the slots."""

    settings: SessionSettings
    registry: SessionRegistry = field(default_factory=SessionRegistry)
    limits: TurnLimits = field(init=False)
    admission: Admission = field(init=False)
    # Sockets being closed in the background (displaced or taken over): held here so they finish.
    closing: set[asyncio.Task[object]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.limits = TurnLimits(self.settings.max_turns_per_minute, self.settings.max_turns_per_minute_per_address)
        self.admission = Admission(self.settings.max_sessions)

    def close_later(self, close: Awaitable[object]) -> None:
        """Close another connection without waiting for its client to answer the close frame."""
        task: asyncio.Task[object] = asyncio.ensure_future(close)
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)


class Session:
    """Serves one websocket: sends `ready`, answers each client message, runs turns one at a time.

    Other sessions' turns run beside this one's: `pipeline` guards each shared engine (server.turn.engine_guards).
    """

    def __init__(
        self,
        ws: web.WebSocketResponse,
        pipeline: TurnPipeline,
        store: ConversationStore,
        settings: SessionSettings,
        metrics: Metrics | None = None,
        make_endpointer: Callable[[], Endpointer] | None = None,
        shared: SharedState | None = None,
        address: str = "",
        holds_slot: bool = False,
    ) -> None:
        """`shared` is the server's SharedState (a private one when None); `address` the client's address (for
        the per-address rate limit); `holds_slot`: the server took a session slot for this connection already."""
        self.ws = ws
        self.metrics = metrics
        self.settings = settings
        self.store = store
        self.shared = shared if shared is not None else SharedState(settings)
        self.session_id = uuid.uuid4().hex
        # Only the client that started a conversation gets its secret (in `ready`): resuming it needs the secret.
        self._secret = new_secret()
        self._secret_hash = hash_secret(self._secret)
        self.persona = settings.persona
        self.portrait: str | None = None  # the uploaded portrait's id chosen in `hello`
        self._portrait_file: str | None = None
        self._authorised = not settings.token
        self._authorised_now = asyncio.Event()  # set while authorised, cleared while not (the hello deadline)
        self._unauthorised_now = asyncio.Event()
        (self._authorised_now if self._authorised else self._unauthorised_now).set()
        self._holds_slot = holds_slot
        self._send_lock = asyncio.Lock()
        self._utterance: Utterance | None = None
        self._discarding = False  # inside audio_start ... audio_end after that utterance was refused
        self.turns = TurnScheduler(
            pipeline, store, self, settings.history_turns, self.shared.limits, address, metrics
        )
        self.turns.begin(self.session_id)
        self.mic = Microphone(self, self.turns, pipeline.recognizer, make_endpointer, metrics, pipeline.perceiver)

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
        admission = self.shared.admission
        deadline: asyncio.Task[None] | None = None
        if self._authorised:
            self._go_live()
        else:  # no slot until `hello` brings the token; a connection that never says it is closed
            displaced = admission.wait(self, self._close_unauthorised)
            if displaced is not None:
                self.shared.close_later(displaced())
            deadline = asyncio.create_task(self._require_hello())
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
                except Exception:  # a bug must cost one message, not the connection
                    log.exception("session %s: a client message could not be handled", self.session_id)
                    await self.send(ErrorOut(code="internal", message="the message could not be handled"))
        finally:
            if deadline is not None:
                deadline.cancel()
            admission.done_waiting(self)
            self.shared.registry.release(self.session_id, self)
            if self._holds_slot:
                admission.give_back()
                self._holds_slot = False
            self.mic.close()
            await self.turns.close()

    # ------------------------------------------------------------ who may talk, and which conversation this is

    def _go_live(self) -> None:
        """This connection serves its (fresh) conversation: remember the secret until the first turn stores it."""
        self.shared.registry.remember(self.session_id, self._secret_hash)
        self.shared.registry.claim(self.session_id, self)

    def _set_authorised(self, authorised: bool) -> None:
        self._authorised = authorised
        (self._authorised_now if authorised else self._unauthorised_now).set()
        (self._unauthorised_now if authorised else self._authorised_now).clear()

    async def _require_hello(self) -> None:
        """With a token: close the connection whenever it stays unauthorised for `hello_timeout` seconds."""
        while True:
            try:
                await asyncio.wait_for(self._authorised_now.wait(), self.settings.hello_timeout)
            except TimeoutError:
                log.info("closing a connection that did not send the token within %g s", self.settings.hello_timeout)
                await self._close_unauthorised()
                return
            await self._unauthorised_now.wait()

    async def _close_unauthorised(self) -> None:
        await self.ws.close(
            code=WSCloseCode.POLICY_VIOLATION,
            message=f"send hello with the server's token within {self.settings.hello_timeout:g} s".encode(),
        )

    async def taken_over(self) -> None:
        """Another connection resumed this conversation: close this one, saying why (close code 4001)."""
        await self.ws.close(code=TAKEN_OVER, message=TAKEN_OVER_REASON)

    async def _resume(self, session_id: str, secret: str | None) -> None:
        """Continue conversation `session_id` if `secret` is its resume secret; it leaves any other connection.

        An id nothing is known about (e.g. a conversation that never stored a turn, before a restart) leaves this
        connection in its own new conversation, which `ready` names.
        """
        if session_id == self.session_id:
            return
        record = await asyncio.to_thread(self.store.get_session, session_id)
        known = self.shared.registry.secret_hash(session_id) or (record.secret_hash if record is not None else None)
        if known is None and record is None:
            return
        if known is None:
            raise ProtocolError(
                "unauthorized",
                "this conversation was stored before resume secrets existed and cannot be resumed; "
                "this connection goes on in a new conversation",
            )
        if not secret_matches(secret, known):
            raise ProtocolError(
                "unauthorized",
                "wrong or missing resume_secret for this conversation: send the resume_secret its `ready` carried, "
                "or hello without session_id to start a new conversation",
            )
        registry = self.shared.registry
        registry.release(self.session_id, self)
        self.session_id, self._secret, self._secret_hash = session_id, secret or "", known
        previous = registry.claim(session_id, self)
        if previous is not None:
            log.info("conversation %s moved to a new connection; closing the old one", session_id)
            self.shared.close_later(previous.taken_over())
        stored_persona = await self.turns.resume(session_id)
        if stored_persona is not None:
            self.persona = stored_persona

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
            text = _without_control_characters(message.text)
            if not text.strip():
                raise ProtocolError("empty_input", "the text is empty (or only control characters)")
            self._start_turn("text", text=text)
        elif isinstance(message, AudioStart):
            if self.mic.listening:
                raise ProtocolError("invalid_message", "audio_start while the microphone is open; send listen_stop")
            self._on_audio_start(message)
        elif isinstance(message, AudioEnd):
            await self._on_audio_end()
        elif isinstance(message, ListenStart):
            self.mic.start(in_utterance=self._utterance is not None or self._discarding)
        elif isinstance(message, ListenStop):
            await self.mic.stop()
        elif isinstance(message, Played):
            await self.turns.played(message.turn_id, message.seconds)

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
                if self._authorised:  # a later hello with a wrong token withdraws the authorisation
                    self._set_authorised(False)
                raise ProtocolError("unauthorized", "wrong or missing token in `hello`")
            if not self._authorised and not await self._authorise():
                return
        if hello.session_id is not None or hello.persona is not None or hello.portrait is not None:
            if self.turns.turns_started:
                raise ProtocolError(
                    "invalid_message", "session_id, persona and portrait can only be set before the first turn"
                )
            if hello.portrait is not None:
                self._use_portrait(hello.portrait)
            if hello.session_id is not None:
                await self._resume(hello.session_id, hello.resume_secret)
            elif hello.persona is not None:
                self.persona = hello.persona
        await self.send(self._ready())

    async def _authorise(self) -> bool:
        """The token was right: take a session slot (the first time) and serve. False: the server is full."""
        if not self._holds_slot:
            if not self.shared.admission.take():
                await self.ws.close(
                    code=WSCloseCode.TRY_AGAIN_LATER,
                    message=b"the server is serving as many conversations as it may; try again shortly",
                )
                return False
            self._holds_slot = True
            self.shared.admission.done_waiting(self)
            self._go_live()
        self._set_authorised(True)
        return True

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
            TurnRequest(
                self.session_id,
                self.persona,
                self._portrait_file,
                kind,
                text,
                pcm,
                input_end,
                endpoint_ms,
                secret_hash=self._secret_hash,
            )
        )

    def _ready(self) -> Ready:
        return Ready(
            protocol=PROTOCOL_VERSION,
            session_id=self.session_id,
            persona=self.persona,
            media_mime=self.settings.media_mime,
            portrait=self.portrait,
            resume_secret=self._secret if self.authorised else None,
        )


def _without_control_characters(text: str) -> str:
    """`text` without NULs and other control characters (line breaks and tabs stay): they are never words."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
