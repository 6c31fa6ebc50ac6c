"""The landmark readers that measure rendered frames: both find the default portrait's face and agree on it."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from avatar.landmark_readers import MESH, READERS, ReaderMissing, corner_offsets, read_ibug68
from avatar.renderer import REST_MOUTH, FaceRenderer
from core.emotion import EmotionState


@pytest.mark.parametrize("name", sorted(READERS))
def test_each_layout_names_its_points_within_the_model(name: str) -> None:
    layout = READERS[name].layout
    count = 468 if name == "mesh" else 68
    indices = [*layout.eye_corners, *layout.brows, *layout.inner_brows, *layout.mouth_corners]
    assert max([*indices, layout.upper_lip_inner, layout.lower_lip_inner]) < count
    assert set(layout.inner_brows) <= set(layout.brows)


def test_a_missing_dlib_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "dlib", None)  # import dlib now raises ImportError
    with pytest.raises(ReaderMissing, match="EMPATHICA_MEASURE=1"):
        read_ibug68([np.zeros((8, 8, 3), np.uint8)])


@pytest.mark.models
def test_both_readers_place_the_same_corners_on_the_default_portrait(portrait, landmarks) -> None:
    frame = FaceRenderer(portrait, landmarks).render_frame(REST_MOUTH, EmotionState.from_label("neutral", 0.0))
    mesh = READERS["mesh"].read([frame])[0]
    dlib = READERS["ibug68"].read([frame])[0]
    assert mesh is not None and dlib is not None
    assert dlib.shape == (68, 2)
    gap = corner_offsets(dlib, READERS["ibug68"].layout, mesh)
    assert len(gap) == 4 and gap.max() < 0.08, gap  # two independent models, within a few pixels on 512 px
    assert corner_offsets(mesh, MESH, mesh).max() == 0.0


@pytest.mark.models
def test_ibug68_finds_no_face_in_a_blank_frame() -> None:
    assert READERS["ibug68"].read([np.full((256, 256, 3), 128, np.uint8)]) == [None]
