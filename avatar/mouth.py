"""The mouth rig: lips and jaw follow a mouth shape plus the mouth action units, warped over the lower face.

At construction the portrait's own lip gap (an open smile shows teeth) is closed once (`close_mouth`), so every
frame opens from shut lips and p/b/m closures are real closures. Per frame, `offsets` moves the lip, chin and jaw
landmarks and `field` turns that into a dense backward displacement over the lower-face box (thin-plate spline
centred at the destinations, which stays smooth where the lips part).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from avatar.arrays import Floats, Image
from avatar.expressions import AU_INDEX
from avatar.landmarks import (
    FACE_OVAL,
    LOWER_INNER,
    LOWER_LIP_INNER,
    LOWER_OUTER,
    MOUTH_LEFT,
    MOUTH_RIGHT,
    UPPER_INNER,
    UPPER_LIP_INNER,
    UPPER_OUTER,
)
from avatar.visemes import JAW_OPEN, LIP_CLOSED, LIP_ROUND, LIP_WIDTH
from avatar.warp import Box, GridWarper

# Lower-face mesh points that move with the jaw or are dragged by the lips (chin, jaw line, around the mouth).
FOLLOWERS = (
    18, 200, 199, 175, 152, 83, 313, 201, 421, 194, 418, 32, 262, 208, 428, 171, 396, 140, 369, 148, 377, 176, 400,
    149, 378, 150, 379, 136, 365, 57, 287, 186, 410, 92, 322, 167, 393, 165, 391, 43, 273, 106, 335, 182, 406,
)  # fmt: skip
# Points that must stay put: nose, cheeks, eyes' lower lids, jaw angles; they stop the warp creeping upward.
ANCHORS = (
    1, 2, 4, 98, 327, 64, 294, 48, 278, 50, 280, 205, 425, 207, 427, 123, 352, 116, 345, 187, 411, 147, 376, 58, 288,
    132, 361, 93, 323, 234, 454, 145, 374, 159, 386, 33, 263, 133, 362, 168, 6,
)  # fmt: skip

# Motion amplitudes as fractions of the mouth width (corner to corner).
_GAP = 0.42  # inner lip gap at jaw_open = 1 (0.5 looked like a dislocated jaw on "aa")
_UPPER_RISE = 0.06  # upper lip lifts a little as the jaw drops
_WIDTH = 0.12  # each corner out at lip_width = 1
_ROUND = 0.2  # each corner in at lip_round = 1
_PROTRUDE = 0.04  # rounded lips push out (thicker vertically)
# Corners up at AU12 = 1. 0.25 was set when the warp delivered about 60 % of it; delivered in full (_GRID_STEP) it
# drew the corners up toward the nose.
_SMILE_UP = 0.2
_FROWN_DOWN = 0.24  # corners down at AU15 = 1 (portraits usually smile: this must undo that)
_SMILE_OUT = 0.12  # a smile pulls the corners out too (zygomaticus runs up and out): a wider, thinner mouth
_STRETCH = 0.09  # AU20: corners pulled sideways
_TIGHTEN = 0.06  # AU23: corners in, lips thinner
# AU23 presses the lips into a straight line: the corners come down to the height of the lips' middle, plus this
# much. A fixed pull (0.2 mouth widths, set so the smiling astronaut's anger was no smirk) turned the anger of a
# portrait that does not smile into a deep frown, which reads as sadness.
_TIGHTEN_DOWN = 0.08
_LOWER_DEPRESS = 0.07  # AU16: lower lip pulled down
_UPPER_RAISE = 0.04  # AU9 drags the upper lip up
_AU26_JAW = 0.6  # jaw_open added by a full AU26
_CORNER_REACH = 0.7  # how far from the middle toward a corner a smile's lift reaches in full (0.85 read weaker)
# The warp's coarse grid spacing, in mouth widths. The mouth corners are sharp peaks of the motion: on a grid of a
# fixed 4 % of the image (0.18-0.23 mouth widths) the skin fell 20-60 % short of the corners' travel, more on smaller
# mouths and unevenly left and right, while the mouth interior is drawn at the full travel, so a dark slit ran past
# the lips' corners. At 0.08 (and cubic upsampling, avatar.warp) it misses by 4-22 %, alike on every portrait.
_GRID_STEP = 0.08
_CORNER_LIMIT = 0.3  # clamp on the corners' emotional vertical travel, so visemes + AUs never tear the mouth


def close_mouth(image: Image, points: Floats) -> tuple[Image, Floats]:
    """The portrait with its lips brought together (teeth hidden) and the landmarks moved to match.

    Each image column across the mouth is remapped piecewise-linearly: the band above the lip seam samples down to
    the upper lip's inner edge, the band below samples up from the lower lip's inner edge, so the gap between them
    (teeth, dark mouth) is skipped. Afterwards inner upper and lower lip points sit half a pixel either side of the
    seam, which keeps later spline centres distinct.
    """
    pts = points.astype(np.float64).copy()
    ui = pts[list(UPPER_INNER)]
    li = pts[list(LOWER_INNER)]
    width = float(np.linalg.norm(pts[MOUTH_RIGHT] - pts[MOUTH_LEFT]))
    ou, ol = np.argsort(ui[:, 0]), np.argsort(li[:, 0])
    xl = float(min(ui[:, 0].min(), li[:, 0].min()))
    xr = float(max(ui[:, 0].max(), li[:, 0].max()))

    # Landmarks sit on the lip edge give or take a pixel; skipping a little more keeps teeth out of the seam.
    margin = max(1.0, 0.02 * width)

    def curves(x: Floats) -> tuple[Floats, Floats, Floats, Floats, Floats]:
        yu = np.interp(x, ui[ou, 0], ui[ou, 1])
        yl = np.maximum(np.interp(x, li[ol, 0], li[ol, 1]), yu)
        apart = margin * np.clip((yl - yu - 0.5) / 2.0, 0.0, 1.0)  # no margin where the lips already touch
        yu, yl = yu - apart, yl + apart
        seam = (yu + yl) / 2
        return yu, yl, seam, yu - 0.35 * width, yl + 0.5 * width

    out = image.copy()
    h, w = image.shape[:2]
    if float(np.max(curves(np.linspace(xl, xr, 32))[1] - curves(np.linspace(xl, xr, 32))[0])) >= 1.0:
        c0, c1 = max(0, math.floor(xl)), min(w, math.ceil(xr) + 1)
        cols = np.arange(c0, c1, dtype=np.float64)
        yu, yl, seam, top, bottom = curves(cols)
        r0, r1 = max(0, math.floor(top.min())), min(h, math.ceil(bottom.max()) + 1)
        ys = np.arange(r0, r1, dtype=np.float64)[:, None]
        src = ys.repeat(len(cols), axis=1)
        above = (ys >= top) & (ys < seam)
        below = (ys >= seam) & (ys <= bottom)
        src_above = top + (ys - top) * (yu - top) / np.maximum(seam - top, 1e-6)
        src_below = bottom - (bottom - ys) * (bottom - yl) / np.maximum(bottom - seam, 1e-6)
        src = np.where(above, src_above, np.where(below, src_below, src))
        map_x = np.broadcast_to(cols[None, :], src.shape).astype(np.float32)
        out[r0:r1, c0:c1] = cv2.remap(
            image, map_x, src.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        # Move the landmarks the same way (forward direction of the map above).
        x = pts[:, 0]
        inside = (x >= xl) & (x <= xr)
        yu, yl, seam, top, bottom = curves(x)
        y = pts[:, 1]
        new_y = y.copy()
        up = inside & (y >= top) & (y <= yu)
        new_y[up] = (top + (y - top) * (seam - top) / np.maximum(yu - top, 1e-6))[up]
        mid = inside & (y > yu) & (y < yl)
        new_y[mid] = seam[mid]
        down = inside & (y >= yl) & (y <= bottom)
        new_y[down] = (bottom - (bottom - y) * (bottom - seam) / np.maximum(bottom - yl, 1e-6))[down]
        pts[:, 1] = new_y
    # Inner lips either side of one seam.
    inner_u, inner_l = list(UPPER_INNER[1:-1]), list(LOWER_INNER[1:-1])
    seam = (pts[inner_u, 1] + pts[inner_l, 1]) / 2
    pts[inner_u, 1] = np.minimum(pts[inner_u, 1], seam - 0.5)
    pts[inner_l, 1] = np.maximum(pts[inner_l, 1], seam + 0.5)
    return out, pts


class MouthRig:
    """Lip and jaw landmark motion for mouth shapes and mouth AUs, and its dense field over the lower face."""

    def __init__(self, pts: Floats, size: tuple[int, int]) -> None:
        w, h = size
        left, right = pts[MOUTH_LEFT], pts[MOUTH_RIGHT]
        self.mouth_w = float(np.linalg.norm(right - left))
        self.centre = (left + right) / 2
        oval = pts[list(FACE_OVAL)]
        face_half_w = float(oval[:, 0].max() - oval[:, 0].min()) / 2

        lips = list(dict.fromkeys(UPPER_INNER + LOWER_INNER + UPPER_OUTER + LOWER_OUTER))
        moving = lips + [i for i in FOLLOWERS if i not in lips]
        self.moving = np.array(moving)
        src = pts[self.moving]
        self.src = src
        mw = self.mouth_w
        u = (src[:, 0] - self.centre[0]) / (mw / 2)
        self._u = np.clip(u, -1.3, 1.3)
        self._profile = np.clip(1.0 - u * u, 0.0, 1.0)
        ids = self.moving
        corners = {UPPER_INNER[0], UPPER_INNER[-1], MOUTH_LEFT, MOUTH_RIGHT}
        is_corner = np.isin(ids, list(corners))
        self._upper = np.isin(ids, UPPER_INNER + UPPER_OUTER) & ~is_corner
        self._lower = np.isin(ids, LOWER_INNER + LOWER_OUTER) & ~is_corner
        self._upper_outer = np.isin(ids, UPPER_OUTER) & ~is_corner
        self._lower_outer = np.isin(ids, LOWER_OUTER) & ~is_corner
        self._is_lip = np.isin(ids, lips)
        self._corner = is_corner
        # Followers: the jaw carries points below the mouth; points near the lips are dragged along with them.
        lip_pts = pts[lips]
        d_lip = np.sqrt(((src[:, None, :] - lip_pts[None]) ** 2).sum(-1)).min(axis=1)
        self._drag = np.where(self._is_lip, 1.0, 0.7 * np.exp(-((d_lip / (0.3 * mw)) ** 2)))
        corner_y = float((left[1] + right[1]) / 2)
        ramp = np.clip((src[:, 1] - corner_y) / (0.3 * mw), 0.0, 1.0)
        side = (src[:, 0] - self.centre[0]) / max(face_half_w, 1.0)
        self._jaw = np.where(self._is_lip, 0.0, ramp * np.clip(1.1 - 0.9 * side * side, 0.15, 1.0))

        # The warp box: the lower face, from just under the eyes to well below the chin (the jaw drops into it).
        anchors = pts[list(ANCHORS)]
        chin_y = float(oval[:, 1].max())
        x0 = float(oval[:, 0].min()) - 0.05 * mw
        x1 = float(oval[:, 0].max()) + 0.05 * mw
        y0 = float(pts[[145, 374], 1].mean())
        y1 = chin_y + 0.9 * mw
        box = Box(max(0, int(x0)), max(0, int(y0)), min(w, math.ceil(x1)), min(h, math.ceil(y1)))
        inside = (anchors[:, 0] > box.x0) & (anchors[:, 0] < box.x1) & (anchors[:, 1] > box.y0)
        inside &= anchors[:, 1] < box.y1
        # How far the corners sit above the lips' middle at rest, across the mouth's own axis (a tilted head's mouth
        # is not a smile), in mouth widths; 0 for a mouth that does not smile.
        across = np.array([right[1] - left[1], left[0] - right[0]]) / mw  # unit, pointing up the face
        rest_smile = float(np.dot(self.centre - pts[[UPPER_LIP_INNER, LOWER_LIP_INNER]].mean(axis=0), across))
        self._rest_smile = max(0.0, rest_smile / mw)
        self.warper = GridWarper(box, anchors[inside], step=max(3, round(_GRID_STEP * mw)))
        self.upper_rows = np.array([moving.index(i) for i in UPPER_INNER])
        self.lower_rows = np.array([moving.index(i) for i in LOWER_INNER])

    def offsets(self, params: Floats, aus: Floats) -> Floats:
        """Displacements (M, 2) of the moving landmarks for mouth params (MOUTH_PARAMS) and AU weights (AUS)."""

        def au(n: int) -> float:
            return float(aus[AU_INDEX[n]])

        jaw, width, rnd, closed = (
            float(np.clip(params[i], 0.0, 1.0)) for i in (JAW_OPEN, LIP_WIDTH, LIP_ROUND, LIP_CLOSED)
        )
        # The emotional jaw drop adds to the visemes' jaw (clamped). Relaxed lips (the rest pose) yield to it, but a
        # full closure (p, b, m) still shuts the lips.
        opening = min(1.0, jaw * (1.0 - closed) + _AU26_JAW * au(26) * (1.0 - closed * closed))
        mw, u, prof = self.mouth_w, self._u, self._profile
        dx = np.zeros_like(u)
        dy = np.zeros_like(u)
        gap = _GAP * mw * opening
        shape = prof ** (0.6 - 0.35 * rnd)  # rounder mouths open more evenly along their width
        dy += np.where(self._lower, gap * shape, 0.0)
        dy -= np.where(self._upper, _UPPER_RISE * mw * opening * shape, 0.0)
        dy += np.where(self._corner, 0.1 * gap, 0.0)
        dy += self._jaw * gap
        # AU16 lowers the lower lip, AU9 lifts the upper one: both part the lips a little even when shut.
        dy += np.where(self._lower, _LOWER_DEPRESS * mw * au(16) * prof * (1.0 - closed), 0.0)
        dy -= np.where(self._upper, _UPPER_RAISE * mw * au(9) * prof * (1.0 - closed), 0.0)
        # Horizontal: stretch, rounding, AU20/AU23 and the smile act on the lips, and on nearby skin through the drag.
        spread = _WIDTH * width - _ROUND * rnd + _STRETCH * au(20) - _TIGHTEN * au(23)
        dx += spread * mw * u * self._drag
        thin = _PROTRUDE * rnd - 0.03 * au(23)
        dy -= np.where(self._upper_outer, thin * mw * prof, 0.0)
        dy += np.where(self._lower_outer, thin * mw * prof, 0.0)
        # Corners: AU12 up and out, AU15 down, AU20 slightly down, AU23 down to the lips' middle (a pressed, straight
        # mouth); clamped so speech never tears them.
        pull = _SMILE_UP * au(12) - _FROWN_DOWN * au(15) - 0.03 * au(20) - (self._rest_smile + _TIGHTEN_DOWN) * au(23)
        lift = float(np.clip(pull, -_CORNER_LIMIT, _CORNER_LIMIT))
        if lift > 0:
            # A smile lifts the lip body, not just a curl at its tip (which the face mesh read as no change at all):
            # smoothstep from the middle to _CORNER_REACH of the way to each corner, full beyond, no kink mid-lip.
            # An open mouth bends back to the corner curl, or the lower lip would rise into a crescent or a V.
            reach = np.minimum(np.abs(u) / _CORNER_REACH, 1.0)
            curl = np.minimum(np.abs(u), 1.0) ** 2
            profile = (1.0 - opening) * reach * reach * (3.0 - 2.0 * reach) + opening * curl
        else:
            # Pulled down, the corners bend the lips gently: the portrait's own smile curve must not become a zigzag.
            profile = np.minimum(np.abs(u), 1.0) ** 2
        corner_dy = lift * mw * profile * self._drag
        # Facing inner-lip points sit at slightly different x; give each pair one lift so a smile never parts
        # closed lips.
        pair = (corner_dy[self.upper_rows] + corner_dy[self.lower_rows]) / 2
        corner_dy[self.upper_rows] = pair
        corner_dy[self.lower_rows] = pair
        dy -= corner_dy
        dx += _SMILE_OUT * au(12) * mw * u * self._drag
        return np.stack([dx, dy], axis=1)

    def dense_offsets(self, offsets: Floats) -> Floats:
        """The backward displacement (H, W, 2) over the warper's box for these landmark offsets."""
        return self.warper.offset_field(self.src, offsets)

    def inner_lips(self, offsets: Floats) -> tuple[Floats, Floats]:
        """Moved inner upper and lower lip contours (corner to corner) for the interior drawing."""
        moved = self.src + offsets
        return moved[self.upper_rows], moved[self.lower_rows]
