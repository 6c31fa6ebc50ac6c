import pytest

from agent.perception import fuse, is_mismatch, smooth
from core.emotion import VAD, EmotionState, VoiceAffect


def _text(label: str, p: float = 0.8, intensity: float = 0.7) -> EmotionState:
    state = EmotionState.from_label(label, intensity)
    rest = (1 - p) / 6
    mixture = {k: (p if k == label else rest) for k in state.mixture}
    return EmotionState(vad=state.vad, label=label, intensity=state.intensity, mixture=mixture)


def test_without_voice_the_text_reading_stands():
    text = _text("sadness")
    fused = fuse(text, None)
    assert fused.emotion == text and not fused.mismatch
    assert fuse(text, VoiceAffect(VAD(0.9, 0.9, 0.9), confidence=0.0)).emotion == text


def test_arousal_comes_mainly_from_the_voice_valence_from_the_words():
    text = _text("joy")
    calm_voice = VoiceAffect(VAD(text.vad.valence, -0.6, text.vad.dominance), confidence=1.0)
    fused = fuse(text, calm_voice).emotion
    assert fused.vad.arousal < text.vad.arousal - 0.4  # moved most of the way
    assert fused.vad.valence == pytest.approx(text.vad.valence)  # same valence in both channels


def test_says_fine_but_sounds_sad_is_a_mismatch():
    fine = _text("neutral", intensity=0.0)
    fine = EmotionState(vad=VAD(0.2, 0.0, 0.0), label="neutral", intensity=0.2, mixture=fine.mixture)
    tired = VoiceAffect(VAD(-0.5, -0.5, -0.3), confidence=0.8, label="sadness")
    fused = fuse(fine, tired)
    assert fused.mismatch
    assert fused.to_dict()["mismatch"] is True and fused.to_dict()["voice"]["label"] == "sadness"


def test_valence_gap_alone_flags_a_mismatch_and_agreement_does_not():
    happy = _text("joy")
    assert is_mismatch(happy, VoiceAffect(VAD(-0.3, 0.2, 0.0), confidence=0.3))
    assert not is_mismatch(happy, VoiceAffect(VAD(*happy.vad.as_tuple()), confidence=0.9, label="joy"))


def test_unsure_voice_with_a_different_label_is_no_mismatch():
    happy = _text("joy")
    assert not is_mismatch(happy, VoiceAffect(VAD(0.5, 0.7, 0.0), confidence=0.3, label="surprise"))


def test_voice_affect_validates():
    with pytest.raises(ValueError, match="confidence"):
        VoiceAffect(VAD(0, 0, 0), confidence=1.5)
    with pytest.raises(ValueError, match="label"):
        VoiceAffect(VAD(0, 0, 0), confidence=0.5, label="ennui")
    assert VoiceAffect(VAD(*VAD.of("fear").as_tuple()), confidence=0.5).category == "fear"


def test_smoothing_keeps_a_sudden_change_but_damps_noise():
    joy = _text("joy")
    after_grief = smooth(smooth(smooth(None, joy), joy), _text("sadness"))
    assert after_grief.label == "sadness"  # a clear change wins the turn it is said
    assert after_grief.vad.valence > _text("sadness").vad.valence  # but the mood carries over a little
    assert abs(sum(after_grief.mixture.values()) - 1.0) < 1e-3


def test_smooth_from_nothing_is_the_observation_and_alpha_is_checked():
    state = _text("fear")
    assert smooth(None, state) == state
    with pytest.raises(ValueError):
        smooth(state, state, alpha=0.0)
