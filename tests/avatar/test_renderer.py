"""The renderer: frame counts, a mouth that moves where the mouth is and nowhere far from it."""

from __future__ import annotations

import numpy as np
import pytest

from avatar.landmarks import LOWER_LIP_INNER, MOUTH_LEFT, MOUTH_RIGHT, UPPER_LIP_INNER
from avatar.renderer import FaceRenderer
from avatar.visemes import MouthShape
from core.emotion import EmotionState
from tests.avatar.conftest import synthetic_speech

pytestmark = pytest.mark.models

NEUTRAL = EmotionState.from_label("neutral", 0.0)


@pytest.fixture(scope="module")
def renderer(portrait, landmarks) -> FaceRenderer:
    return FaceRenderer(portrait, landmarks, fps=25)


def _mouth_box(landmarks) -> tuple[slice, slice]:
    left, right = landmarks[MOUTH_LEFT], landmarks[MOUTH_RIGHT]
    top = landmarks[UPPER_LIP_INNER][1] - 10
    bottom = landmarks[LOWER_LIP_INNER][1] + 30
    return slice(int(top), int(bottom)), slice(int(left[0]), int(right[0]))


def test_frame_count_matches_speech(renderer: FaceRenderer) -> None:
    speech = synthetic_speech()
    frames = renderer.render_speech(speech, NEUTRAL)
    assert len(frames) == round(speech.duration * 25)
    assert all(f.shape == (512, 512, 3) and f.dtype == np.uint8 for f in frames)
    assert len(renderer.idle(7, NEUTRAL)) == 7


def test_open_mouth_differs_in_the_mouth_only(renderer: FaceRenderer, landmarks) -> None:
    closed = renderer.render_frame(MouthShape(lip_closed=1.0), NEUTRAL).astype(int)
    opened = renderer.render_frame(MouthShape(jaw_open=0.85, lip_width=0.15), NEUTRAL).astype(int)
    rows, cols = _mouth_box(landmarks)
    mouth_change = np.abs(opened[rows, cols] - closed[rows, cols]).mean()
    assert mouth_change > 20, mouth_change
    # An open mouth shows a dark cavity between the lips.
    assert opened[rows, cols].mean() < closed[rows, cols].mean() - 10
    # Far from the mouth nothing moves: corners, forehead and eyes are identical.
    for region in (np.s_[:60, :60], np.s_[:60, -60:], np.s_[-40:, :40], np.s_[-40:, -40:], np.s_[100:170, 150:360]):
        assert np.array_equal(opened[region], closed[region]), region


def test_speech_frames_open_and_close(renderer: FaceRenderer, landmarks) -> None:
    speech = synthetic_speech("_ a a m a a _", step=0.2)
    frames = renderer.render_speech(speech, NEUTRAL)
    rows, cols = _mouth_box(landmarks)
    darkness = [255 - f[rows, cols].mean() for f in frames]
    at = lambda t: darkness[round(t * 25)]  # noqa: E731
    assert at(0.5) > at(0.1) + 10  # "a": open vs leading silence
    assert at(0.7) < at(0.5) - 10  # "m": lips shut again


def test_emotion_moves_the_corners(renderer: FaceRenderer) -> None:
    joy = renderer.render_frame(MouthShape(lip_closed=1.0), EmotionState.from_label("joy", 0.8))
    neutral = renderer.render_frame(MouthShape(lip_closed=1.0), NEUTRAL)
    assert not np.array_equal(joy, neutral)


def test_landmarks_must_match_the_portrait(portrait, landmarks) -> None:
    with pytest.raises(ValueError, match="detect landmarks on the portrait"):
        FaceRenderer(portrait[:256, :256].copy(), landmarks)
