"""The mouth rig's warp: the skin at the mouth corners goes where the rig moves the corners, on both sides."""

from __future__ import annotations

import numpy as np
import pytest

from avatar.expressions import action_units
from avatar.landmarks import LOWER_LIP_INNER, MOUTH_LEFT, MOUTH_RIGHT, UPPER_LIP_INNER
from avatar.mouth import MouthRig
from avatar.renderer import REST_MOUTH
from core.emotion import EmotionState
from tests.avatar.conftest import au_weights


def _moved(rig: MouthRig, offsets: np.ndarray, ids: tuple[int, ...]) -> np.ndarray:
    """Where the rig's `offsets` put the mesh points `ids`: (len(ids), 2)."""
    rows = [list(rig.moving).index(i) for i in ids]
    moved: np.ndarray = rig.src[rows] + offsets[rows]
    return moved


def _sample(field: np.ndarray, x: float, y: float) -> np.ndarray:
    """The (H, W, 2) field bilinearly at (x, y) in the field's own pixel coordinates."""
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    fx, fy = x - x0, y - y0
    top = field[y0, x0] * (1 - fx) + field[y0, x0 + 1] * fx
    bottom = field[y0 + 1, x0] * (1 - fx) + field[y0 + 1, x0 + 1] * fx
    sampled: np.ndarray = top * (1 - fy) + bottom * fy
    return sampled


@pytest.mark.parametrize("label", ["joy", "sadness", "disgust"])
def test_the_skin_follows_the_mouth_corners(landmarks, portrait, label: str) -> None:
    # The interior is drawn at the rig's corners; skin that stops short leaves a dark slit running past the lips.
    # On the old grid (a fixed 4 % of the image, bilinear) the skin missed the corners by 21-61 % of their travel;
    # now by 4-22 %.
    h, w = portrait.shape[:2]
    rig = MouthRig(landmarks.points[:468].astype(np.float64), (w, h))
    offsets = rig.offsets(REST_MOUTH.as_array(), action_units(EmotionState.from_label(label, 1.0)))
    field = rig.dense_offsets(offsets)
    box = rig.warper.box
    rows = list(rig.moving)
    for corner in (MOUTH_LEFT, MOUTH_RIGHT):
        row = rows.index(corner)
        source, travel = rig.src[row], offsets[row]
        assert np.linalg.norm(travel) > 0.1 * rig.mouth_w  # the emotion moves this corner
        dest = source + travel
        # The backward field at the destination must sample the source: where the skin there comes from.
        landed = dest + _sample(field, dest[0] - box.x0, dest[1] - box.y0)
        assert np.linalg.norm(landed - source) <= 0.25 * np.linalg.norm(travel), (label, corner)


def _corner_drop(points: np.ndarray, size: tuple[int, int]) -> float:
    """How far below the lips' middle the corners sit under anger's AU23, in mouth widths (negative: above)."""
    rig = MouthRig(points, size)
    offsets = rig.offsets(REST_MOUTH.as_array(), au_weights(au23=1.0))
    corners = _moved(rig, offsets, (MOUTH_LEFT, MOUTH_RIGHT))
    middle = _moved(rig, offsets, (UPPER_LIP_INNER, LOWER_LIP_INNER))
    return float(corners[:, 1].mean() - middle[:, 1].mean()) / rig.mouth_w


def test_anger_presses_the_lips_straight_whatever_the_portraits_smile(landmarks, portrait) -> None:
    # The astronaut smiles (corners about 0.17 mouth widths above the lips' middle): pressed, her corners come
    # down to about the middle, no smirk. The same face with its corners moved down to the middle does not smile:
    # a fixed pull (0.2 mouth widths) made that a deep frown, which reads as sadness.
    h, w = portrait.shape[:2]
    smiling = landmarks.points[:468].astype(np.float64)
    assert 0.0 < _corner_drop(smiling, (w, h)) < 0.12
    straight = smiling.copy()
    middle_y = straight[[UPPER_LIP_INNER, LOWER_LIP_INNER], 1].mean()
    for corner in (MOUTH_LEFT, MOUTH_RIGHT):
        straight[corner, 1] = middle_y
    drop = _corner_drop(straight, (w, h))
    assert 0.0 < drop < 0.12
