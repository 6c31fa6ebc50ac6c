"""Skin brightness and colour of a portrait: what tells skin (which may stretch or fold) from hair, brows and glasses
rims, and how colourful the photo is."""

from __future__ import annotations

import numpy as np

from avatar.arrays import Floats, Image

# A shadow on skin stays warm (light scattered under the skin comes back red), so red darkens least: a shade of
# 1 - d darkens each channel by d times these.
SHADOW_TINT = np.array([0.8, 1.0, 1.15], np.float32)
CHEEK_REFERENCE = (117, 118, 119, 346, 347, 348)  # face-mesh points on the skin below the eyes: the reference


def luminance(rgb: Image | Floats) -> Floats:
    """Rec. 601 luma of RGB values, 0-255 (any leading shape; uint8 pixels or float colours), float32."""
    lum: Floats = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return lum


def _cheek_pixels(image: Image, pts: Floats) -> Image:
    h, w = image.shape[:2]
    cheeks = np.round(np.asarray(pts)[list(CHEEK_REFERENCE)]).astype(np.int64)
    pixels: Image = image[np.clip(cheeks[:, 1], 0, h - 1), np.clip(cheeks[:, 0], 0, w - 1)]
    return pixels


def cheek_luminance(image: Image, pts: Floats) -> float:
    """The median luma of the cheeks below the eyes (face-mesh points `pts` of the RGB `image`)."""
    return float(np.median(luminance(_cheek_pixels(image, pts))))


def cheek_colour(image: Image, pts: Floats) -> Floats:
    """The median RGB colour (float32) of the cheeks below the eyes (face-mesh points `pts` of the RGB `image`)."""
    colour: Floats = np.median(_cheek_pixels(image, pts).astype(np.float32), axis=0)
    return colour
