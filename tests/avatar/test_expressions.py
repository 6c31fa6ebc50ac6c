"""Emotion -> action units: EMFACS prototypes, region-wise compounds, damped jaw while speaking."""

from __future__ import annotations

from avatar.expressions import AU_INDEX, action_units, face_mixture, region_shares
from core.emotion import VAD, EmotionState


def _au(weights, au: int) -> float:
    return float(weights[AU_INDEX[au]])


def test_prototypes_show_their_defining_units() -> None:
    joy = action_units(EmotionState.from_label("joy", 1.0))
    assert _au(joy, 12) > 0.8 and _au(joy, 6) > 0.5 and _au(joy, 15) < 0.01
    sad = action_units(EmotionState.from_label("sadness", 1.0))
    assert _au(sad, 1) > 0.6 and _au(sad, 15) > 0.6 and _au(sad, 12) < 0.01
    surprise = action_units(EmotionState.from_label("surprise", 1.0))
    assert min(_au(surprise, 1), _au(surprise, 2), _au(surprise, 26)) > 0.3
    anger = action_units(EmotionState.from_label("anger", 1.0))
    assert _au(anger, 4) > 0.6 and _au(anger, 23) > 0.5
    disgust = action_units(EmotionState.from_label("disgust", 1.0))
    assert _au(disgust, 9) > 0.5
    assert not action_units(EmotionState.from_label("neutral", 0.0)).any()


def test_a_trace_of_an_emotion_does_not_take_a_region_at_full_strength() -> None:
    # Strong sadness carries a little disgust in its VAD mixture: the nose must not wrinkle fully.
    sad = action_units(EmotionState.from_label("sadness", 1.0))
    assert _au(sad, 9) < 0.2


def test_intensity_scales_units() -> None:
    weak = action_units(EmotionState.from_label("joy", 0.3))
    strong = action_units(EmotionState.from_label("joy", 0.9))
    assert 0 < _au(weak, 12) < _au(strong, 12)


def test_compound_takes_regions_from_different_emotions() -> None:
    # Happy mouth with concerned brows (PC-Talk): joy owns the mouth, sadness the brows.
    mixed = EmotionState(VAD(0.1, 0.1, 0.0), "joy", 0.8, {"joy": 0.5, "sadness": 0.5})
    shares = region_shares(face_mixture(mixed))
    assert shares["mouth"]["joy"] > shares["mouth"].get("sadness", 0)
    assert shares["brows"].get("sadness", 0) > shares["brows"].get("joy", 0)
    aus = action_units(mixed)
    assert _au(aus, 12) > _au(aus, 15) and _au(aus, 1) > 0.3


def test_speaking_damps_the_emotional_jaw() -> None:
    surprise = EmotionState.from_label("surprise", 1.0)
    assert _au(action_units(surprise, speaking=True), 26) < 0.5 * _au(action_units(surprise), 26)


def test_gain_softens() -> None:
    joy = EmotionState.from_label("joy", 1.0)
    assert _au(action_units(joy, gain=0.4), 12) < 0.5 * _au(action_units(joy), 12) + 1e-6
