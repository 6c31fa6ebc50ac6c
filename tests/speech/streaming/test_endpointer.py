"""The endpointer state machine, driven by a scripted VAD (the state machine is under test, not the VAD)."""

import itertools

import numpy as np
import pytest

from speech.streaming.endpointer import EndOfTurn, Endpointer, EndpointerConfig, PartialAudio, SpeechStart
from speech.streaming.vad import WINDOW
from tests.speech.streaming.scripted import ScriptedVad, stream


def run(endpointer: Endpointer, pcm: np.ndarray, chunk: int = 320) -> list:
    events = []
    for i in range(0, len(pcm), chunk):
        events += endpointer.feed(pcm[i : i + chunk])
    return events + endpointer.flush()


def test_speech_silence_speech_gives_two_turns():
    config = EndpointerConfig(hangover_ms=256, min_speech_ms=96, partial_interval_ms=0)
    events = run(
        Endpointer(ScriptedVad(), config),
        stream(("silence", 0.5), ("speech", 1.0), ("silence", 1.0), ("speech", 0.8), ("silence", 0.6)),
    )
    kinds = [type(e) for e in events]
    assert kinds == [SpeechStart, EndOfTurn, SpeechStart, EndOfTurn]
    first, second = events[1], events[3]
    assert first.start == pytest.approx(0.5, abs=0.04) and first.speech_end == pytest.approx(1.5, abs=0.04)
    assert second.start == pytest.approx(2.5, abs=0.04) and second.speech_end == pytest.approx(3.3, abs=0.04)
    # The end is decided one hang-over after the speech ends, not later.
    assert first.time - first.speech_end == pytest.approx(0.256, abs=0.033)
    # Utterance audio: pre-roll + speech + tail, all the speech included.
    assert np.count_nonzero(first.pcm) == round(1.0 * 16000 / WINDOW) * WINDOW
    assert len(first.pcm) / 16000 == pytest.approx(0.3 + 1.0 + 0.12, abs=0.04)


def test_short_pause_inside_a_turn_does_not_end_it():
    config = EndpointerConfig(hangover_ms=300, min_speech_ms=96, partial_interval_ms=0)
    events = run(
        Endpointer(ScriptedVad(), config), stream(("speech", 0.6), ("silence", 0.15), ("speech", 0.6), ("silence", 0.5))
    )
    assert [type(e) for e in events] == [SpeechStart, EndOfTurn]


def test_clicks_shorter_than_min_speech_start_nothing():
    config = EndpointerConfig(min_speech_ms=200, partial_interval_ms=0)
    events = run(
        Endpointer(ScriptedVad(), config),
        stream(("speech", 0.064), ("silence", 0.6), ("speech", 0.064), ("silence", 0.6)),
    )
    assert events == []


def test_barge_in_flag_follows_agent_speaking():
    endpointer = Endpointer(ScriptedVad(), EndpointerConfig(partial_interval_ms=0))
    endpointer.agent_speaking = True
    events = run(endpointer, stream(("speech", 0.5), ("silence", 0.5)))
    assert isinstance(events[0], SpeechStart) and events[0].barge_in
    endpointer.agent_speaking = False
    events = run(endpointer, stream(("speech", 0.5), ("silence", 0.5)))
    assert isinstance(events[0], SpeechStart) and not events[0].barge_in


def test_partials_are_rate_limited_and_grow():
    config = EndpointerConfig(partial_interval_ms=500, min_speech_ms=96)
    events = run(Endpointer(ScriptedVad(), config), stream(("speech", 2.2), ("silence", 0.5)))
    partials = [e for e in events if isinstance(e, PartialAudio)]
    assert len(partials) == 4  # at ~0.6, 1.1, 1.6, 2.1 s
    gaps = np.diff([p.time for p in partials])
    assert np.all(gaps >= 0.5 - 1e-9)
    assert all(len(b.pcm) > len(a.pcm) for a, b in itertools.pairwise(partials))


def test_flush_ends_a_turn_in_progress_and_max_length_cuts():
    config = EndpointerConfig(partial_interval_ms=0, max_utterance_s=1.0)
    events = run(Endpointer(ScriptedVad(), config), stream(("speech", 2.5)))
    ends = [e for e in events if isinstance(e, EndOfTurn)]
    # Cut at 1 s, again at 2 s (speech continues), and the rest ends with the stream.
    assert len(ends) == 3 and ends[0].time - ends[0].start == pytest.approx(1.0, abs=0.04)
    assert ends[-1].time == pytest.approx(2.5, abs=0.04)


def test_rejects_bad_input_and_config():
    with pytest.raises(ValueError, match="int16"):
        Endpointer(ScriptedVad()).feed(np.zeros(10, dtype=np.float32))
    with pytest.raises(ValueError, match="release_threshold"):
        EndpointerConfig(threshold=0.3, release_threshold=0.5)
