"""One conversational turn, streamed: ASR -> perception -> reply emotion -> LLM sentences -> TTS -> face -> fMP4.

Blocking stages run in worker threads; the LLM runs in its own thread (server.turn.llm_stream) so sentence n is
voiced, rendered and encoded while sentence n+1 is being written. Every turn that got past its input is stored,
also when it was cancelled or a stage failed, so what the user said is never lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from agent.acknowledgement import Acknowledger
from agent.base import (
    ChatMessage,
    Perceiver,
    ReplyEmotionChooser,
    Responder,
    SafetyCheck,
    SafetyVerdictLike,
    Summarizer,
)
from agent.memory import fold_old_turns
from agent.mind import Appraisal, FailedPlan, Mind, Plan, TurnContext
from agent.prompt_budget import PromptTooLong
from agent.sentences import split_sentences
from avatar.arrays import Image
from avatar.base import EncoderFactory, MediaEncoder, Renderer
from compose.persona_engines import PersonaEngines
from core.emotion import EmotionState, VoiceAffect
from core.media import Speech, Transcript
from server.protocol import (
    EmotionOut,
    ErrorOut,
    MediaOut,
    ProtocolError,
    ReplyEnd,
    ReplyStart,
    ReplyText,
    SafetyOut,
    TranscriptOut,
    UserEmotionOut,
    VoiceOut,
    WordOut,
)
from server.turn.degrade import llm_fallback_text, still_frames
from server.turn.engine_guards import CancelledWhileWaiting, EngineGuards, hold_from_thread
from server.turn.llm_stream import Done, Failed, Sentence, SentenceStream
from server.turn.played import ReplyTimeline
from server.turn.sink import TurnSink
from speech.base import Recognizer, Synthesizer, VoiceEstimator
from storage.pending import PendingTurn, PendingTurns
from storage.store import ConversationStore, InputKind, TurnRecord

log = logging.getLogger(__name__)
T = TypeVar("T")
# The longest the model waits, once the reply's first sentence (the first reaction, or its own) is written, for
# that sentence's first video fragment to go out.
FIRST_MEDIA_HEAD_START_S = 1.5


@dataclass
class TurnInput:
    """What one turn starts from: typed text or an utterance (16 kHz mono int16), and the context."""

    session_id: str
    turn_index: int
    kind: InputKind
    input_end: float  # time.perf_counter() when the user's input ended
    text: str = ""
    pcm: np.ndarray | None = None
    sample_rate: int = 16000
    history: list[ChatMessage] = field(default_factory=list)
    previous_emotion: EmotionState | None = None
    previous_user_emotion: EmotionState | None = None  # the user's smoothed state after the session's last turn
    persona: str = ""  # recorded with the session when this is its first stored turn
    portrait: str | None = None  # the session's uploaded portrait file (server.web.portraits); None: the persona's
    endpoint_ms: float | None = None  # hands-free microphone: the pause the endpointer waited for (a timing)
    secret_hash: str | None = None  # of the session's resume secret: stored with its first turn


@dataclass
class TurnOutcome:
    """What happened in a turn; `record` is what was stored (None when nothing was stored)."""

    record: TurnRecord | None
    agent_emotion: EmotionState | None
    user_emotion: EmotionState | None = None  # smoothed across the session's turns (agent.perception.smoothing)
    timeline: ReplyTimeline = field(default_factory=ReplyTimeline)  # the voiced sentences on the media clock


class StageError(Exception):
    """A pipeline stage raised; the message names the stage."""

    def __init__(self, stage: str, cause: BaseException) -> None:
        super().__init__(f"{stage} failed: {type(cause).__name__}: {cause}")
        self.stage = stage


@dataclass
class _TurnState:
    turn: TurnInput
    user_text: str = ""
    user_emotion: EmotionState | None = None
    agent_emotion: EmotionState | None = None
    voice: VoiceAffect | None = None  # spoken turns: the voice's own reading
    mismatch: bool = False  # the words and the voice disagree
    sentences: list[str] = field(default_factory=list)
    reply_started: bool = False
    cancelled: bool = False
    media_index: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    stream: SentenceStream | None = None
    plan: Plan | None = None  # the chain-of-empathy reasoning, the safety event, or the failed model
    cancel: asyncio.Event = field(default_factory=asyncio.Event)  # the client stopped the reply (cancel, barge-in)
    timeline: ReplyTimeline = field(default_factory=ReplyTimeline)
    # The engines of this turn's persona (its lens, voice and face); set before the reply starts.
    responder: Responder | None = None
    synthesizer: Synthesizer | None = None
    renderer: Renderer | None = None
    # Degraded modes (server.turn.degrade): once the voice or the face failed, the rest of the turn goes without it.
    voice_failed: bool = False
    face_failed: bool = False
    encoded: bool = False  # the encoder got at least one sentence (else there is nothing to finish)
    storage_error: str = ""  # why the turn could not be written yet (it is kept and retried)
    opening: str = ""  # the first reaction (agent.acknowledgement) the reply starts with, if any
    # Set once the first sentence's first media is out (or it cannot be): the model's thread waits for it after
    # writing that sentence (SentenceStream's hold_after_first).
    first_out: threading.Event = field(default_factory=threading.Event)

    def add_time(self, stage: str, seconds: float) -> None:
        self.timings[stage] = self.timings.get(stage, 0.0) + seconds * 1000.0


@dataclass
class TurnPipeline:
    """Runs turns on shared engines, several sessions' turns at once; `guards` say which engine calls may overlap."""

    recognizer: Recognizer
    perceiver: Perceiver
    choose_reply_emotion: ReplyEmotionChooser
    responder: Responder
    synthesizer: Synthesizer
    renderer: Renderer
    encoder_factory: EncoderFactory
    store: ConversationStore
    safety: SafetyCheck | None = None  # messages it flags get a scripted reply instead of the model's
    on_safety: Callable[[dict[str, Any]], object] | None = None  # escalation hook (e.g. a webhook)
    memory: Summarizer | None = None  # keeps a running summary of the turns that left the history window
    memory_window: int = 8  # turns given to the model as history (the summary covers the older ones)
    # The session persona's responder/voice/face/encoder (compose.persona_engines); None: the fields above for all.
    persona_engines: Callable[..., PersonaEngines] | None = None  # (persona name[, uploaded portrait file])
    # Writes turns, keeping the ones the database refuses (locked, full) for later; None: in memory only.
    pending: PendingTurns | None = None
    llm_fallback: str = ""  # voiced when the reply model fails; empty: prompts/fallback_llm.txt
    # A new voice-affect estimator (speech.affect); one is kept per conversation, since each holds that speaker's
    # running baseline. None: spoken turns are read from their words alone.
    voice_estimator: Callable[[], VoiceEstimator] | None = None
    voice_sessions: int = 256  # conversations whose voice baselines are kept (least recently heard go first)
    acknowledger: Acknowledger | None = None  # the first reaction said at once while the chain reasons
    # One call at a time on each local engine, many on a remote LLM (server.turn.engine_guards).
    guards: EngineGuards = field(default_factory=EngineGuards)
    # Seconds of a sentence drawn, encoded and sent at a time: its first fragment ships after this much is drawn.
    media_chunk_s: float = 0.5
    prime_cache: bool = True  # `prime` warms the reply model's prompt cache between turns (config llm.prime_cache)

    def __post_init__(self) -> None:
        self._voices: OrderedDict[str, VoiceEstimator] = OrderedDict()
        # The text half of every turn (agent.mind): the same one chat, eval and replay run.
        self.mind = Mind(
            self.perceiver, self.choose_reply_emotion, self.safety, self.memory_window, acknowledge=self.acknowledger
        )
        if self.pending is None:
            self.pending = PendingTurns(self.store)
        if not self.llm_fallback:
            self.llm_fallback = llm_fallback_text()

    async def run(self, turn: TurnInput, sink: TurnSink, cancel: asyncio.Event) -> TurnOutcome:
        """Run one turn, sending its messages to `sink`; setting `cancel` stops it within one sentence."""
        state = _TurnState(turn=turn, user_text=turn.text.strip(), cancel=cancel)
        if turn.endpoint_ms is not None:
            state.timings["endpoint"] = turn.endpoint_ms
        store_it = True
        try:
            await self._run(state, sink, cancel)
        except CancelledWhileWaiting:  # another session's turn had the engine; this one was cancelled meanwhile
            state.cancelled = True
        except ProtocolError as exc:  # empty input, or too long for the model: nothing to store
            store_it = False
            await sink.send(ErrorOut(code=exc.code, message=exc.message, turn_id=turn.turn_index))
        except StageError as exc:
            log.exception("turn %s/%s: %s", turn.session_id, turn.turn_index, exc)
            await sink.send(ErrorOut(code="internal", message=str(exc), turn_id=turn.turn_index))
        finally:
            # Also when the client went away. The write runs in a worker thread: a locked database may hold it for
            # seconds (storage.store's busy timeout), and the event loop serves every other session meanwhile.
            state.timings["total"] = _ms_since(turn.input_end)
            if state.stream is not None:
                state.stream.stop()
            record = await asyncio.to_thread(self._store, state) if store_it else None
        if state.storage_error:
            await sink.send(ErrorOut(code="storage", message=state.storage_error, turn_id=turn.turn_index))
        if state.reply_started:
            await sink.send(
                ReplyEnd(
                    turn_id=turn.turn_index,
                    text=" ".join(state.sentences),
                    cancelled=state.cancelled,
                    timings_ms=_rounded(state.timings),
                    plan=state.plan.to_dict() if state.plan is not None else None,
                )
            )
        if state.stream is not None:
            await state.stream.wait_finished()  # the model must be idle before the next turn may use it
        if self.memory is not None and record is not None and not state.storage_error:
            try:
                async with self.guards.llm:  # the summary is written by the reply model
                    await asyncio.to_thread(self._update_memory, turn.session_id)
            except Exception:  # the reply is out and stored; a failed summary only costs memory
                log.exception("could not update the summary of session %s", turn.session_id)
        return TurnOutcome(
            record=record, agent_emotion=state.agent_emotion, user_emotion=state.user_emotion, timeline=state.timeline
        )

    async def prime(self, persona: str, portrait: str | None, history: Sequence[ChatMessage]) -> bool:
        """Warm the reply model's prompt cache with `history`, what a session's next turn begins with, while the
        user reads or types (agent.prompt_cache): that turn then processes only the new message.

        Returns whether it ran: not when switched off, nor when the model is busy or awaited by a turn (a reply
        never waits for another session's priming to start; one that arrives meanwhile waits at most for this
        prefill, which it would otherwise have done itself). A failure is logged, never raised: it costs time only.
        """
        if not (self.prime_cache and self._llm_idle()):
            return False
        try:
            if self.persona_engines is None:
                responder = self.responder
            else:
                responder = (await asyncio.to_thread(self._persona, persona, portrait)).responder
            if not self._llm_idle():  # a turn took the model while the persona's engines were looked up
                return False
            async with self.guards.llm:
                await asyncio.to_thread(self.mind.prime, responder, history)
        except Exception:
            log.exception("could not warm the prompt cache for the next turn; it will process its history itself")
            return False
        return True

    def _llm_idle(self) -> bool:
        """No turn holds or waits for the reply model."""
        return not (self.guards.llm.busy or self.guards.llm.waiting)

    async def _run(self, state: _TurnState, sink: TurnSink, cancel: asyncio.Event) -> None:
        turn = state.turn
        tid = turn.turn_index
        if turn.kind == "audio":
            assert turn.pcm is not None, "audio turns carry PCM"
            transcript: Transcript = await self._stage(
                state, "asr", self.recognizer.transcribe, turn.pcm, turn.sample_rate
            )
            state.user_text = transcript.text.strip()
            if state.user_text:
                words = [WordOut(text=w.text, start=w.start, end=w.end) for w in transcript.words]
                await sink.send(
                    TranscriptOut(turn_id=tid, text=state.user_text, language=transcript.language, words=words)
                )
        if not state.user_text:
            raise ProtocolError("empty_input", "no speech was recognised" if turn.kind == "audio" else "empty text")
        if cancel.is_set():
            state.cancelled = True
            return

        summary, _ = await asyncio.to_thread(self.store.summary, turn.session_id)
        context = TurnContext(turn.history, turn.previous_user_emotion, turn.previous_emotion, summary, turn.persona)
        voice = await self._voice_affect(state) if turn.kind == "audio" else None
        appraisal = await self._stage(
            state, "perception", self.mind.appraise, state.user_text, context, voice, timed=False
        )
        for stage, ms in appraisal.timings_ms.items():
            state.timings[stage] = state.timings.get(stage, 0.0) + ms
        state.user_emotion, state.agent_emotion = appraisal.user, appraisal.agent
        state.voice, state.mismatch = appraisal.voice, appraisal.mismatch
        voice_out = VoiceOut.of(appraisal.voice) if appraisal.voice is not None else None
        await sink.send(
            UserEmotionOut(
                turn_id=tid, emotion=EmotionOut.of(state.user_emotion), voice=voice_out, mismatch=appraisal.mismatch
            )
        )
        if appraisal.safety is not None:
            await self._escalate(state, sink, appraisal.safety)
        encoder_factory = await self._use_persona(state)
        await self._check_room(state, appraisal, context)
        assert state.responder is not None, "set by _use_persona"
        state.reply_started = True
        await sink.send(ReplyStart(turn_id=tid, emotion=EmotionOut.of(state.agent_emotion)))

        reply = self.mind.reply(state.responder, appraisal, context)
        state.opening = reply.opening.strip()
        # On two cores the model writing on (or processing its prompt after the first reaction) and the first
        # sentence's voice and face fight for the CPU: after the first sentence the model waits (at most
        # FIRST_MEDIA_HEAD_START_S) until that sentence's first video fragment is out.
        loop = asyncio.get_running_loop()  # the LLM's thread holds the model's guard while it writes the reply
        stream = SentenceStream(
            lambda: hold_from_thread(self.guards.llm, loop, cancel, reply.__iter__),
            loop,
            hold_after_first=lambda: state.first_out.wait(FIRST_MEDIA_HEAD_START_S),
        )
        state.stream = stream
        stream.start()
        # Two stages side by side: this loop takes the model's sentences and voices them (TTS), while `speaker`
        # draws, encodes and sends the voiced ones in order, so sentence n+1 is synthesised while n is rendered.
        voiced: asyncio.Queue[_Voiced | None] = asyncio.Queue()
        speaker = asyncio.create_task(self._speak_queue(state, sink, voiced, encoder_factory))
        failed: Failed | None = None
        try:
            while not speaker.done():
                item = await stream.next(cancel)
                if item is None:
                    state.cancelled = True
                    break
                if isinstance(item, Failed):
                    failed = item
                    break
                if isinstance(item, Done):
                    break
                assert isinstance(item, Sentence)
                _record_llm(state, stream)
                text = item.text.strip()
                if text:
                    voiced.put_nowait(_Voiced(text, await self._synthesize(state, text)))
        except BaseException:  # the turn itself is torn down (e.g. the server stops): nothing more is said
            speaker.cancel()
            raise
        voiced.put_nowait(None)
        try:
            encoder = await speaker  # its failure (a stage error) ends the turn like any stage's
        finally:  # nothing more is spoken (a cancel drains the queue unsaid): the model must not wait for it
            state.first_out.set()
        if cancel.is_set():
            state.cancelled = True
        elif failed is not None:
            encoder = await self._speak_fallback(state, sink, encoder, encoder_factory, failed.error)
        _record_llm(state, stream)
        if state.plan is None:  # a failed model already has its FailedPlan
            state.plan = reply.plan
        if encoder is not None and state.encoded and not state.cancelled:
            pieces = await self._stage(state, "encode", encoder.finish)
            await self._send_pieces(state, sink, pieces)

    async def _check_room(self, state: _TurnState, appraisal: Appraisal, context: TurnContext) -> None:
        """Refuse, before the reply starts, a message too long for the reply model's context (`input_too_long`)."""
        try:
            await self._stage(state, "prompt", self.mind.check_room, state.responder, appraisal, context, timed=False)
        except StageError as exc:
            if isinstance(exc.__cause__, PromptTooLong):
                raise ProtocolError("input_too_long", str(exc.__cause__)) from None
            raise

    async def _voice_affect(self, state: _TurnState) -> VoiceAffect | None:
        """How the user's voice sounded against their own baseline; None without an estimator or on failure (the
        words alone then carry the turn)."""
        turn = state.turn
        if self.voice_estimator is None or turn.pcm is None:
            return None
        estimator = self._voices.pop(turn.session_id, None) or self.voice_estimator()
        self._voices[turn.session_id] = estimator
        while len(self._voices) > self.voice_sessions:
            self._voices.popitem(last=False)
        try:
            return await self._stage(
                state, "voice affect", estimator.estimate, turn.pcm, turn.sample_rate, state.user_text
            )
        except StageError as exc:
            log.error("turn %s/%s: %s; reading the words alone", turn.session_id, turn.turn_index, exc)
            return None

    async def _speak_fallback(
        self,
        state: _TurnState,
        sink: TurnSink,
        encoder: MediaEncoder | None,
        encoder_factory: EncoderFactory,
        error: BaseException,
    ) -> MediaEncoder | None:
        """The reply model failed: tell the client why, then voice the scripted fallback through the usual path."""
        turn = state.turn
        log.error(
            "turn %s/%s: the reply model failed: %s: %s", turn.session_id, turn.turn_index, type(error).__name__, error
        )
        message = (
            f"the reply model failed ({type(error).__name__}: {error}); a short scripted reply was voiced instead. "
            "Check the LLM settings (llm.*) and the server log, then try again."
        )
        await sink.send(ErrorOut(code="llm_unavailable", message=message, turn_id=turn.turn_index))
        if state.plan is None:
            state.plan = FailedPlan(type(error).__name__)
        for text in split_sentences(self.llm_fallback):
            if state.cancel.is_set():
                state.cancelled = True
                break
            if encoder is None:
                encoder = await self._stage(state, "video encoder set-up", encoder_factory, timed=False)
            await self._voice(state, sink, encoder, text)
        return encoder

    async def _use_persona(self, state: _TurnState) -> EncoderFactory:
        """Pick this turn's responder, voice and face by the session's persona (the first use loads them)."""
        if self.persona_engines is None:
            state.responder, state.synthesizer, state.renderer = self.responder, self.synthesizer, self.renderer
            return self.encoder_factory
        engines = await self._stage(
            state, "persona engines", self._persona, state.turn.persona, state.turn.portrait, timed=False
        )
        state.responder, state.synthesizer, state.renderer = engines.responder, engines.synthesizer, engines.renderer
        return engines.encoder_factory

    def _persona(self, persona: str, portrait: str | None) -> PersonaEngines:
        """The engines of `persona` (with the session's uploaded `portrait`, if any); blocking: the first use loads
        them. Only a session with an uploaded portrait passes it, so lookups without that argument keep working."""
        assert self.persona_engines is not None, "only called when the engines are chosen per persona"
        return self.persona_engines(persona) if portrait is None else self.persona_engines(persona, portrait)

    async def _escalate(self, state: _TurnState, sink: TurnSink, verdict: SafetyVerdictLike) -> None:
        """Announce a safety event to the client and the operator's hook; the scripted reply follows."""
        turn = state.turn
        category: Any = verdict.category  # one of agent.safety.CATEGORIES, which the protocol's Literal lists
        await sink.send(SafetyOut(turn_id=turn.turn_index, category=category, response=verdict.response))
        if self.on_safety is not None:
            event = {
                "type": "safety",
                "session_id": turn.session_id,
                "turn_id": turn.turn_index,
                "category": verdict.category,
                "user_text": state.user_text,
                "response": verdict.response,
                "time": time.time(),
            }
            try:
                self.on_safety(event)
            except Exception:  # the hook is best effort: the scripted reply must still go out
                # Not the event itself: it holds the user's words, which belong in the store, not in logs.
                log.exception(
                    "safety hook failed for the %s event of turn %s/%s",
                    verdict.category,
                    turn.session_id,
                    turn.turn_index,
                )

    def _update_memory(self, session_id: str) -> None:
        """Fold the turns that have left the history window into the session's running summary, when due."""
        assert self.memory is not None
        summary, through = self.store.summary(session_id)
        pairs = [(t.user_text, t.reply_text) for t in self.store.turns(session_id)]
        folded = fold_old_turns(self.memory, summary, through, pairs, self.memory_window)
        if folded is not None:
            self.store.set_summary(session_id, *folded)

    async def _voice(self, state: _TurnState, sink: TurnSink, encoder: MediaEncoder, text: str) -> None:
        """Voice one sentence, then send its text, animate, encode and send it (one sentence, start to end)."""
        await self._speak(state, sink, encoder, _Voiced(text, await self._synthesize(state, text)))

    async def _synthesize(self, state: _TurnState, text: str) -> Speech | StageError | None:
        """The sentence's voice; its failure (reported in order by `_speak`), or None once the voice has failed."""
        assert state.synthesizer is not None, "set by _use_persona"
        if state.voice_failed or state.cancel.is_set():
            return None
        try:
            return await self._stage(state, "tts", state.synthesizer.synthesize, text, state.agent_emotion)
        except StageError as exc:  # the reply goes on as text
            state.voice_failed = True
            return exc

    async def _speak_queue(
        self, state: _TurnState, sink: TurnSink, voiced: asyncio.Queue[_Voiced | None], factory: EncoderFactory
    ) -> MediaEncoder | None:
        """Speak the voiced sentences in order until the end mark (None) or a cancel; returns the turn's encoder."""
        encoder: MediaEncoder | None = None
        while (item := await voiced.get()) is not None:
            if state.cancel.is_set():
                continue  # drain to the end mark: nothing more is said
            if encoder is None:
                encoder = await self._stage(state, "video encoder set-up", factory, timed=False)
            await self._speak(state, sink, encoder, item)
        return encoder

    async def _speak(self, state: _TurnState, sink: TurnSink, encoder: MediaEncoder, voiced: _Voiced) -> None:
        """Send one voiced sentence's text, then its face and voice as fMP4, ~`media_chunk_s` at a time."""
        try:
            await self._speak_sentence(state, sink, encoder, voiced)
        finally:  # the first sentence is said, failed or cancelled: the model need not wait for it any more
            state.first_out.set()

    async def _speak_sentence(self, state: _TurnState, sink: TurnSink, encoder: MediaEncoder, voiced: _Voiced) -> None:
        tid, text, speech = state.turn.turn_index, voiced.text, voiced.speech
        if state.cancel.is_set():  # barge-in: what the user did not hear is not said
            return
        if not state.sentences:
            state.timings["first_text"] = _ms_since(state.turn.input_end)
            if text == state.opening:  # the first reaction, said while the chain reasons
                state.timings["ack_text"] = state.timings["first_text"]
        await sink.send(ReplyText(turn_id=tid, text=text, index=len(state.sentences)))
        state.sentences.append(text)
        if isinstance(speech, StageError):  # the text is out: the reply goes on as text
            log.error("turn %s/%s: %s", state.turn.session_id, tid, speech)
            await sink.send(ErrorOut(code="tts_failed", message=f"{speech}; the reply continues as text", turn_id=tid))
            return
        if speech is None:
            return
        first = len(state.sentences) == 1
        mark = (
            "ack_media"
            if first and text == state.opening
            else "model_media"
            if first or (len(state.sentences) == 2 and state.sentences[0] == state.opening)
            else ""
        )
        frames = _FrameChunks(self, state, encoder, speech, max(1, round(self.media_chunk_s * _fps(state, encoder))))
        chunk = asyncio.create_task(frames.next())
        while True:
            made = await chunk
            if made is None:
                break
            pcm, error = made.pcm, made.error
            # The next chunk is drawn while this one is encoded and sent (cv2 and x264 both release the GIL).
            chunk = asyncio.create_task(frames.next())
            if error:
                await sink.send(ErrorOut(code="render_failed", message=error, turn_id=tid))
            if state.cancel.is_set():
                with contextlib.suppress(CancelledWhileWaiting):  # the cancel came first: it was never drawn
                    await chunk  # the renderer is this turn's until its worker thread is done
                return
            pieces = await self._stage(state, "encode", encoder.add, made.frames, pcm, made.start == 0)
            state.encoded = True
            if made.start == 0:  # from here on the listener may hear this sentence
                state.timeline.add(text, len(speech.pcm) / speech.sample_rate)
            sent_at = None
            if mark and any(pieces):  # one reading for this mark and, when these are the turn's first, first_media
                sent_at = state.timings[mark] = _ms_since(state.turn.input_end)
                mark = ""
            await self._send_pieces(state, sink, pieces, sent_at)
            if sent_at is not None:
                state.first_out.set()  # the first sentence is on its way: the model may take the CPU

    async def _send_pieces(
        self, state: _TurnState, sink: TurnSink, pieces: list[bytes], sent_at: float | None = None
    ) -> None:
        """Send encoded pieces; `sent_at` (ms since the input ended) is the reading that stamped them, if any."""
        for piece in pieces:
            if state.cancel.is_set():  # the client has flushed its player: later pieces would only be dropped
                return
            if not piece:
                continue
            if state.media_index == 0:
                state.timings["first_media"] = sent_at if sent_at is not None else _ms_since(state.turn.input_end)
            announce = MediaOut(turn_id=state.turn.turn_index, index=state.media_index, bytes=len(piece))
            await sink.send_media(announce, piece)
            state.media_index += 1

    async def _stage(self, state: _TurnState, name: str, fn: Callable[..., T], *args: Any, timed: bool = True) -> T:
        """Run a blocking stage in a worker thread, add its time to `timings[name]`, wrap its failure."""
        # The stage's engine may be busy with another session's turn; a cancel stops the wait.
        async with self.guards.for_stage(name).held_unless(state.cancel):
            start = time.perf_counter()
            try:
                result = await asyncio.to_thread(fn, *args)
            except Exception as exc:
                raise StageError(name, exc) from exc
        if timed:
            state.add_time(name, time.perf_counter() - start)
        return result

    def _store(self, state: _TurnState) -> TurnRecord | None:
        turn = state.turn
        record = TurnRecord(
            session_id=turn.session_id,
            turn_index=turn.turn_index,
            input_kind=turn.kind,
            user_text=state.user_text,
            reply_text=" ".join(state.sentences),
            cancelled=state.cancelled,
            user_emotion=_user_record(state),
            agent_emotion=state.agent_emotion.to_dict() if state.agent_emotion else None,
            timings=_rounded(state.timings),
            created_at=time.time(),  # when it happened, also if the write has to wait
        )
        assert self.pending is not None, "set in __post_init__"
        plan = state.plan.to_dict() if state.plan is not None else None
        saved = self.pending.save(PendingTurn(record, turn.persona, plan, turn.secret_hash))
        if not saved.written:  # locked or full: kept in memory (and the journal), written on a later try
            log.error(
                "could not store turn %s/%s yet (%s); %d turn(s) waiting",
                turn.session_id,
                turn.turn_index,
                saved.error,
                saved.waiting,
            )
            state.storage_error = (
                f"this turn could not be saved yet ({saved.error}); it is kept and will be saved as soon as the "
                "database is writable again (free disk space, or close the program that locks it)"
            )
        return record


@dataclass(frozen=True)
class _Voiced:
    """A sentence of the reply and its voice (a failure of the voice, or None when the turn goes on as text)."""

    text: str
    speech: Speech | StageError | None


@dataclass(frozen=True)
class _Chunk:
    """A run of a sentence's frames from frame `start`, its stretch of the audio, and a render failure to report."""

    start: int
    frames: Sequence[Image]
    pcm: np.ndarray
    error: str = ""


class _FrameChunks:
    """A sentence's face frames a chunk at a time, each drawn in a worker thread when asked for.

    When the face fails (at the start or part-way) the rest of the sentence, and of the turn, is the still portrait
    (or a plain frame) with the real voice; the failure is handed back once, for the caller to report in order.
    """

    def __init__(
        self, pipeline: TurnPipeline, state: _TurnState, encoder: MediaEncoder, speech: Speech, chunk_frames: int
    ) -> None:
        self._pipeline, self._state, self._encoder, self._speech = pipeline, state, encoder, speech
        self._chunk_frames = chunk_frames
        self._chunks: Iterator[Sequence[Image]] | None = None
        self._done = 0  # frames handed out so far
        self._still = False

    async def next(self) -> _Chunk | None:
        """The next chunk, or None after the last."""
        state, error = self._state, ""
        if not self._still and not state.face_failed:
            try:
                frames = await self._pipeline._stage(state, "render", self._draw)
                if frames is not None:
                    return self._chunk(frames)
                return None
            except StageError as exc:
                state.face_failed = True
                log.error("turn %s/%s: %s", state.turn.session_id, state.turn.turn_index, exc)
                error = f"{exc}; the reply is shown as a still picture with the voice"
        if self._still:
            return None
        self._still = True
        assert state.renderer is not None, "set by _use_persona"
        still = await asyncio.to_thread(still_frames, state.renderer, self._encoder, self._speech)
        rest = still[self._done :]
        if not rest and not error:
            return None
        return self._chunk(rest, error, last=True)

    def _draw(self) -> Sequence[Image] | None:
        """In a worker thread: plan the sentence's motion on the first call, then draw one chunk."""
        state = self._state
        if self._chunks is None:
            assert state.renderer is not None and state.agent_emotion is not None
            self._chunks = iter(state.renderer.speech_chunks(self._speech, state.agent_emotion, self._chunk_frames))
        return next(self._chunks, None)

    def _chunk(self, frames: Sequence[Image], error: str = "", last: bool = False) -> _Chunk:
        start, end = self._done, self._done + len(frames)
        self._done = end
        speech, fps = self._speech, _fps(self._state, self._encoder)
        a = round(start * speech.sample_rate / fps)
        b = len(speech.pcm) if last else round(end * speech.sample_rate / fps)
        return _Chunk(start, frames, speech.pcm[a:b], error)


def _fps(state: _TurnState, encoder: MediaEncoder) -> int:
    """Frames per second of this turn's face (the encoder's when the renderer does not say)."""
    fps = state.renderer.fps if state.renderer is not None else 0
    return fps or encoder.fps or 25


def _record_llm(state: _TurnState, stream: SentenceStream) -> None:
    if stream.first_sentence_s is not None:
        state.timings["llm_first_sentence"] = stream.first_sentence_s * 1000.0
    if stream.total_s is not None:
        state.timings["llm_total"] = stream.total_s * 1000.0


def _user_record(state: _TurnState) -> dict[str, object] | None:
    """The stored user emotion: the fused, smoothed state, plus the voice's own reading and the mismatch flag."""
    if state.user_emotion is None:
        return None
    record = state.user_emotion.to_dict()
    if state.voice is not None:
        record["voice"] = VoiceOut.of(state.voice).model_dump()
        record["mismatch"] = state.mismatch
    return record


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _rounded(timings: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 1) for k, v in timings.items()}
