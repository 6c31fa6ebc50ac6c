"""The small interfaces the turn pipeline needs from the engines, so tests can hand it fakes.

They mirror the engine packages' own interfaces (speech.base, agent.base, the avatar renderer and encoder)
without importing their heavy implementations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel

from agent.base import ChatMessage
from core.emotion import EmotionState
from core.media import Speech, Transcript
from server.protocol import MediaOut


class Recognizer(Protocol):
    def transcribe(self, pcm: np.ndarray, sample_rate: int) -> Transcript:
        """Transcribe mono int16 PCM."""
        ...


Perceiver = Callable[[str], EmotionState]
"""How the user feels, from what they said."""


class ReplyEmotionChooser(Protocol):
    def __call__(self, user: EmotionState, previous: EmotionState | None, persona: str = "") -> EmotionState:
        """The agent's reply emotion from the user's emotion, its previous one and the session's persona."""
        ...


class Responder(Protocol):
    def reply(
        self,
        user_text: str,
        user_emotion: EmotionState,
        agent_emotion: EmotionState,
        history: list[ChatMessage],
    ) -> Iterator[str]:
        """Yield the reply as complete sentences."""
        ...


class PlannedTurn(Iterable[str], Protocol):
    """A reply that reasons first (agent.empathy.EmpathyTurn): iterate for sentences, then read `plan`."""

    plan: Any  # an object with to_dict() (agent.empathy.schema.EmpathyPlan), or None


@runtime_checkable
class Planner(Protocol):
    """A responder that also exposes its reasoning per turn (the chain of empathy)."""

    def turn(
        self,
        user_text: str,
        user_emotion: EmotionState,
        agent_emotion: EmotionState,
        history: list[ChatMessage],
        summary: str = "",
    ) -> PlannedTurn:
        """One turn, not yet started."""
        ...


class SafetyVerdictLike(Protocol):
    category: str
    matched: str
    response: str


SafetyCheck = Callable[[str], SafetyVerdictLike | None]
"""The safety screen (agent.safety.SafetyScreen.check): a verdict when a message must bypass the model."""


class Summarizer(Protocol):
    def due(self, turns_done: int, summarised_through: int) -> bool:
        """Whether the running summary needs an update."""
        ...

    def update(self, summary: str, turns: Sequence[tuple[str, str]]) -> str:
        """The summary after `turns` (user text, reply text)."""
        ...


class Synthesizer(Protocol):
    sample_rate: int

    def synthesize(self, text: str, emotion: EmotionState) -> Speech:
        """Voice one sentence."""
        ...


class Renderer(Protocol):
    def render_speech(self, speech: Speech, emotion: EmotionState) -> Sequence[Any]:
        """Frames of the face speaking `speech`."""
        ...


class MediaEncoder(Protocol):
    mime: str

    def add(self, frames: Sequence[Any], pcm: np.ndarray) -> list[bytes]:
        """Encode frames with their audio; returns finished fMP4 pieces (the first ever is the init segment)."""
        ...

    def finish(self) -> list[bytes]:
        """Flush the remaining pieces."""
        ...


EncoderFactory = Callable[[], MediaEncoder]
"""A fresh encoder (one fMP4 stream) per turn."""


class TurnSink(Protocol):
    """Where a turn's messages go (the websocket session, or a list in tests)."""

    async def send(self, message: BaseModel) -> None:
        """Send one JSON message."""
        ...

    async def send_media(self, announce: MediaOut, data: bytes) -> None:
        """Send a `media` announcement and its binary frame, back to back."""
        ...
