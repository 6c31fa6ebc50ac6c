"""A listening session: endpointer events plus a recogniser give partial and final transcripts.

`Listener.feed` returns what a client needs while the user talks: `SpeechStart` (with the barge-in flag),
`PartialTranscript` at most every `partial_interval_ms` (re-transcribing the speech so far; when one `feed`
call carries several partials only the newest is transcribed, so a caller that feeds larger chunks while the
CPU is busy sheds load), and `FinalTranscript` with the utterance PCM at the end of the turn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.media import Transcript
from speech.base import Recognizer
from speech.streaming.endpointer import EndOfTurn, Endpointer, EndpointerEvent, PartialAudio, SpeechStart
from speech.streaming.vad import VAD_RATE


@dataclass(frozen=True)
class PartialTranscript:
    """Text recognised so far in the current turn (may change until the final transcript)."""

    text: str
    time: float


@dataclass(frozen=True)
class FinalTranscript:
    """A finished turn: its transcript, its PCM (int16, 16 kHz) and the end-of-turn event it came from."""

    transcript: Transcript
    pcm: npt.NDArray[np.int16]
    end: EndOfTurn


ListenerEvent = SpeechStart | PartialTranscript | FinalTranscript


class Listener:
    """Streams microphone PCM through an `Endpointer` and a `Recognizer` (synchronously: run it in a
    worker thread next to an event loop)."""

    def __init__(self, endpointer: Endpointer, recognizer: Recognizer, partials: bool = True) -> None:
        self.endpointer = endpointer
        self._recognizer = recognizer
        self._partials = partials

    def feed(self, pcm: npt.NDArray[np.int16]) -> list[ListenerEvent]:
        """Process more 16 kHz int16 PCM; returns the listener events it caused, in order."""
        return self._convert(self.endpointer.feed(pcm))

    def flush(self) -> list[ListenerEvent]:
        """End of the stream: finish a turn in progress."""
        return self._convert(self.endpointer.flush())

    def _convert(self, events: list[EndpointerEvent]) -> list[ListenerEvent]:
        out: list[ListenerEvent] = []
        # Only the newest partial of a batch is worth transcribing: older ones are already stale.
        last_partial = max((i for i, e in enumerate(events) if isinstance(e, PartialAudio)), default=-1)
        for i, event in enumerate(events):
            if isinstance(event, SpeechStart):
                out.append(event)
            elif isinstance(event, PartialAudio) and self._partials and i == last_partial:
                text = self._recognizer.transcribe(event.pcm, VAD_RATE).text
                if text:
                    out.append(PartialTranscript(text=text, time=event.time))
            elif isinstance(event, EndOfTurn):
                out.append(FinalTranscript(self._recognizer.transcribe(event.pcm, VAD_RATE), event.pcm, event))
        return out
