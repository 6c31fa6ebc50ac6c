"""The listening face's soft mirror of the user (avatar.renderer.mirror_emotion): weaker, and concern for anger."""

from __future__ import annotations

import numpy as np
import pytest

from avatar.expressions import action_units
from avatar.renderer import mirror_emotion
from core.emotion import EmotionState


@pytest.mark.parametrize("label", ["joy", "sadness", "fear", "surprise"])
def test_the_mirror_is_the_same_emotion_weaker(label: str) -> None:
    user = EmotionState.from_label(label, 1.0)
    mirrored = mirror_emotion(user)
    assert mirrored.label == label and mirrored.mixture == user.mixture
    assert mirrored.intensity == pytest.approx(user.intensity / 2)
    full, soft = action_units(user), action_units(mirrored)
    assert soft.max() > 0.05  # it shows ...
    assert np.all(soft <= full + 1e-6) and soft.sum() < 0.8 * full.sum()  # ... softly


@pytest.mark.parametrize("label", ["anger", "disgust"])
def test_anger_and_disgust_are_met_with_concern(label: str) -> None:
    mirrored = mirror_emotion(EmotionState.from_label(label, 0.8))
    assert mirrored.label == "sadness"
    assert 0 < mirrored.intensity <= 0.5


def test_a_neutral_user_gets_a_neutral_face() -> None:
    mirrored = mirror_emotion(EmotionState.from_label("neutral", 0.0))
    assert not action_units(mirrored).any()
