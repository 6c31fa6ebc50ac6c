"""The small interfaces the turn pipeline needs from the engines, so tests can hand it fakes.

They mirror the engine packages' own interfaces (speech.base, agent.base, the avatar renderer and encoder)
without importing their heavy implementations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

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

ReplyEmotionChooser = Callable[[EmotionState, EmotionState | None], EmotionState]
"""The agent's reply emotion from the user's emotion and the agent's previous one."""


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
