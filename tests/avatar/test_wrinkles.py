"""Expression wrinkles: forehead lines with raised brows, creases on the nose bridge with AU9, only on skin."""

from __future__ import annotations

import numpy as np
import pytest

from avatar.face_field import BROWS, HAIRLINE
from avatar.skin import luminance
from avatar.wrinkles import Wrinkles
from tests.avatar.conftest import au_weights

pytestmark = pytest.mark.models  # laid along the default portrait's face-mesh landmarks


@pytest.fixture(scope="module")
def points(landmarks) -> np.ndarray:
    return np.asarray(landmarks.points[:468], np.float64)


@pytest.fixture(scope="module")
def wrinkles(portrait, points) -> Wrinkles:
    return Wrinkles(points, portrait)


def _forehead(points: np.ndarray) -> tuple[slice, slice]:
    """Rows from the hairline's middle down to the inner brows' upper edge, columns between the inner brow ends."""
    inner = points[[upper[0] for upper, _ in BROWS]]
    top = int(points[HAIRLINE[0], 1])
    bottom = int(inner[:, 1].min())
    return slice(top, bottom), slice(int(inner[:, 0].min()), int(inner[:, 0].max()) + 1)


def _nose_bridge(points: np.ndarray) -> tuple[slice, slice]:
    x, y = points[6]
    return slice(int(y) - 6, int(y) + 8), slice(int(x) - 6, int(x) + 7)


def test_a_face_without_fold_making_aus_is_left_alone(wrinkles: Wrinkles, portrait) -> None:
    assert wrinkles.apply(portrait, au_weights()) is portrait
    assert wrinkles.apply(portrait, au_weights(au4=1.0, au12=1.0)) is portrait  # frowns and smiles fold nothing here


def test_raised_inner_brows_crease_the_forehead_only(wrinkles: Wrinkles, portrait, points) -> None:
    folded = wrinkles.apply(portrait, au_weights(au1=1.0))
    rows, cols = _forehead(points)
    change = luminance(folded[rows, cols]) - luminance(portrait[rows, cols])
    assert change.min() < -8  # a visible groove (the darkest point of a line loses > 8 of 255 levels)
    assert change.mean() < 0  # grooves outweigh their highlights
    # Horizontal lines: the change varies much more down a column than along a row.
    assert np.abs(np.diff(change, axis=0)).mean() > 2 * np.abs(np.diff(change, axis=1)).mean()
    x0, y0, x1, y1 = wrinkles.box
    outside = np.ones(portrait.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(folded[outside], portrait[outside])
    nose_rows, nose_cols = _nose_bridge(points)
    assert np.array_equal(folded[nose_rows, nose_cols], portrait[nose_rows, nose_cols])


def test_a_nose_wrinkle_creases_the_bridge_not_the_forehead(wrinkles: Wrinkles, portrait, points) -> None:
    folded = wrinkles.apply(portrait, au_weights(au9=1.0))
    rows, cols = _nose_bridge(points)
    assert (luminance(folded[rows, cols]) - luminance(portrait[rows, cols])).min() < -5
    rows, cols = _forehead(points)
    assert np.array_equal(folded[rows, cols], portrait[rows, cols])


def test_folds_deepen_with_the_action_unit(wrinkles: Wrinkles, portrait, points) -> None:
    rows, cols = _forehead(points)
    base = luminance(portrait[rows, cols])
    half = (luminance(wrinkles.apply(portrait, au_weights(au1=0.5))[rows, cols]) - base).min()
    full = (luminance(wrinkles.apply(portrait, au_weights(au1=1.0))[rows, cols]) - base).min()
    assert full < half < 0


def test_no_fold_crosses_dark_rows(portrait, points) -> None:
    # A dark band across the forehead (a fringe, a glasses rim): the lines must stop at it.
    rows, cols = _forehead(points)
    dark = portrait.copy()
    band = slice(rows.start + (rows.stop - rows.start) // 3, rows.start + 2 * (rows.stop - rows.start) // 3)
    dark[band, :] = (40, 30, 25)
    folded = Wrinkles(points, dark).apply(dark, au_weights(au1=1.0, au2=1.0))
    inner = slice(band.start + 3, band.stop - 3)  # its edges are blurred into the skin mask
    assert np.array_equal(folded[inner, cols], dark[inner, cols])
