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


def test_same_seed_same_stream(portrait, landmarks) -> None:
    a = FaceRenderer(portrait, landmarks, seed=3)
    b = FaceRenderer(portrait, landmarks, seed=3)
    c = FaceRenderer(portrait, landmarks, seed=4)
    frames_a = a.idle(60, NEUTRAL)
    frames_b = b.idle(25, NEUTRAL) + b.idle(35, NEUTRAL)  # chunking does not change the stream
    assert all(np.array_equal(x, y) for x, y in zip(frames_a, frames_b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(frames_a, c.idle(60, NEUTRAL), strict=True))
    assert a.clock == 60


def test_idle_is_alive(renderer: FaceRenderer) -> None:
    frames = renderer.idle(50, NEUTRAL)
    diffs = [np.abs(frames[i + 1].astype(int) - frames[i]).mean() for i in range(len(frames) - 1)]
    assert max(diffs) > 0.05  # breathing and sway: never a frozen picture


def test_blink_closes_the_eyes_only(renderer: FaceRenderer, landmarks) -> None:
    from avatar.renderer import FramePose

    open_ = renderer.render_frame(MouthShape(lip_closed=1.0), NEUTRAL).astype(int)
    shut = renderer.render_frame(MouthShape(lip_closed=1.0), NEUTRAL, FramePose(blink=1.0)).astype(int)
    for upper, lower in ((159, 145), (386, 374)):
        x = int(landmarks[upper][0])
        y0, y1 = int(landmarks[upper][1]), int(landmarks[lower][1])
        assert np.abs(shut[y0:y1, x - 3 : x + 4] - open_[y0:y1, x - 3 : x + 4]).mean() > 15
    rows, cols = _mouth_box(landmarks)
    assert np.array_equal(shut[rows, cols], open_[rows, cols])


def test_gaze_moves_the_iris(renderer: FaceRenderer, landmarks) -> None:
    from avatar.renderer import FramePose

    ahead = renderer.render_frame(MouthShape(lip_closed=1.0), NEUTRAL).astype(int)
    aside = renderer.render_frame(MouthShape(lip_closed=1.0), NEUTRAL, FramePose(gaze=(0.45, 0.0))).astype(int)
    x, y = landmarks[468]
    r = 12
    box = np.s_[int(y) - r : int(y) + r, int(x) - 2 * r : int(x) + 2 * r]
    assert np.abs(aside[box] - ahead[box]).mean() > 3


def test_head_motion_moves_the_head_not_the_frame_edge(renderer: FaceRenderer, landmarks) -> None:
    from avatar.head_motion import HeadPose
    from avatar.renderer import FramePose

    still = renderer.render_frame(MouthShape(lip_closed=1.0), NEUTRAL).astype(int)
    nod = renderer.render_frame(MouthShape(lip_closed=1.0), NEUTRAL, FramePose(HeadPose(dx=3, dy=4, roll=1.5)))
    nod = nod.astype(int)
    x, y = (int(v) for v in landmarks[1])  # nose tip
    nose = np.s_[y - 20 : y + 20, x - 20 : x + 20]
    assert np.abs(nod[nose] - still[nose]).mean() > 3
    # The shoulders (bottom of the frame) stay put; the hair cut by the top edge rightly moves with the head.
    for region in (np.s_[-24:, :],):
        assert np.abs(nod[region] - still[region]).mean() < 1.0


def test_listening_mirrors_the_user_softly(renderer: FaceRenderer) -> None:
    sad_user = EmotionState.from_label("sadness", 1.0)
    a = FaceRenderer(renderer.base, _landmarks_of(renderer), seed=9)
    b = FaceRenderer(renderer.base, _landmarks_of(renderer), seed=9)
    mirrored = a.listening(10, sad_user)
    plain = b.listening(10, NEUTRAL)
    assert len(mirrored) == 10
    assert any(not np.array_equal(x, y) for x, y in zip(mirrored, plain, strict=True))
    # Anger is met with concern rather than mirrored: not the same face as the angry prototype.
    concerned = FaceRenderer(renderer.base, _landmarks_of(renderer), seed=9)
    angry = concerned.listening(1, EmotionState.from_label("anger", 1.0))
    assert angry[0].shape == plain[0].shape


def _landmarks_of(renderer: FaceRenderer):
    from avatar.landmarks import LandmarkDetector

    return LandmarkDetector().detect(renderer.base)


def test_speech_chunks_are_render_speechs_frames(portrait, landmarks) -> None:
    # Two faces on the same seed: one renders the sentence whole, the other chunk by chunk; the motion is planned
    # for the whole sentence either way, so the frames (lip-sync, nods, blinks) are the same.
    speech = synthetic_speech("_ a a m a a o o _", step=0.15)
    whole = FaceRenderer(portrait, landmarks, fps=25, seed=3).render_speech(speech, NEUTRAL)
    chunked_face = FaceRenderer(portrait, landmarks, fps=25, seed=3)
    chunks = [list(c) for c in chunked_face.speech_chunks(speech, NEUTRAL, 4)]
    assert [len(c) for c in chunks[:-1]] == [4] * (len(chunks) - 1) and 1 <= len(chunks[-1]) <= 4
    frames = [f for c in chunks for f in c]
    assert len(frames) == len(whole) == round(speech.duration * 25)
    assert all(np.array_equal(a, b) for a, b in zip(frames, whole, strict=True))
    assert chunked_face.clock == len(whole), "the clock moves on once, by the whole sentence"


def test_speech_chunks_plan_at_the_call(renderer: FaceRenderer) -> None:
    before = renderer.clock
    chunks = renderer.speech_chunks(synthetic_speech(), NEUTRAL, 5)
    planned = renderer.clock - before
    assert planned == round(synthetic_speech().duration * 25), "the clock moved on before any frame is drawn"
    assert len(next(iter(chunks))) == 5
    with pytest.raises(ValueError, match="chunk_frames"):
        renderer.speech_chunks(synthetic_speech(), NEUTRAL, 0)
