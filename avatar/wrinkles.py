"""Expression wrinkles: the skin folds that several upper-face action units make, shaded onto the portrait.

A warp moves skin but cannot fold it, and folds are much of what people read: raised brows (AU1, AU2) crease the
forehead in horizontal lines (the grief lines of sadness, mid-forehead), and a nose wrinkle (AU9) creases the bridge
of the nose. The frown's vertical furrows (AU4) are left out on purpose: drawn between the brows, they pulled dlib's
inner brow points up (it read the default portrait's lowered brows at 4.6-4.9 % instead of 6.5 %), so they would
make a frown measure, and perhaps look, less lowered. Each fold is a dark groove with a faint highlight on its upper
side, multiplied into the portrait before the frame's warp, so the folds ride along with the skin that the brow rig
and head motion move, and so they work on any skin tone. Grooves are laid along the face mesh (forehead lines follow
the brows' arch), vary a little in depth along their length so they do not look ruled, and stay where the rest
portrait is skin-bright (not across a fringe, a glasses rim or dark brows).

Each AU's pattern is computed once per portrait over one box; a frame only scales and sums them.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from avatar.arrays import Floats, Image
from avatar.expressions import AU_INDEX
from avatar.face_field import BROWS, EYES, HAIRLINE, polyline_y
from avatar.skin import SHADOW_TINT, cheek_luminance, luminance

# Depth of each AU's groove at full strength: the fraction by which the groove's centre darkens the skin.
_DEPTH: dict[int, float] = {1: 0.14, 2: 0.1, 9: 0.1}
_HIGHLIGHT = 0.35  # a groove's highlight, as a fraction of its depth
_FOREHEAD_LINES = (0.2, 0.38, 0.56)  # where forehead lines lie, as fractions of the way from the brows to the hairline
_GROOVE = 0.011  # a groove's half-width (Gaussian sigma), in outer eye-corner distances
_MIN_FOREHEAD = 0.2  # columns where the hairline comes closer than this to the brows get no forehead lines
_SKIN = (0.55, 0.8)  # luminance relative to the cheeks: no fold below the first, full folds above the second


def _smoothstep(t: Floats) -> Floats:
    t = np.clip(t, 0.0, 1.0)
    out: Floats = t * t * (3.0 - 2.0 * t)
    return out


def _groove(offset: Floats, sigma: float) -> Floats:
    """A groove's shading across it (`offset` in pixels from its centre line, negative on the lit side): a dark
    Gaussian with a faint highlight next to it."""
    dark = np.exp(-0.5 * (offset / sigma) ** 2)
    light = np.exp(-0.5 * ((offset + 1.8 * sigma) / sigma) ** 2)
    out: Floats = -dark + _HIGHLIGHT * light
    return out


class Wrinkles:
    """Per-AU fold shading over a box of one portrait; `apply` multiplies a frame's folds into an image."""

    def __init__(self, pts: Floats, image: Image) -> None:
        """`pts` the 468 face-mesh points of `image` (RGB uint8), at rest."""
        h, w = image.shape[:2]
        pts = np.asarray(pts, np.float64)
        oec = float(np.linalg.norm(pts[EYES[1][0][0]] - pts[EYES[0][0][0]]))
        brow_pts = pts[[i for upper, _lower in BROWS for i in upper]]
        hair = pts[list(HAIRLINE)]
        nose_root = pts[6]
        x0 = max(0, math.floor(brow_pts[:, 0].min() - 0.05 * oec))
        x1 = min(w, math.ceil(brow_pts[:, 0].max() + 0.05 * oec) + 1)
        y0 = max(0, math.floor(hair[:, 1].min()))
        y1 = min(h, math.ceil(max(nose_root[1] + 0.1 * oec, brow_pts[:, 1].max())) + 1)
        self.box = (x0, y0, x1, y1)
        xs = np.arange(x0, x1, dtype=np.float64)
        ys = np.arange(y0, y1, dtype=np.float64)[:, None]
        sigma = max(_GROOVE * oec, 0.8)
        mid_x = float(pts[[upper[0] for upper, _lower in BROWS], 0].mean())
        rng = np.random.default_rng(0)  # fixed: the same portrait always gets the same folds

        def wander(period: float) -> Floats:
            """A slow variation along x (-1..1) so a groove is neither straight nor evenly deep."""
            phase = rng.uniform(0, 2 * np.pi)
            wave: Floats = np.sin(2 * np.pi * (xs - x0) / (period * oec) + phase)
            return wave

        patterns = np.zeros((len(_DEPTH), len(ys), len(xs)), np.float32)
        order = sorted(_DEPTH)

        # Forehead (AU1 centre, AU2 sides): lines between the brows' upper edge and the hairline, following both.
        brow_top = cv2.GaussianBlur(polyline_y(brow_pts, xs)[None], (0, 0), sigmaX=0.05 * oec)[0]
        hairline = polyline_y(hair, xs)
        height = brow_top - hairline
        across = np.clip(1.0 - np.abs(xs - mid_x) / (0.5 * (x1 - x0)), 0.0, 1.0)  # 1 mid, 0 at the box ends
        span = _smoothstep(across / 0.25) * _smoothstep((height / oec - _MIN_FOREHEAD) / 0.1)
        forehead = np.zeros((len(ys), len(xs)))
        for k, fraction in enumerate(_FOREHEAD_LINES):
            centre = brow_top - fraction * height + 0.012 * oec * wander(0.8)
            depth = (0.8 - 0.12 * k) * (0.75 + 0.25 * wander(0.45))
            forehead += _groove(ys - centre[None], sigma) * (depth * span)[None]
        centre_share = np.exp(-0.5 * ((xs - mid_x) / (0.3 * oec)) ** 2)
        patterns[order.index(1)] = forehead * (0.35 + 0.65 * centre_share)[None]
        patterns[order.index(2)] = forehead * (0.35 + 0.65 * (1.0 - centre_share))[None]

        # Nose bridge (AU9): short horizontal creases across the nasal root.
        bridge = np.zeros((len(ys), len(xs)))
        width = _smoothstep(1.0 - np.abs(xs - nose_root[0]) / (0.1 * oec))
        for shift, strength in ((-0.02, 1.0), (0.035, 0.7)):
            centre = nose_root[1] + shift * oec + 0.006 * oec * wander(0.3)
            bridge += _groove(ys - centre[None], 1.4 * sigma) * (strength * width)[None]
        patterns[order.index(9)] = bridge

        # Only skin folds: no grooves across hair, rims or dark brows (relative to the cheeks' brightness).
        lum = luminance(image[y0:y1, x0:x1])
        cheek = cheek_luminance(image, pts)
        skin = _smoothstep((cv2.GaussianBlur(lum, (0, 0), 1.5) / max(cheek, 1.0) - _SKIN[0]) / (_SKIN[1] - _SKIN[0]))
        depths = np.array([_DEPTH[au] for au in order], np.float32)
        self._patterns = (patterns * skin[None] * depths[:, None, None]).astype(np.float32)
        self._aus = order
        # The last result: a held expression over an unchanged source (no blink or gaze shift) is reused, as the
        # brow rig reuses its map.
        self._last: tuple[Image, bytes, Image] | None = None

    def apply(self, image: Image, aus: Floats) -> Image:
        """`image` (the rest-pose portrait, RGB uint8) with the folds of AU weights `aus`; the input itself when
        no fold-making AU is active."""
        weights = np.array([float(aus[AU_INDEX[au]]) for au in self._aus], np.float32)
        if weights.max() < 0.02:
            return image
        key = weights.tobytes()
        if self._last is not None and self._last[0] is image and self._last[1] == key:
            return self._last[2]
        x0, y0, x1, y1 = self.box
        shade = 1.0 + np.tensordot(weights, self._patterns, axes=1)
        out = image.copy()
        region = out[y0:y1, x0:x1].astype(np.float32) * (1.0 + (shade - 1.0)[..., None] * SHADOW_TINT)
        out[y0:y1, x0:x1] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
        self._last = (image, key, out)
        return out
