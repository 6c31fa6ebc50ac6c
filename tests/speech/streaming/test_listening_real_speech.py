"""Real speech through the real Silero VAD and endpointer: two utterances separated by a pause."""

import numpy as np
import pytest

from speech.audio import decode_wav
from speech.streaming.endpointer import EndOfTurn, Endpointer, SpeechStart
from speech.streaming.vad import WINDOW, SileroVad

pytestmark = pytest.mark.models


def _noise(seconds: float, rng: np.random.Generator) -> np.ndarray:
    return rng.normal(0, 30, int(seconds * 16000)).astype(np.int16)  # a quiet room, about -60 dBFS


@pytest.fixture(scope="module")
def two_clips(librivox_clips):
    clips = []
    for path, reference in librivox_clips[:2]:
        pcm, rate = decode_wav(path.read_bytes())
        assert rate == 16000
        clips.append((pcm, reference))
    return clips


def test_vad_scores_speech_high_and_silence_low(two_clips):
    vad = SileroVad()
    pcm = two_clips[0][0]
    speech = [vad(pcm[i : i + WINDOW]) for i in range(0, 16000 * 3, WINDOW)]
    vad.reset()
    silence = [vad(w) for w in _noise(1.0, np.random.default_rng(0))[: 31 * WINDOW].reshape(-1, WINDOW)]
    assert np.median(speech) > 0.8 and max(silence) < 0.2
    with pytest.raises(ValueError, match="512"):
        vad(pcm[:100])


def test_speech_silence_speech_yields_two_utterances(two_clips):
    rng = np.random.default_rng(1)
    (a, _ref_a), (b, _ref_b) = two_clips
    stream = np.concatenate([_noise(0.5, rng), a, _noise(1.2, rng), b, _noise(1.0, rng)])
    endpointer = Endpointer(SileroVad())
    events = []
    for i in range(0, len(stream), 320):  # 20 ms chunks, as a browser sends them
        events += endpointer.feed(stream[i : i + 320])
    events += endpointer.flush()
    turns = [e for e in events if isinstance(e, EndOfTurn)]
    starts = [e for e in events if isinstance(e, SpeechStart)]
    assert len(turns) == 2 and len(starts) == 2
    # Each utterance holds its clip: onset near the clip start, end near the clip end.
    assert turns[0].start == pytest.approx(0.5, abs=0.4)
    assert turns[1].start == pytest.approx(0.5 + len(a) / 16000 + 1.2, abs=0.4)
    assert turns[0].speech_end <= 0.5 + len(a) / 16000 + 0.1
