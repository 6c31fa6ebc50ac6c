"""Lip-sync and expressions measured independently: the face mesh reads the rendered frames back.

Lip-sync uses real synthesised speech (Piper, voice joe): mouth opening measured on the rendered frames must
correlate with the speech envelope (Pearson r >= 0.6) at a lag within 40 ms.
"""

from __future__ import annotations

import pytest

from avatar.metrics import lip_sync, read_faces, reading
from avatar.renderer import REST_MOUTH, FaceRenderer
from core.emotion import EmotionState

pytestmark = pytest.mark.models


def test_lip_sync_with_real_speech(portrait, landmarks) -> None:
    from core.provision import model_dir
    from speech.tts.piper import PiperSynthesizer

    tts = PiperSynthesizer(model_dir("piper-joe") / "en_US-joe-medium.onnx", threads=1)
    renderer = FaceRenderer(portrait, landmarks, fps=25, seed=1)
    neutral = EmotionState.from_label("neutral", 0.0)
    # About ten seconds of speech: long enough that Piper's random variation barely moves r.
    text = (
        "Hello, my name is Joe. What brings you here today? Please, take your time. I am really glad you told "
        "me about this. Maybe we can look at it together, step by step."
    )
    speech = tts.synthesize(text, neutral)
    frames = renderer.render_speech(speech, neutral)
    result = lip_sync(frames, speech.pcm, speech.sample_rate, renderer.fps)
    assert result.frames >= 0.95 * len(frames)
    assert result.r >= 0.6, result
    assert abs(result.lag_ms) <= 40, result


def test_expressions_move_corners_and_brows_the_expected_way(portrait, landmarks) -> None:
    renderer = FaceRenderer(portrait, landmarks)
    labels = ("neutral", "joy", "sadness", "anger", "surprise")
    frames = [
        renderer.render_frame(REST_MOUTH, EmotionState.from_label(e, 0.0 if e == "neutral" else 1.0)) for e in labels
    ]
    marks = read_faces(frames)
    assert all(m is not None for m in marks)
    read = {e: reading(m) for e, m in zip(labels, marks, strict=True)}  # type: ignore[arg-type]
    base = read["neutral"]
    corner = {e: read[e].corner_height - base.corner_height for e in labels}
    brow = {e: read[e].brow_height - base.brow_height for e in labels}
    inner = {e: read[e].inner_brow_height - base.inner_brow_height for e in labels}
    # In inter-ocular distances; 0.005 is about half a pixel at this size, above the detector's jitter.
    assert corner["joy"] > 0.01, corner
    assert corner["sadness"] < -0.01 and inner["sadness"] > 0.01, (corner, inner)
    assert brow["anger"] < -0.005, brow
    assert brow["surprise"] > 0.015, brow
