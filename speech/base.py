"""The interfaces every speech engine implements; engines are chosen by configuration.

Callers (the turn pipeline, the server's partial transcripts, the offline render) depend on these, never on a
concrete engine, so tests can hand in fakes.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from core.emotion import EmotionState, VoiceAffect
from core.media import Speech, Transcript


class Recognizer(Protocol):
    """Turns one utterance into text (speech.asr: faster-whisper, openai-whisper)."""

    def transcribe(self, pcm: npt.NDArray[np.int16], sample_rate: int) -> Transcript:
        """Transcribe mono int16 PCM at `sample_rate` Hz (16 kHz expected; others are resampled)."""
        ...


class Synthesizer(Protocol):
    """Voices text in a given emotion, with a phoneme timeline covering the audio (speech.tts: piper, hibari)."""

    @property
    def sample_rate(self) -> int:
        """The rate of the PCM it returns (piper 22.05 kHz, hibari 24 kHz): the video encoder follows it."""
        ...

    def synthesize(self, text: str, emotion: EmotionState) -> Speech:
        """Speak `text` (one sentence or clause) with prosody for `emotion`."""
        ...



class VoiceEstimator(Protocol):
    """How the voice sounds, against one speaker's running baseline (speech.affect.VoiceAffectEstimator).

    Keep one per conversation: each estimate also updates that speaker's baseline.
    """

    def estimate(self, pcm: npt.NDArray[np.int16], sample_rate: int, text: str | None = None) -> VoiceAffect | None:
        """The voice affect of one utterance (None: too little voiced speech to say)."""
        ...
