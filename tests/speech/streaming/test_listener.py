"""Listener orchestration with a scripted VAD and a fake recogniser (the orchestration is under test)."""

import numpy as np

from core.media import Transcript
from speech.streaming.endpointer import Endpointer, EndpointerConfig, SpeechStart
from speech.streaming.listener import FinalTranscript, Listener, PartialTranscript
from tests.speech.streaming.scripted import ScriptedVad, stream


class CountingRecognizer:
    def __init__(self) -> None:
        self.lengths: list[int] = []

    def transcribe(self, pcm: np.ndarray, sample_rate: int) -> Transcript:
        assert sample_rate == 16000
        self.lengths.append(len(pcm))
        return Transcript(text=f"{len(pcm)} samples")


def test_partials_then_one_final_per_turn():
    recognizer = CountingRecognizer()
    listener = Listener(Endpointer(ScriptedVad(), EndpointerConfig(partial_interval_ms=400)), recognizer)
    pcm = stream(("speech", 1.5), ("silence", 0.5))
    events = []
    for i in range(0, len(pcm), 320):
        events += listener.feed(pcm[i : i + 320])
    events += listener.flush()
    kinds = [type(e) for e in events]
    assert kinds[0] is SpeechStart and kinds[-1] is FinalTranscript
    assert kinds.count(PartialTranscript) == 3 and kinds.count(FinalTranscript) == 1
    assert events[-1].transcript.text == f"{len(events[-1].pcm)} samples"


def test_a_large_chunk_transcribes_only_its_newest_partial():
    recognizer = CountingRecognizer()
    listener = Listener(Endpointer(ScriptedVad(), EndpointerConfig(partial_interval_ms=300)), recognizer)
    events = listener.feed(stream(("speech", 2.0)))  # one call: several partials are due at once
    partials = [e for e in events if isinstance(e, PartialTranscript)]
    assert len(partials) == 1 and len(recognizer.lengths) == 1


def test_partials_can_be_switched_off():
    recognizer = CountingRecognizer()
    listener = Listener(Endpointer(ScriptedVad()), recognizer, partials=False)
    events = listener.feed(stream(("speech", 2.0), ("silence", 0.5)))
    assert [type(e) for e in events] == [SpeechStart, FinalTranscript]
    assert len(recognizer.lengths) == 1
