"""Landmark positions on the default portrait (a wrong mediapipe route misplaces them)."""

from __future__ import annotations

import numpy as np
import pytest

from avatar.landmarks import (
    CHIN,
    FACE_OVAL,
    LOWER_LIP_BOTTOM,
    LOWER_LIP_INNER,
    MOUTH_LEFT,
    MOUTH_RIGHT,
    NOSE_TIP,
    UPPER_LIP_INNER,
    UPPER_LIP_TOP,
    LandmarkDetector,
    NoFaceError,
)
from avatar.portrait import PortraitError, default_portrait, load_portrait

pytestmark = pytest.mark.models


def test_landmarks_sit_on_the_astronauts_face(detector: LandmarkDetector) -> None:
    # In the raw 512x512 astronaut image the face spans roughly x 180-270, y 70-178 (looked up by eye).
    marks = detector.detect(default_portrait())
    assert len(marks) == 478
    nose, chin = marks[NOSE_TIP], marks[CHIN]
    assert 205 < nose[0] < 240 and 115 < nose[1] < 145
    assert 200 < chin[0] < 245 and 165 < chin[1] < 190
    for idx in (UPPER_LIP_TOP, UPPER_LIP_INNER, LOWER_LIP_INNER, LOWER_LIP_BOTTOM):
        x, y = marks[idx]
        assert 205 < x < 240 and 135 < y < 160, idx


def test_landmarks_on_the_cropped_portrait_are_ordered_and_inside_the_face(portrait, landmarks) -> None:
    assert portrait.shape == (512, 512, 3) and portrait.dtype == np.uint8
    assert (landmarks.width, landmarks.height) == (512, 512)
    ys = [landmarks[i][1] for i in (NOSE_TIP, UPPER_LIP_TOP, UPPER_LIP_INNER, LOWER_LIP_INNER, LOWER_LIP_BOTTOM, CHIN)]
    assert ys == sorted(ys), f"nose, lips and chin out of vertical order: {ys}"
    oval = landmarks.points[list(FACE_OVAL)]
    (x0, y0), (x1, y1) = oval.min(axis=0), oval.max(axis=0)
    # The crop centres the face and makes it about half the frame.
    assert 0.35 * 512 < (x1 - x0) < 0.65 * 512 and 0.4 * 512 < (y1 - y0) < 0.7 * 512
    assert abs((x0 + x1) / 2 - 256) < 40
    for idx in (NOSE_TIP, UPPER_LIP_TOP, LOWER_LIP_BOTTOM, MOUTH_LEFT, MOUTH_RIGHT):
        x, y = landmarks[idx]
        assert x0 < x < x1 and y0 < y < y1, idx
    left, right, nose = landmarks[MOUTH_LEFT], landmarks[MOUTH_RIGHT], landmarks[NOSE_TIP]
    assert left[0] < nose[0] < right[0]
    assert abs(landmarks[NOSE_TIP][0] - landmarks[CHIN][0]) < 0.1 * (x1 - x0)  # frontal face


def test_no_face_raises(detector: LandmarkDetector) -> None:
    rng = np.random.default_rng(0)
    blank = np.full((256, 256, 3), 200, np.uint8)
    blank[64:192, 64:192] = rng.integers(0, 255, (128, 128, 3), dtype=np.uint8)
    with pytest.raises(NoFaceError, match="no face"):
        detector.detect(blank)


def test_results_are_cached(detector: LandmarkDetector, portrait) -> None:
    assert detector.detect(portrait) is detector.detect(portrait.copy())


def test_portrait_from_file_and_bad_files(tmp_path, detector: LandmarkDetector) -> None:
    import cv2

    path = tmp_path / "face.png"
    cv2.imwrite(str(path), cv2.cvtColor(default_portrait(), cv2.COLOR_RGB2BGR))
    assert load_portrait(path, 256, detector).shape == (256, 256, 3)
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    with pytest.raises(PortraitError, match="cannot read"):
        load_portrait(text, 256, detector)
    with pytest.raises(PortraitError, match="does not exist"):
        load_portrait(tmp_path / "missing.png", 256, detector)


def test_disk_cache_is_reused(tmp_path, portrait) -> None:
    first = LandmarkDetector(cache_dir=tmp_path).detect(portrait)
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 1
    # A fresh detector (e.g. the next start) reads the file instead of running the model.
    again = LandmarkDetector(cache_dir=tmp_path)
    again._run = None  # type: ignore[assignment]  # would fail if called
    assert np.allclose(again.detect(portrait).points, first.points)


def test_several_faces_warn_and_take_the_largest(detector: LandmarkDetector, caplog) -> None:
    import cv2

    face = default_portrait()[0:300, 100:400]
    canvas = np.full((320, 560, 3), 230, np.uint8)
    canvas[10:270, 10:270] = cv2.resize(face, (260, 260))  # the bigger face, on the left
    canvas[40:240, 300:500] = cv2.resize(face, (200, 200))
    with caplog.at_level("WARNING"):
        marks = detector.detect(canvas)
    assert "faces" in caplog.text
    assert marks.points[:, 0].mean() < 280  # the big face on the left
