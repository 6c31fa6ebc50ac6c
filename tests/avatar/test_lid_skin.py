"""Lid skin uncovered by a raised brow where the photo has none between brow and lashes (avatar.lid_skin, used by
avatar.brows): the brow still rises, and the band it uncovers shows skin, not a stretched dark smear."""

from __future__ import annotations

import numpy as np
import pytest

from avatar.brows import BrowRig
from avatar.expressions import AUS
from avatar.face_field import BROWS, EYES, HAIRLINE
from avatar.skin import luminance
from tests.avatar.conftest import au_weights, content_travel

pytestmark = pytest.mark.models  # built on the default portrait's face-mesh landmarks

_DARK = (45, 32, 26)  # brow hair and the shadow of a deep-set eye


RAISE = au_weights(au1=1.0, au2=1.0)


@pytest.fixture(scope="module")
def low_brows(portrait, landmarks) -> tuple[np.ndarray, np.ndarray, BrowRig]:
    """The default portrait with its brows painted thick and dark from their upper edge down to the lashes (a low
    brow over a deep-set eye: no skin in between), its mesh points with the hairline well clear of the brows, and a
    rig that sees the painted photo."""
    pts = landmarks.points[:468].copy()
    scale = float(np.linalg.norm(pts[EYES[1][0][0]] - pts[EYES[0][0][0]]))
    pts[list(HAIRLINE), 1] -= 0.3 * scale
    size = (landmarks.width, landmarks.height)
    plain = BrowRig(pts, size)
    rest = plain._rest
    image = portrait.copy()
    xs = [float(pts[i, 0]) for i in (BROWS[0][0][0], BROWS[0][0][-1], BROWS[1][0][0], BROWS[1][0][-1])]
    for c, x in enumerate(range(plain.x0, plain.x1)):
        if min(xs[:2]) <= x <= max(xs[:2]) or min(xs[2:]) <= x <= max(xs[2:]):
            image[round(rest[2, c]) : round(rest[5, c]) + 1, x] = _DARK
    return image, pts, BrowRig(pts, size, image)


def test_a_brow_resting_on_the_lashes_still_rises(low_brows, landmarks) -> None:
    """Without skin to stretch under it, the brow used to stay almost where it was
    (under a pixel here, against 0.09 of the eye-corner distance now); the uncovered band takes the stretch."""
    _image, pts, rig = low_brows
    field = rig.dense(RAISE)
    assert field is not None
    for upper, _lower in BROWS:
        x = round(float(pts[upper[2], 0]))  # the middle of each brow
        col = x - rig.x0
        assert content_travel(rig.x0, rig.y0, field, x, float(rig._rest[2, col])) < -0.09 * rig.scale


def test_the_uncovered_band_shows_skin_only_while_the_brow_is_raised(low_brows) -> None:
    image, _pts, rig = low_brows
    assert rig.uncover(image, np.zeros(len(AUS), np.float32)) is image  # at rest the photo is its own
    assert rig.uncover(image, au_weights(au4=1.0)) is image  # a lowered brow uncovers nothing
    raised = rig.uncover(image, RAISE)
    changed = np.any(raised != image, axis=2)
    assert changed.sum() > 100
    ys, xs = np.nonzero(changed)
    assert ys.min() >= rig.y0 and ys.max() < rig.y1 and xs.min() >= rig.x0 and xs.max() < rig.x1
    # Skin-coloured: much brighter than the dark band it covers, no brighter than the skin just above the brows
    # (the uncovered lid lies in the brow's shadow).
    lum = luminance(raised)[changed]
    above = [
        luminance(image[round(rig._rest[2, c] - 0.06 * rig.scale) : round(rig._rest[2, c]) - 1, rig.x0 + c])
        for c in np.unique(xs - rig.x0)
    ]
    assert np.median(lum) > 2.0 * float(luminance(np.array(_DARK, np.uint8)))
    assert np.median(lum) <= float(np.median(np.concatenate(above)))
    # Drawn once per expression: held frames reuse it.
    assert rig.uncover(image, RAISE) is raised


def test_no_lid_is_painted_where_the_photo_has_one_or_behind_glasses(low_brows, portrait, landmarks) -> None:
    image, pts, _rig = low_brows
    size = (landmarks.width, landmarks.height)
    light = BrowRig(landmarks.points[:468], size, portrait)  # the default portrait: lid skin under light brows
    assert light.uncover(portrait, RAISE) is portrait
    rimmed = BrowRig(pts, size, image, glasses=True)  # behind glasses the dark band is a rim, and it stays
    assert rimmed.uncover(image, RAISE) is image


def test_a_shadow_hanging_from_the_brow_is_uncovered_and_a_rim_below_skin_is_not(portrait, landmarks) -> None:
    """Shadow dark from the brow's lower edge most of the way to the lid crease (skin only near the lashes) is lid
    the brow hid; a dark rim with skin between it and the brow is a glasses rim, which must keep its height."""
    pts = landmarks.points[:468]
    size = (landmarks.width, landmarks.height)
    plain = BrowRig(pts, size)
    rest = plain._rest
    shadow, rim = portrait.copy(), portrait.copy()
    for c, x in enumerate(range(plain.x0, plain.x1)):
        top, crease = rest[3, c], rest[4, c]
        shadow[round(rest[2, c]) : round(top + 0.7 * (crease - top)) + 1, x] = _DARK
        rim[round(top + 0.5 * (crease - top)) : round(crease) + 3, x] = _DARK
    assert BrowRig(pts, size, shadow).uncover(shadow, RAISE) is not shadow
    assert BrowRig(pts, size, rim).uncover(rim, RAISE) is rim
