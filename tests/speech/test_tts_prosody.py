"""Emotion changes pitch and rate in the right direction, for every engine, measured independently.

Pitch is measured with the cepstral tracker (`speech.pitch_check`), which shares nothing with the pitch
shifter or with hibari's f0 scaling; rate with the length of the audible speech. Thresholds are the issue's
acceptance at full intensity: joy, anger, fear and surprise raise f0 by >= 8 %; sadness lowers it by >= 5 %
and slows speech by >= 10 %. `benchmarks/tts_prosody.py` prints the figures.
"""

import numpy as np
import pytest

from core.emotion import NEUTRAL, EmotionState
from speech.pitch_check import cepstral_f0, speech_span
from speech.tts.timeline import PAUSE

pytestmark = pytest.mark.models

# Six sentences, pooled: Piper samples its delivery afresh on every call, and with three sentences the median f0 of
# anger against neutral ranged 8-18 % over runs (it failed the 8 % target once at 7.96 %); with six, 12-14 %.
SENTENCES = (
    "I'm really sorry to hear that you had such a hard day.",
    "What would help you most right now?",
    "Maybe my mum can pop by in the morning.",
    "That sounds like it took a lot out of you.",
    "Tell me what happened when you got home.",
    "We can take this one small step at a time.",
)


def _measure(synthesizer, emotion):
    speeches = [synthesizer.synthesize(s, emotion) for s in SENTENCES]
    f0 = np.median(np.concatenate([cepstral_f0(s.pcm, s.sample_rate) for s in speeches]))
    span = sum(speech_span(s.pcm, s.sample_rate) for s in speeches)
    return f0, span, speeches


@pytest.mark.parametrize("engine", ["piper_joe", "hibari_heart"])
def test_emotions_move_pitch_and_rate_the_right_way(engine, request):
    synthesizer = request.getfixturevalue(engine)
    f0_neutral, span_neutral, _ = _measure(synthesizer, NEUTRAL)
    for label in ("joy", "anger", "fear", "surprise", "sadness"):
        f0, span, speeches = _measure(synthesizer, EmotionState.from_label(label, 1.0))
        pitch_change = f0 / f0_neutral - 1
        rate_change = span_neutral / span - 1
        if label == "sadness":
            assert pitch_change <= -0.05, (engine, label, pitch_change)
            assert rate_change <= -0.10, (engine, label, rate_change)
        else:
            assert pitch_change >= 0.08, (engine, label, pitch_change)
        for speech in speeches:  # the timeline still covers the shifted audio
            assert speech.phonemes[-1].end == pytest.approx(speech.duration, abs=0.05)
            assert speech.phonemes[0].symbol == PAUSE


@pytest.mark.parametrize("engine", ["piper_joe", "hibari_heart"])
def test_half_intensity_moves_pitch_less_than_full(engine, request):
    synthesizer = request.getfixturevalue(engine)
    f0_neutral = _measure(synthesizer, NEUTRAL)[0]
    half = _measure(synthesizer, EmotionState.from_label("joy", 0.5))[0]
    full = _measure(synthesizer, EmotionState.from_label("joy", 1.0))[0]
    assert f0_neutral < half < full


@pytest.mark.parametrize("engine", ["piper_joe", "hibari_heart"])
def test_emotional_speech_stays_intelligible(engine, request, whisper_base):
    from speech.audio import resample
    from speech.metrics import word_error_rate

    synthesizer = request.getfixturevalue(engine)
    text = SENTENCES[0]
    for label in ("sadness", "surprise"):  # the slowest/lowest and the fastest/highest renderings
        speech = synthesizer.synthesize(text, EmotionState.from_label(label, 1.0))
        heard = whisper_base.transcribe(resample(speech.pcm, speech.sample_rate, 16000), 16000).text
        assert word_error_rate(text, heard) <= 0.1, (engine, label, heard)
