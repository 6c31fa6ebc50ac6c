"""Values that flow from the voice to the face and the video: recognised words, phoneme timings, audio."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class TimedWord:
    """A recognised word with its start and end in seconds from the start of the utterance."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Transcript:
    """What the user said: text, per-word timings and the detected language (ISO 639-1)."""

    text: str
    words: tuple[TimedWord, ...] = ()
    language: str = "en"


@dataclass(frozen=True)
class Phoneme:
    """One phoneme (IPA symbol as the TTS engine emits it) spanning [start, end) seconds of the audio."""

    symbol: str
    start: float
    end: float


@dataclass(frozen=True)
class Speech:
    """Synthesised speech: mono PCM16 samples, their rate, and the phoneme timeline covering them."""

    pcm: npt.NDArray[np.int16]  # shape (n,)
    sample_rate: int
    phonemes: tuple[Phoneme, ...] = field(default_factory=tuple)
    text: str = ""

    @property
    def duration(self) -> float:
        return len(self.pcm) / self.sample_rate
