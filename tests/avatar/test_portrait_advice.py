"""Advice on a portrait: a face turned to the side or a tilted head is named, a frontal upright face is not."""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest

from avatar.portrait import load_portrait, pose_advice
from tests.sample_faces import cameraman_png

pytestmark = pytest.mark.models  # the face mesh finds the points


def test_a_frontal_upright_face_needs_no_advice(detector, portrait) -> None:
    assert pose_advice(detector.detect(portrait).points) == []


def test_tilt_is_named_in_both_directions(detector, portrait) -> None:
    for angle in (-28, 28):
        rotation = cv2.getRotationMatrix2D((256, 256), angle, 1.0)
        tilted = cv2.warpAffine(portrait, rotation, (512, 512), borderMode=cv2.BORDER_REFLECT)
        (advice,) = pose_advice(detector.detect(np.ascontiguousarray(tilted)).points)
        assert "tilted about" in advice
    slight = cv2.warpAffine(portrait, cv2.getRotationMatrix2D((256, 256), 8, 1.0), (512, 512))
    assert pose_advice(detector.detect(np.ascontiguousarray(slight)).points) == []


def test_a_configured_portrait_turned_aside_is_logged(detector, tmp_path, caplog) -> None:
    photo = tmp_path / "turned.png"
    photo.write_bytes(cameraman_png(scale=2))
    with caplog.at_level(logging.WARNING, logger="avatar.portrait"):
        image = load_portrait(photo, 256, detector)
    assert image.shape == (256, 256, 3)  # used anyway
    assert any("turned about" in r.getMessage() and "turned.png" in r.getMessage() for r in caplog.records)
