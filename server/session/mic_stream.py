"""The hands-free microphone of one session: a continuous PCM16 stream cut into turns by an endpointer.

Between `listen_start` and `listen_stop` every binary frame is microphone audio (16-bit little-endian mono at
16 kHz). Frames need not hold whole samples (a byte left over is kept for the next frame). The endpointer
(speech.streaming.Endpointer, with its own VAD state) turns the stream into `SpeechStart`, `PartialAudio` and
`EndOfTurn` events; the session acts on them (barge-in, partial transcripts, new turns).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from speech.streaming.endpointer import EndOfTurn, Endpointer, EndpointerEvent, PartialAudio, SpeechStart

MIC_RATE = 16000

__all__ = ["MIC_RATE", "EndOfTurn", "MicStream", "PartialAudio", "SpeechStart"]


@dataclass
class MicStream:
    """Feeds microphone bytes to an endpointer; `agent_speaking` flags turns that start as barge-ins."""

    endpointer: Endpointer
    _odd: bytes = b""

    @classmethod
    def open(cls, make_endpointer: Callable[[], Endpointer]) -> MicStream:
        """A stream with a fresh endpointer (and VAD state) from `make_endpointer`."""
        return cls(make_endpointer())

    def feed(self, data: bytes, agent_speaking: bool) -> list[EndpointerEvent]:
        """Process one binary frame; returns the endpointer events it caused, in order (blocking: VAD inference)."""
        data = self._odd + data
        whole = len(data) - len(data) % 2
        self._odd = data[whole:]
        if not whole:
            return []
        self.endpointer.agent_speaking = agent_speaking
        return self.endpointer.feed(np.frombuffer(data[:whole], dtype="<i2").astype(np.int16))

    def close(self) -> list[EndpointerEvent]:
        """The stream ended (`listen_stop` or disconnect): finish a turn that was being spoken."""
        self._odd = b""
        return self.endpointer.flush()
