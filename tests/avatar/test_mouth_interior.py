"""The mouth interior: teeth coloured like the portrait's eye whites, within limits."""

from __future__ import annotations

import numpy as np
import pytest

from avatar.mouth_interior import TEETH, draw_interior, sclera_colour
from avatar.skin import luminance

EYES = [
    np.array([[20, 30], [30, 24], [40, 30], [30, 36]], np.float64),
    np.array([[60, 30], [70, 24], [80, 30], [70, 36]], np.float64),
]


def _portrait(eye_colour: tuple[int, int, int]) -> np.ndarray:
    image = np.full((64, 100, 3), (180, 140, 120), np.uint8)  # skin
    for eye in EYES:
        x0, y0 = eye.min(axis=0).astype(int)
        x1, y1 = eye.max(axis=0).astype(int)
        image[y0 : y1 + 1, x0 : x1 + 1] = eye_colour
    return image


def test_teeth_take_the_tint_of_the_eye_whites() -> None:
    cool = sclera_colour(_portrait((200, 212, 235)), EYES)  # a bluish light
    warm = sclera_colour(_portrait((235, 212, 190)), EYES)
    assert cool[2] / cool[0] > TEETH[2] / TEETH[0]  # bluer than the fixed white
    assert warm[0] / warm[2] > TEETH[0] / TEETH[2]  # warmer


def test_a_black_and_white_photo_gets_grey_teeth() -> None:
    grey = sclera_colour(_portrait((215, 215, 215)), EYES, skin=np.array([150, 150, 150], np.float32))
    assert np.ptp(grey) < 1.0


def test_teeth_in_a_colour_photo_stay_ivory_and_as_bright_as_the_skin() -> None:
    """Dim grey teeth next to warm skin read as blue: with neutral eye whites the teeth keep TEETH's warmth, and
    dark eye whites do not make them darker than the skin."""
    skin = np.array([230, 165, 125], np.float32)
    ivory = sclera_colour(_portrait((215, 215, 215)), EYES, skin=skin)
    assert ivory[0] / ivory[2] == pytest.approx(TEETH[0] / TEETH[2], rel=1e-3)
    shaded = sclera_colour(_portrait((120, 110, 105)), EYES, skin=skin)  # eye whites behind tinted lenses
    assert luminance(shaded) == pytest.approx(luminance(skin), rel=0.02)  # as bright as the skin, not the lenses
    pale = sclera_colour(_portrait((215, 215, 215)), EYES, skin=np.array([200, 190, 185], np.float32))
    assert 1.0 < pale[0] / pale[2] < TEETH[0] / TEETH[2]  # a nearly grey photo: a little of the warmth


def test_red_or_dark_eyes_never_give_red_or_grey_teeth() -> None:
    red = sclera_colour(_portrait((200, 60, 60)), EYES)  # lid skin or a tinted lens, not eye whites
    assert np.all(red / TEETH <= 1.07 + 1e-6) and np.all(red / TEETH >= 0.75 * 0.93 - 1e-6)
    dark = sclera_colour(_portrait((40, 40, 40)), EYES)
    assert dark.mean() >= 0.75 * 0.93 * TEETH.mean()


def test_too_small_eyes_give_the_default_teeth() -> None:
    tiny = [np.array([[20, 30], [21, 29], [22, 30]], np.float64)] * 2
    assert np.array_equal(sclera_colour(_portrait((200, 212, 235)), tiny), TEETH)


def _open_mouth(teeth: np.ndarray) -> np.ndarray:
    frame = np.full((120, 200, 3), (180, 140, 120), np.uint8)
    # Inner-lip points crowd toward the corners, as the face mesh's do.
    t = np.linspace(0, np.pi, 11)
    xs = 100 - 60 * np.cos(t)
    upper = np.stack([xs, 50 - 6 * np.sin(t)], 1)
    lower = np.stack([xs, 50 + 30 * np.sin(t)], 1)
    draw_interior(frame, upper, lower, 100.0, 120.0, teeth)
    return frame


def test_the_front_teeth_show_the_colour_given() -> None:
    bluish = _open_mouth(np.array([180, 200, 240], np.float32))
    reddish = _open_mouth(np.array([240, 200, 180], np.float32))
    front = (slice(45, 50), slice(95, 105))  # just below the upper lip, mid-mouth
    assert bluish[front][..., 2].mean() > reddish[front][..., 2].mean() + 20
