"""The brow rig: brows travel the designed way, the eye below its middle stays, and no column ever folds."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from avatar.brows import BrowRig
from avatar.expressions import AUS
from avatar.face_field import BROWS, EYES, HAIRLINE
from tests.avatar.conftest import au_weights, content_travel

pytestmark = pytest.mark.models  # the rig is built on the default portrait's face-mesh landmarks


@pytest.fixture(scope="module")
def rig(landmarks) -> BrowRig:
    return BrowRig(landmarks.points[:468], (landmarks.width, landmarks.height))


CASES = {
    "raise": au_weights(au1=1.0, au2=1.0),
    "sad": au_weights(au1=1.0),
    "lower": au_weights(au4=1.0),
    "lower+wrinkle": au_weights(au4=1.0, au9=1.0),
    "worried": au_weights(au1=1.0, au2=0.5, au4=0.3),
}


@pytest.mark.parametrize("case", CASES)
def test_no_column_folds_or_tears(rig: BrowRig, case: str) -> None:
    field = rig.dense(CASES[case])
    assert field is not None
    source_y = field[..., 1] + np.arange(field.shape[0])[:, None]
    steps = np.diff(source_y, axis=0)
    # Each column samples its source in order (no fold), and no band is squeezed or stretched past 4x.
    assert steps.min() > 0.2, steps.min()
    assert steps.max() < 4.0, steps.max()
    assert np.abs(field[..., 0]).max() == 0.0


def _pixel_travel(rig: BrowRig, field: np.ndarray, x: float, y: float) -> float:
    """How far the content at (x, y) moves vertically (+ down) under the rig's backward `field`."""
    return content_travel(rig.x0, rig.y0, field, x, y)


def test_brows_travel_the_designed_way(rig: BrowRig, landmarks) -> None:
    pts = landmarks.points
    scale = rig.scale
    inner, outer = BROWS[0][0][0], BROWS[0][0][-1]
    sad = rig.dense(CASES["sad"])
    raised = rig.dense(CASES["raise"])
    lowered = rig.dense(CASES["lower"])
    assert sad is not None and raised is not None and lowered is not None
    # AU1 lifts the inner end much more than the outer; AU1+2 lift the whole brow; AU4 lowers it.
    assert _pixel_travel(rig, sad, *pts[inner]) < -0.09 * scale
    assert _pixel_travel(rig, sad, *pts[outer]) > 0.5 * _pixel_travel(rig, sad, *pts[inner])
    assert _pixel_travel(rig, raised, *pts[outer]) < -0.09 * scale
    assert _pixel_travel(rig, lowered, *pts[inner]) > 0.09 * scale


def test_the_eye_below_its_middle_never_moves(rig: BrowRig, landmarks) -> None:
    pts = landmarks.points
    for case in CASES.values():
        field = rig.dense(case)
        assert field is not None
        for _corners, _upper, lower, _fold in EYES:
            for idx in lower:  # the lower lid and everything under it, column by column
                x, y = pts[idx]
                below = field[max(0, math.ceil(y) - rig.y0) :, round(x) - rig.x0, 1]
                assert len(below) > 0 and not below.any()


def test_raised_brows_leave_the_lashes_and_lowered_brows_narrow_the_eye(rig: BrowRig, landmarks) -> None:
    pts = landmarks.points
    lid = EYES[0][1][3]  # upper lid, middle
    raised, lowered = rig.dense(CASES["raise"]), rig.dense(CASES["lower"])
    assert raised is not None and lowered is not None
    assert abs(_pixel_travel(rig, raised, *pts[lid])) < 0.5
    # A little: anger's eyes glare under the lowered brow rather than shutting (the lid takes 0.2 of its travel).
    assert _pixel_travel(rig, lowered, *pts[lid]) > 0.01 * rig.scale


def test_rest_and_repeats_are_cheap(rig: BrowRig) -> None:
    assert rig.dense(np.zeros(len(AUS), np.float32)) is None
    first = rig.dense(CASES["raise"])
    assert rig.dense(CASES["raise"]) is first  # an emotion held over a clip reuses its field


def test_on_a_short_forehead_raised_brows_rise_less_instead_of_lifting_the_hairline(rig: BrowRig, landmarks) -> None:
    """A hat brim or a fringe just above the brows (the mesh's hairline there): AU1+2 leave at least half of the
    forehead's height between brow and hairline, so the rig never has to push the hairline up in an arc; the brows
    still rise, less than on the full forehead."""
    pts = landmarks.points[:468].copy()
    brow_top = rig._rest[2]
    for i in HAIRLINE:
        column = int(np.clip(round(float(pts[i, 0])) - rig.x0, 0, len(brow_top) - 1))
        pts[i, 1] = brow_top[column] - 0.12 * rig.scale
    short = BrowRig(pts, (landmarks.width, landmarks.height))
    travel = short.travel(CASES["raise"])
    forehead = short._rest[2] - short._rest[1]
    moved = forehead + travel[2] - travel[1]
    assert (moved >= 0.5 * forehead - 0.5).all(), (moved / forehead).min()
    inner = round(float(landmarks.points[BROWS[0][0][0], 0])) - rig.x0
    assert travel[2, inner] < -0.03 * rig.scale  # still a raised brow
    assert travel[2, inner] > 0.5 * rig.travel(CASES["raise"])[2, inner]  # ... but less than with room above it


def test_a_hairline_bending_down_the_temple_does_not_pin_the_brows_outer_end(rig: BrowRig, landmarks) -> None:
    """On a tilted head the face oval (the mesh's hairline) comes down the temple to the height of a brow's outer end;
    that end still rises (the forehead counts at least half its brow's median there)."""
    pts = landmarks.points[:468].copy()
    for (upper, _lower), temple in zip(BROWS, ((21, 54), (251, 284)), strict=True):
        pts[list(temple), 1] = pts[upper[-1], 1] - 1.0
    tilted = BrowRig(pts, (landmarks.width, landmarks.height))
    travel = tilted.travel(CASES["raise"])
    for upper, _lower in BROWS:
        outer = round(float(pts[upper[-1], 0])) - tilted.x0
        # Pinned by the oval, the outer end rose 0.04 of the eye-corner distance; it rises 0.08-0.09 now.
        assert travel[2, outer] < -0.06 * tilted.scale, travel[2, outer] / tilted.scale


def _tall_forehead(landmarks) -> np.ndarray:
    """The portrait's mesh points with the hairline raised well clear of the brows, so that the brows rise their
    full travel (a short forehead limits it, tested above) and what a test measures is the rig's handling of a rim."""
    pts = landmarks.points[:468].copy()
    pts[list(HAIRLINE), 1] -= 0.3 * float(np.linalg.norm(pts[EYES[1][0][0]] - pts[EYES[0][0][0]]))
    return pts


@pytest.fixture(scope="module")
def rimmed(portrait, landmarks) -> tuple[np.ndarray, BrowRig, BrowRig]:
    """The portrait with a dark glasses rim painted across the lid skin under the brows, a rig that sees it and
    one that does not (an even stretch)."""
    pts = _tall_forehead(landmarks)
    size = (landmarks.width, landmarks.height)
    plain = BrowRig(pts, size)
    image = portrait.copy()
    rest = plain._rest  # knot rows per column: the rim sits between the brow's lower edge and the lid crease
    for c, x in enumerate(range(plain.x0, plain.x1)):
        top = round((rest[3, c] + rest[4, c]) / 2)
        image[top : top + 4, x] = 20
    return image, BrowRig(pts, size, image), plain


def _rim_height(image: np.ndarray, rig: BrowRig, field: np.ndarray | None, x: int) -> int:
    """Dark rows (the painted rim) in column x of the rig's box, after warping by `field` (None: unwarped)."""
    box = image[rig.y0 : rig.y1, rig.x0 : rig.x1]
    if field is not None:
        ix, iy = np.meshgrid(np.arange(box.shape[1], dtype=np.float32), np.arange(box.shape[0], dtype=np.float32))
        box = cv2.remap(box, ix + field[..., 0], iy + field[..., 1], cv2.INTER_LINEAR)
    return int((box[:, x - rig.x0].mean(axis=1) < 40).sum())


def test_a_dark_rim_keeps_its_height_where_an_even_stretch_smears_it(rimmed, landmarks) -> None:
    image, rig, plain = rimmed
    raise_ = CASES["raise"]
    for upper_lid in (EYES[0][1], EYES[1][1]):
        x = round(float(landmarks.points[upper_lid[3], 0]))  # above the middle of each eye
        before = _rim_height(image, rig, None, x)
        assert before >= 4
        assert _rim_height(image, rig, rig.dense(raise_), x) <= 1.6 * before + 1
        assert _rim_height(image, plain, plain.dense(raise_), x) >= 2 * before  # what the rig prevents


@pytest.mark.parametrize("case", CASES)
def test_the_rim_aware_rig_never_folds_and_keeps_the_eye(rimmed, landmarks, case: str) -> None:
    _image, rig, _plain = rimmed
    field = rig.dense(CASES[case])
    assert field is not None
    steps = np.diff(field[..., 1] + np.arange(field.shape[0])[:, None], axis=0)
    assert steps.min() > 0.2, steps.min()
    for _corners, _upper, lower, _fold in EYES:
        for idx in lower:
            x, y = landmarks.points[idx]
            assert not field[max(0, math.ceil(y) - rig.y0) :, round(x) - rig.x0, 1].any()


def _dark_rows(box: np.ndarray, field: np.ndarray | None, column: int) -> np.ndarray:
    if field is not None:
        ix, iy = np.meshgrid(np.arange(box.shape[1], dtype=np.float32), np.arange(box.shape[0], dtype=np.float32))
        box = cv2.remap(box, ix + field[..., 0], iy + field[..., 1], cv2.INTER_LINEAR)
    return np.flatnonzero(box[:, column].mean(axis=1) < 40)


def test_with_glasses_the_rim_on_the_brow_stays_and_the_skin_above_it_moves(portrait, landmarks) -> None:
    """A rim painted over the mesh's brow band (where the mesh puts a brow behind glasses) stays within a row and
    keeps its height while the brows rise, fall or knit (the rig without `glasses` lifts it with the "brow"); a mark
    on the forehead skin above it rises with AU1+2."""
    size = (landmarks.width, landmarks.height)
    pts = _tall_forehead(landmarks)
    plain = BrowRig(pts, size)
    image = portrait.copy()
    rest, oec = plain._rest, plain.scale
    for c, x in enumerate(range(plain.x0, plain.x1)):
        image[round(rest[2, c]) : round(rest[3, c]) + 1, x] = 15  # the rim
        mark = round(rest[2, c] - 0.1 * oec)
        image[mark : mark + 2, x] = 60  # a dark line on the skin above it
    rig = BrowRig(pts, size, image, glasses=True)
    box = image[rig.y0 : rig.y1, rig.x0 : rig.x1]
    for upper_lid in (EYES[0][1], EYES[1][1]):
        column = round(float(landmarks.points[upper_lid[3], 0])) - rig.x0
        rim = _dark_rows(box, None, column)
        rim = rim[rim < rest[3, column] + 2 - rig.y0]  # the painted rim, not the eye's own dark rows below it
        mark_at = round(rest[2, column] - 0.1 * oec) - rig.y0
        for name, case in CASES.items():
            moved = _dark_rows(box, rig.dense(case), column)
            moved = moved[(moved >= rim[0] - 3) & (moved <= rim[-1] + 3)]
            assert abs(moved[0] - rim[0]) <= 1 and abs(len(moved) - len(rim)) <= 1, (name, rim, moved)
        field = rig.dense(CASES["raise"])
        assert field is not None
        ys = np.arange(box.shape[0]) + field[:, column, 1]  # where each output row samples the portrait
        assert mark_at - float(np.interp(mark_at, ys, np.arange(box.shape[0]))) >= 0.05 * oec  # the mark rose
        moved_plain = _dark_rows(box, plain.dense(CASES["raise"]), column)
        assert moved_plain[0] <= rim[0] - 0.08 * oec  # what glasses=False does: the rim goes up with the "brow"


def test_skin_that_stretches_a_lot_is_blurred_sideways_first_and_nothing_else(portrait, landmarks) -> None:
    """Stretched skin streaks (each fleck becomes a vertical line): `soften` blurs it sideways before the warp, in
    proportion to the stretch, and leaves every pixel that keeps its height as it was."""
    noisy = np.clip(portrait + np.random.default_rng(0).normal(0, 12, portrait.shape), 0, 255).astype(np.uint8)
    rig = BrowRig(landmarks.points[:468], (landmarks.width, landmarks.height), noisy)
    assert rig.soften(noisy, np.zeros(len(AUS), np.float32)) is noisy
    softened = rig.soften(noisy, CASES["raise"])
    weight = rig._soften_weight(CASES["raise"])
    assert weight is not None and (weight == 1.0).sum() > 200  # the lid skin under raised brows
    x0, y0, x1, y1 = rig.box
    before, after = noisy[y0:y1, x0:x1].astype(float), softened[y0:y1, x0:x1].astype(float)
    sideways = [np.abs(np.diff(img, axis=1)).mean(axis=2) for img in (before, after)]  # neighbour differences
    full = (weight[:, :-1] == 1.0) & (weight[:, 1:] == 1.0)
    assert sideways[1][full].mean() < 0.5 * sideways[0][full].mean()
    assert np.array_equal(after[weight == 0.0], before[weight == 0.0])
    assert np.array_equal(softened[y1:], noisy[y1:]) and np.array_equal(softened[:, :x0], noisy[:, :x0])
