"""The inside of an open mouth: a dark cavity, upper and lower teeth and a hint of tongue, inside the inner lips.

Drawn after the warp wherever the inner lips part. Colours are muted and shaded (darker toward the corners and
the back, teeth greyer away from the front) so the mouth reads as a mouth at talking-head size rather than as a
cartoon; edges are anti-aliased and softened by one pixel to sit in the photo's own blur. The teeth take their
colour from the portrait's own eye whites (`sclera_colour`), which the photo's light and white balance have tinted
as they would have tinted teeth: a fixed white looked pasted in on a warm, old photo. Only the front teeth catch
light; toward the corners they fade into the cavity's shadow (the buccal corridor), and the lower teeth show as a
thin edge above the lower lip.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from avatar.arrays import Floats, Image
from avatar.skin import luminance

_CAVITY = np.array([58, 22, 24], np.float32)
TEETH = np.array([226, 218, 204], np.float32)  # without a portrait's eye whites to go by
_LOWER_TEETH_SHADE = 0.85  # lower teeth sit deeper in the mouth's shadow than the upper ones
_TEETH_REACH = 0.7  # teeth catch light out to this fraction of the half mouth width, then fade into the corners
_TONGUE = np.array([158, 84, 84], np.float32)
_MIN_EYE_PIXELS = 40  # fewer pixels inside both eye openings: too small to tell the whites' colour
_TINT = 0.07  # the teeth's tint stays within this of neutral per channel (warm light, not red teeth)
_DIM = 0.25  # ... and their brightness within this below TEETH (a dim photo, not grey teeth)
_COLOURFUL_SKIN = 0.15  # skin saturation (max - min over max) from which teeth keep TEETH's full warmth
_SHIFT = 4  # sub-pixel vertex positions for fillPoly
_SCALE = 1 << _SHIFT


def draw_interior(
    frame: Image, upper: Floats, lower: Floats, centre_x: float, mouth_w: float, teeth: Floats = TEETH
) -> None:
    """Composite a mouth interior into `frame` inside the polygon of the inner lips (corner to corner), in place;
    `teeth` is the RGB colour of the front teeth in full light."""
    gaps = lower[1:-1, 1] - upper[1:-1, 1]
    gap = float(gaps.max())
    if gap < 2.0:  # closed lips sit ~1 px apart; a sliver of cavity there reads as a pencil line
        _draw_seam(frame, (upper + lower) / 2)
        return
    poly = np.concatenate([upper, lower[::-1]])
    h, w = frame.shape[:2]
    x0, y0 = np.floor(poly.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(poly.max(axis=0)).astype(int) + 3
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return

    def fixed(p: Floats) -> npt.NDArray[np.int32]:
        vertices: npt.NDArray[np.int32] = np.round((p - [x0, y0]) * _SCALE).astype(np.int32)
        return vertices

    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [fixed(poly)], (255,), cv2.LINE_AA, _SHIFT)
    roi_h, roi_w = mask.shape
    mw = mouth_w
    # Cavity: dark, darker toward the back (lower middle of the opening) and the corners.
    yy = (np.arange(roi_h, dtype=np.float32)[:, None] + y0 - upper[:, 1].min()) / max(gap, 1.0)
    cx = (np.arange(roi_w, dtype=np.float32) + x0 - centre_x) / (0.5 * mw)
    corner_shade = np.clip(1.0 - 0.6 * cx * cx, 0.3, 1.0)[None, :]
    interior = np.empty((roi_h, roi_w, 3), np.float32)
    interior[:] = _CAVITY * ((1.0 - 0.5 * np.clip(yy, 0.0, 1.0)) * corner_shade)[..., None]
    # The lips shade what lies just inside them (teeth less than the cavity); without it the interior looks
    # pasted on.
    dist = cv2.distanceTransform((mask > 127).astype(np.uint8), cv2.DIST_L2, 3)
    lip_shadow = np.clip(dist / max(0.04 * mw, 1.0), 0.0, 1.0)[..., None]
    interior *= 0.6 + 0.4 * lip_shadow
    layer = np.zeros((roi_h, roi_w), np.uint8)
    # Upper teeth: a band hanging from the upper lip, greyer toward the corners and toward their lower edge.
    depth = np.minimum(0.09 * mw, 0.5 * np.maximum(lower[:, 1] - upper[:, 1], 0.0))
    teeth_poly = np.concatenate(
        [upper[2:-2], (upper[2:-2] + np.stack([np.zeros(len(depth) - 4), depth[2:-2]], 1))[::-1]]
    )
    cv2.fillPoly(layer, [fixed(teeth_poly)], (255,), cv2.LINE_AA, _SHIFT)
    shade = np.clip(1.0 - 0.45 * cx**4, 0.45, 1.0)[None, :, None]
    # Beyond the front teeth the corners of an open mouth lie in shadow: teeth fade out there.
    reach = np.clip((1.0 - np.abs(cx)) / (1.0 - _TEETH_REACH), 0.0, 1.0)[None, :, None]
    # Teeth catch light at the lip and fall into shadow toward their edges: a vertical gradient from the upper lip.
    cols = np.arange(roi_w, dtype=np.float32) + x0
    lip_y = np.interp(cols, upper[:, 0], upper[:, 1])[None, :]
    below = (np.arange(roi_h, dtype=np.float32)[:, None] + y0 - lip_y) / max(float(depth.max()), 1.0)
    vertical = (1.0 - 0.3 * np.clip(below, 0.0, 1.0))[..., None]
    a = (cv2.GaussianBlur(layer, (3, 3), 0).astype(np.float32) / 255.0)[..., None] * 0.9 * reach
    # Faint gaps between incisors and canines (central ~0.1, lateral ~0.09 mouth widths wide).
    gaps = np.ones(roi_w, np.float32)
    for edge in (0.0, 0.1, 0.19):
        for side in (1,) if edge == 0.0 else (-1, 1):
            gaps -= 0.12 * np.exp(-0.5 * ((cols - centre_x - side * edge * mw) / max(0.008 * mw, 0.5)) ** 2)
    interior = interior * (1 - a) + (teeth * shade * vertical * gaps[None, :, None] * (0.85 + 0.15 * lip_shadow)) * a
    if gap > 0.16 * mw:  # wide open: a hint of tongue and lower teeth
        layer[:] = 0
        mid = len(upper) // 2
        centre = fixed((upper[mid] + lower[mid]) / 2 + [0, 0.32 * gap])
        axes = (int(0.26 * mw * _SCALE), int(0.2 * gap * _SCALE))
        cv2.ellipse(layer, (int(centre[0]), int(centre[1])), axes, 0, 0, 360, (255,), -1, cv2.LINE_AA, _SHIFT)
        a = (layer.astype(np.float32) / 255.0)[..., None] * 0.7
        interior = interior * (1 - a) + (_TONGUE * shade) * a
        layer[:] = 0
        low = lower[3:-3]
        band = np.concatenate([low, (low - [0, 0.03 * mw])[::-1]])
        cv2.fillPoly(layer, [fixed(band)], (255,), cv2.LINE_AA, _SHIFT)
        a = (layer.astype(np.float32) / 255.0)[..., None] * 0.5 * reach
        interior = interior * (1 - a) + (teeth * _LOWER_TEETH_SHADE * shade) * a
    interior = cv2.GaussianBlur(interior, (3, 3), 0)
    alpha = (cv2.GaussianBlur(mask, (3, 3), 0).astype(np.float32) / 255.0)[..., None]
    roi = frame[y0:y1, x0:x1].astype(np.float32)
    frame[y0:y1, x0:x1] = (roi * (1 - alpha) + interior * alpha + 0.5).astype(np.uint8)


def sclera_colour(image: Image, eyes: Sequence[Floats], skin: Floats | None = None) -> Floats:
    """The colour for the teeth of `image`: TEETH's brightness, tinted and dimmed like the portrait's eye whites.

    The eye whites are the brightest quarter of the pixels inside the eye openings (`eyes`: each a closed polygon
    of lid points), leaving out the brightest few (catch-lights). Their tint (colour over grey) is kept within
    _TINT of neutral and their brightness within _DIM of TEETH, since small eyes often let lid skin or a tinted
    lens in: teeth may look warm or shaded, never red or brown. TEETH itself when there is too little to go by.

    Teeth are ivory, not grey: TEETH's own warmth stays on top of the tint in proportion to how colourful the
    photo is, judged by the `skin` colour (RGB; none given: a colour photo), and they are never darker than that
    skin. Dim grey teeth in a warm colour photo read as blue next to the skin; a black-and-white photo (grey skin)
    still gets grey teeth.
    """
    mask = np.zeros(image.shape[:2], np.uint8)
    for polygon in eyes:
        cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], (255,))
    pixels = image[mask > 0].astype(np.float32)
    if len(pixels) < _MIN_EYE_PIXELS:
        return TEETH
    lum = luminance(pixels)
    low, high = np.quantile(lum, [0.75, 0.97])
    white = pixels[(lum >= low) & (lum <= high)].mean(axis=0)
    tint = np.clip(white / max(float(white.mean()), 1.0), 1.0 - _TINT, 1.0 + _TINT)
    teeth_luma = float(luminance(TEETH))
    # Teeth in full light are at least as bright as the lit skin: eye whites behind tinted lenses or in the shade of
    # the brows would make them grey.
    lit = max(float(luminance(white)), float(luminance(skin)) if skin is not None else 0.0)
    dim = float(np.clip(lit / teeth_luma, 1.0 - _DIM, 1.0))
    warmth = (TEETH / teeth_luma) ** _colourfulness(skin)
    colour: Floats = np.clip(teeth_luma * tint * warmth * dim, 0.0, 255.0)
    return colour


def _colourfulness(skin: Floats | None) -> float:
    """0 for grey skin (a black-and-white photo), 1 for skin as saturated as in an ordinary colour photo or more."""
    if skin is None:
        return 1.0
    saturation = float(np.ptp(skin)) / max(float(np.max(skin)), 1.0)
    return float(np.clip(saturation / _COLOURFUL_SKIN, 0.0, 1.0))


def _draw_seam(frame: Image, seam: Floats) -> None:
    """A faint darker line where closed lips meet, as lips in a photo show; without it the mouth looks painted on."""
    h, w = frame.shape[:2]
    x0, y0 = np.maximum(np.floor(seam.min(axis=0)).astype(int) - 2, 0)
    x1, y1 = np.ceil(seam.max(axis=0)).astype(int) + 3
    x1, y1 = min(x1, w), min(y1, h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    pts = np.round((seam - [x0, y0]) * _SCALE).astype(np.int32)
    cv2.polylines(mask, [pts], False, (255,), 1, cv2.LINE_AA, _SHIFT)
    a = (cv2.GaussianBlur(mask, (3, 3), 0).astype(np.float32) / 255.0 * 0.35)[..., None]
    roi = frame[y0:y1, x0:x1].astype(np.float32)
    frame[y0:y1, x0:x1] = (roi * (1 - a) + roi * 0.45 * a + 0.5).astype(np.uint8)
