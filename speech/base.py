"""The interfaces every speech engine implements; engines are chosen by configuration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import numpy as np

from core.emotion import EmotionState
from core.media import Speech, Transcript


class SpeechRecognizer(Protocol):
    """Turns one utterance into text."""

    def transcribe(self, pcm: np.ndarray, sample_rate: int) -> Transcript:
        """Transcribe mono int16 PCM at `sample_rate` Hz (16 kHz expected; others are resampled)."""
        ...


class SpeechSynthesizer(Protocol):
    """Voices text in a given emotion, with a phoneme timeline covering the audio."""

    sample_rate: int

    def synthesize(self, text: str, emotion: EmotionState) -> Speech:
        """Speak `text` (one sentence or clause) with prosody for `emotion`."""
        ...


class StreamingSynthesizer(SpeechSynthesizer, Protocol):
    """A synthesiser that can also hand over a multi-sentence text one sentence at a time."""

    def stream(self, text: str, emotion: EmotionState) -> Iterator[Speech]:
        """One `Speech` per sentence, in order, each with a timeline starting at 0 and covering its audio."""
        ...
