"""Voice affect orders arousal on speech rendered at different pitch, rate and volume (real Piper speech)."""

import numpy as np
import pytest

from core.emotion import NEUTRAL, EmotionState, VoiceAffect
from speech.affect.estimator import VoiceAffectEstimator
from speech.tts.pitch_shift import shift_pitch

pytestmark = pytest.mark.models

BASELINE = (
    "I went to the market this morning to buy some bread.",
    "The weather was grey, and the streets were quiet.",
    "Later I called my sister and we talked for a while.",
    "Then I made some tea and read a book by the window.",
)
TEST = "I have been thinking about what you said yesterday."


@pytest.fixture(scope="module")
def calibrated(piper_joe):
    def make() -> VoiceAffectEstimator:
        estimator = VoiceAffectEstimator(update_baseline=False)
        for sentence in BASELINE:
            speech = piper_joe.synthesize(sentence, NEUTRAL)
            assert estimator.calibrate(speech.pcm, speech.sample_rate, sentence)
        return estimator

    return make


def _arousal(estimator: VoiceAffectEstimator, pcm: np.ndarray, rate: int, text: str | None = TEST) -> float:
    affect = estimator.estimate(pcm, rate, text)
    assert isinstance(affect, VoiceAffect)
    return affect.vad.arousal


def test_emotional_renderings_are_ordered_by_arousal(piper_joe, calibrated):
    estimator = calibrated()
    arousal = {}
    for label in ("sadness", "neutral", "joy", "anger", "surprise"):
        emotion = EmotionState.from_label(label, 0.0 if label == "neutral" else 1.0)
        speech = piper_joe.synthesize(TEST, emotion)  # pitch, range, rate and volume all change
        arousal[label] = _arousal(estimator, speech.pcm, speech.sample_rate)
    assert arousal["sadness"] < arousal["neutral"] - 0.2
    assert min(arousal["joy"], arousal["anger"], arousal["surprise"]) > arousal["neutral"] + 0.2


def test_each_cue_alone_moves_arousal_the_right_way(piper_joe, calibrated):
    estimator = calibrated()
    neutral = piper_joe.synthesize(TEST, NEUTRAL)
    rate = neutral.sample_rate
    pcm = neutral.pcm
    louder = np.clip(pcm.astype(np.int32) * 2, -32768, 32767).astype(np.int16)
    quieter = (pcm.astype(np.int32) // 3).astype(np.int16)
    # Pitch: the same words, only the pitch moved (duration kept).
    assert _arousal(estimator, shift_pitch(pcm, rate, 1.2), rate) > _arousal(
        estimator, shift_pitch(pcm, rate, 0.85), rate
    )
    # Volume: the same audio, louder and quieter.
    assert _arousal(estimator, louder, rate) > _arousal(estimator, pcm, rate) > _arousal(estimator, quieter, rate)
    # Rate: Piper's length scale only (no pitch or volume change), faster vs slower.
    fast = piper_joe._voice  # the raw voice: rate alone, without the emotion's other cues
    from piper.config import SynthesisConfig

    def at(length_scale: float) -> np.ndarray:
        config = SynthesisConfig(length_scale=length_scale, volume=0.6)
        return np.concatenate([c.audio_int16_array for c in fast.synthesize(TEST, config)])

    assert _arousal(estimator, at(0.75), rate) > _arousal(estimator, at(1.3), rate)


def test_baseline_updates_and_confidence_grows(piper_joe):
    estimator = VoiceAffectEstimator()
    confidences = []
    for sentence in BASELINE:
        speech = piper_joe.synthesize(sentence, NEUTRAL)
        confidences.append(estimator.estimate(speech.pcm, speech.sample_rate, sentence).confidence)
    assert estimator.baseline_utterances == len(BASELINE)
    assert confidences[0] < 0.5 and confidences[-1] > confidences[0]
    reading = estimator.analyse(piper_joe.synthesize(TEST, NEUTRAL).pcm, 22050, TEST)
    assert set(reading.zscores) == {"f0", "range", "energy", "rate", "tilt", "jitter"}
    assert abs(reading.affect.vad.arousal) < 0.6  # neutral speech against a neutral baseline
    assert estimator.estimate(np.zeros(22050, dtype=np.int16), 22050) is None
