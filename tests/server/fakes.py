"""Fake engines for orchestration tests: fast, deterministic, and able to fail or stall on request."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from agent.base import ChatMessage, ChatModel, Perceiver, ReplyEmotionChooser, Responder
from avatar.arrays import Image
from avatar.base import EncoderFactory, Renderer
from core.emotion import BASIC_EMOTIONS, EmotionState
from core.media import Speech, TimedWord, Transcript
from server.protocol import MediaOut
from server.turn.pipeline import TurnPipeline
from server.turn.sink import TurnSink
from speech.base import Recognizer, Synthesizer
from storage.store import ConversationStore

INIT = b"ftyp+moov"
MIME = 'video/mp4; codecs="avc1.42E01E, mp4a.40.2"'


class FakeRecognizer:
    def __init__(self, text: str = "I feel sad today") -> None:
        self.text = text

    def transcribe(self, pcm: npt.NDArray[np.int16], sample_rate: int) -> Transcript:
        words = tuple(TimedWord(w, i * 0.3, i * 0.3 + 0.25) for i, w in enumerate(self.text.split()))
        return Transcript(text=self.text, words=words, language="en")


def sure_reading(label: str, probability: float = 0.9, intensity: float = 0.8) -> EmotionState:
    """A perceived state as the trained perceiver gives a clear message: `label` with this probability in the
    mixture (a first reaction needs a sure reading, agent.acknowledgement)."""
    rest = (1 - probability) / (len(BASIC_EMOTIONS) - 1)
    mixture = {e: probability if e == label else rest for e in BASIC_EMOTIONS}
    return dataclasses.replace(EmotionState.from_label(label, intensity), mixture=mixture)


def fake_perceive(text: str, context: Sequence[str] = ()) -> EmotionState:
    return EmotionState.from_label("sadness" if "sad" in text else "neutral", 0.5)


def sure_perceive(text: str, context: Sequence[str] = ()) -> EmotionState:
    """fake_perceive with a perceiver's probabilities: "sad" is a sure sadness reading (a first reaction's cue)."""
    return sure_reading("sadness") if "sad" in text else EmotionState.from_label("neutral", 0.5)


def fake_choose(user: EmotionState, previous: EmotionState | None = None, persona: str = "") -> EmotionState:
    return EmotionState.from_label("neutral", 0.2)


@dataclass
class FakeResponder:
    sentences: Sequence[str] = ("I am sorry to hear that.", "Do you want to talk about it?", "I am here.")
    fail_after: int | None = None
    # Each sentence after the first waits for this event (lets a test cancel mid-reply deterministically).
    gate: threading.Event | None = None
    closed: bool = False
    calls: list[list[ChatMessage]] = field(default_factory=list)
    primed: list[list[ChatMessage]] = field(default_factory=list)  # the histories warm_up was given
    max_sentences: int = 0  # no sentence limit

    def reply(
        self, user_text: str, user_emotion: EmotionState, agent_emotion: EmotionState, history: list[ChatMessage]
    ) -> Iterator[str]:
        self.calls.append(list(history))
        return self._gen()

    def warm_up(self, history: Sequence[ChatMessage] = ()) -> None:
        self.primed.append(list(history))

    def check_room(
        self,
        user_text: str,
        user_emotion: EmotionState,
        agent_emotion: EmotionState,
        history: list[ChatMessage],
        summary: str = "",
        mismatch: bool = False,
    ) -> None:
        pass  # no prompt budget: every message fits

    def _gen(self) -> Iterator[str]:
        try:
            for i, sentence in enumerate(self.sentences):
                if self.fail_after is not None and i >= self.fail_after:
                    raise RuntimeError("the model fell over")
                if i > 0 and self.gate is not None:
                    self.gate.wait(60)
                yield sentence
        finally:
            self.closed = True


class FakeSynthesizer:
    sample_rate = 22050

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def synthesize(self, text: str, emotion: EmotionState) -> Speech:
        if self.fail:
            raise RuntimeError("voice broke")
        return Speech(pcm=np.zeros(2205 * len(text.split()), dtype=np.int16), sample_rate=22050, text=text)


class FakeRenderer:
    """Black 4x4 frames; no still portrait, and no loop frames (so no idle clips: `loops` is False)."""

    fps = 25
    size = (4, 4)
    loops = False
    base: Image | None = None

    def render_speech(self, speech: Speech, emotion: EmotionState) -> Sequence[Image]:
        return [np.zeros((4, 4, 3), np.uint8)] * max(1, int(speech.duration * 25))

    def speech_chunks(self, speech: Speech, emotion: EmotionState, chunk_frames: int) -> Iterator[Sequence[Image]]:
        frames = self.render_speech(speech, emotion)
        return iter([frames[i : i + chunk_frames] for i in range(0, len(frames), chunk_frames)])

    def render_frame(self, shape: Any, emotion: EmotionState, pose: Any = None, speaking: bool = False) -> Image:
        raise NotImplementedError("this fake face renders no loop frames")


class FakeEncoder:
    mime = MIME
    size = 4
    fps = 25

    def __init__(self) -> None:
        self.started = False
        self.count = 0

    def add(self, frames: Sequence[Image], pcm: npt.NDArray[np.int16], keyframe: bool = True) -> list[bytes]:
        out = [] if self.started else [INIT]
        self.started = True
        self.count += 1
        return [*out, f"fragment-{self.count}".encode()]

    def finish(self) -> list[bytes]:
        return [b"last-fragment"]


class RecordingSink:
    """Collects what the pipeline sends, as (message, binary-or-None) pairs."""

    def __init__(self) -> None:
        self.messages: list[BaseModel] = []
        self.media: list[bytes] = []
        self.on_message: Any = None

    async def send(self, message: BaseModel) -> None:
        self.messages.append(message)
        if self.on_message is not None:
            self.on_message(message)

    async def send_media(self, announce: MediaOut, data: bytes) -> None:
        self.messages.append(announce)
        self.media.append(data)

    @property
    def types(self) -> list[str]:
        return [m.type for m in self.messages]  # type: ignore[attr-defined]  # every server message has a `type`


def make_pipeline(store: ConversationStore, **overrides: Any) -> TurnPipeline:
    parts: dict[str, Any] = {
        "recognizer": FakeRecognizer(),
        "perceiver": fake_perceive,
        "choose_reply_emotion": fake_choose,
        "responder": FakeResponder(),
        "synthesizer": FakeSynthesizer(),
        "renderer": FakeRenderer(),
        "encoder_factory": FakeEncoder,
        "store": store,
    }
    parts.update(overrides)
    return TurnPipeline(**parts)


class PlanModel:
    """A chat model that streams a fixed chain-of-empathy JSON plan in small pieces and records the prompts."""

    def __init__(self, plan: dict[str, str], piece: int = 5) -> None:
        self.plan = plan
        self.piece = piece
        self.calls: list[list[ChatMessage]] = []

    def stream(
        self, messages: list[ChatMessage], max_tokens: int, temperature: float, json_schema: Any = None
    ) -> Iterator[str]:
        self.calls.append(messages)
        text = json.dumps(self.plan)
        for i in range(0, len(text), self.piece):
            yield text[i : i + self.piece]


if TYPE_CHECKING:
    # Each fake stands in for an engine interface: the type checker (mypy in scripts/test.sh) holds it to that
    # interface here, so a fake that drifts from the real engines' shape fails the check instead of passing tests.
    _recognizer: Recognizer = FakeRecognizer()
    _perceiver: Perceiver = fake_perceive
    _chooser: ReplyEmotionChooser = fake_choose
    _responder: Responder = FakeResponder()
    _synthesizer: Synthesizer = FakeSynthesizer()
    _renderer: Renderer = FakeRenderer()
    _encoder_factory: EncoderFactory = FakeEncoder
    _sink: TurnSink = RecordingSink()
    _chat_model: ChatModel = PlanModel({})
