"""Upper-face action units (lids, cheeks, nose; brows drawn together) as precomputed fields over the whole frame.

The brows' vertical travel is avatar.brows' column-wise map, which cannot smear the lashes into the lid skin.

Each AU moves a set of landmarks by a fixed pattern (sized by the inter-ocular distance). Its dense field is a
thin-plate spline through the landmarks' rest positions, pinned to zero at the lips, jaw and frame border; the
spline is linear in the displacements, so every AU's field is solved once at construction and a frame's field is
a weighted sum. The lips and jaw are the mouth rig's job (its own field over the lower face), and head motion is
a similarity transform added on the same coarse grid, so the renderer still remaps each frame once.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from avatar.arrays import Floats
from avatar.expressions import AU_INDEX, AUS
from avatar.landmarks import FACE_OVAL, LOWER_OUTER, UPPER_OUTER
from avatar.warp import coarse_grid, tps_fields

# Brows from inner to outer end, upper and lower edge, for the image-left and image-right brow.
BROWS = (((107, 66, 105, 63, 70), (55, 65, 52, 53, 46)), ((336, 296, 334, 293, 300), (285, 295, 282, 283, 276)))
# Eyes: corners (outer, inner), upper lid and lower lid (outer to inner), the skin fold above the lid.
EYES = (
    ((33, 133), (246, 161, 160, 159, 158, 157, 173), (7, 163, 144, 145, 153, 154, 155),
     (247, 30, 29, 27, 28, 56, 190)),
    ((263, 362), (466, 388, 387, 386, 385, 384, 398), (249, 390, 373, 374, 380, 381, 382),
     (467, 260, 259, 257, 258, 286, 414)),
)  # fmt: skip
FOREHEAD = (104, 69, 108, 151, 337, 299, 333, 9)
HAIRLINE = (10, 338, 297, 332, 284, 251, 21, 54, 103, 67, 109)  # the top of the face oval
CHEEKS = ((117, 118, 119, 100, 101, 50, 36, 205, 187, 123), (346, 347, 348, 329, 330, 280, 266, 425, 411, 352))
NOSE_SIDES = (48, 64, 98, 219, 278, 294, 327, 439, 115, 344)
GLABELLA = (168, 8, 6)
_KNIT = 0.05  # AU4 draws the inner brow ends toward the midline by this many inter-ocular distances
# Held still: the lips (the mouth rig moves them), the chin and the lower face oval.
_STILL = tuple(dict.fromkeys(UPPER_OUTER + LOWER_OUTER + (152, 175, 199, 200, 18, 1, 4, 5, 195)))


def polyline_y(points: Floats, xs: Floats) -> Floats:
    """y of a polyline through landmark `points` (any order) at columns `xs`, held flat past its ends."""
    order = np.argsort(points[:, 0])
    ys: Floats = np.interp(xs, points[order, 0], points[order, 1])
    return ys


def au_patterns(pts: Floats) -> tuple[npt.NDArray[np.int_], Floats]:
    """Landmark ids (N,) and their displacement per AU (len(AUS), N, 2) for the upper-face AUs, in pixels."""
    eyes_c = np.array([pts[list(e[1])].mean(axis=0) for e in EYES])
    iod = float(np.linalg.norm(eyes_c[1] - eyes_c[0]))
    mid_x = float(eyes_c[:, 0].mean())
    moves: dict[int, dict[int, tuple[float, float]]] = {au: {} for au in AUS}

    def add(au: int, idx: int, dx: float, dy: float) -> None:
        ox, oy = moves[au].get(idx, (0.0, 0.0))
        moves[au][idx] = (ox + dx * iod, oy + dy * iod)

    # The brows' vertical travel (AU1, AU2, AU4, AU9) is the brow rig's (avatar.brows); here AU4 only draws them
    # together, and the brows, forehead and lid fold are held by zero moves so lid and cheek AUs stay below them.
    for upper, lower in BROWS:
        for rank, (a, b) in enumerate(zip(upper, lower, strict=True)):
            t = rank / (len(upper) - 1)  # 0 at the inner end, 1 at the outer end
            toward_mid = float(np.sign(mid_x - pts[a, 0]))
            for idx in (a, b):
                add(4, idx, _KNIT * toward_mid * (1 - t), 0.0)
    for idx in FOREHEAD + GLABELLA:
        add(4, idx, 0.0, 0.0)
    for _corners, upper_lid, lower_lid, fold in EYES:
        for idx in upper_lid:
            add(5, idx, 0.0, -0.022)
            add(7, idx, 0.0, 0.012)
        for idx in fold:
            add(5, idx, 0.0, -0.02)
        for idx in lower_lid:
            add(6, idx, 0.0, -0.025)
            add(7, idx, 0.0, -0.03)
    for side in CHEEKS:
        for idx in side:
            add(6, idx, 0.0, -0.06)
            add(12, idx, 0.0, -0.02)  # a smile pushes the cheeks up even without AU6
    for idx in NOSE_SIDES:
        add(9, idx, 0.0, -0.045)
    ids = sorted({i for m in moves.values() for i in m})
    patterns = np.zeros((len(AUS), len(ids), 2))
    for au, m in moves.items():
        for col, idx in enumerate(ids):
            patterns[AU_INDEX[au], col] = m.get(idx, (0.0, 0.0))
    return np.array(ids), patterns


class FaceField:
    """Coarse whole-frame displacement fields: upper-face AUs (precomputed) and head motion, to one dense map."""

    def __init__(self, pts: Floats, size: tuple[int, int], step: int = 8) -> None:
        w, h = size
        self.size = size
        gx, gy = coarse_grid(w, h, step)
        xx, yy = np.meshgrid(gx, gy)
        self._shape = (len(gy), len(gx))
        self.grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
        ids, patterns = au_patterns(pts)
        still = [i for i in _STILL if i not in set(ids.tolist())]
        # The face outline holds still (jaw line and hairline), so brows stretch the forehead, not the hair.
        oval_low = [i for i in FACE_OVAL if i not in set(ids.tolist())]
        n_edge = 9
        ex, ey = np.linspace(0, w - 1, n_edge), np.linspace(0, h - 1, n_edge)
        border = np.concatenate(
            [
                np.stack([ex, np.zeros(n_edge)], 1),
                np.stack([ex, np.full(n_edge, h - 1.0)], 1),
                np.stack([np.zeros(n_edge - 2), ey[1:-1]], 1),
                np.stack([np.full(n_edge - 2, w - 1.0), ey[1:-1]], 1),
            ]
        )
        fixed = np.concatenate([pts[still + oval_low], border])
        centres = np.concatenate([pts[ids], fixed])
        values = np.concatenate([-patterns, np.zeros((len(AUS), len(fixed), 2))], axis=1)  # backward map
        basis = tps_fields(self.grid, centres, values, smooth=1.0)
        self._basis = basis.reshape(len(AUS), -1).astype(np.float32)  # (K, G*2)
        # The identity map is linear, so it can ride along on the coarse grid and be upsampled with the field
        # (one 2-channel resize instead of two full-frame additions). Bilinear upsampling reproduces it exactly
        # except in the outer half-cell, where cv2.resize clamps; those thin bands get a precomputed correction.
        self._coarse_ident = self.grid.astype(np.float32)
        ix, iy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        up = self._upsample(self._coarse_ident)
        # x only depends on the column and y on the row: keep the correction for the edge columns / rows.
        fix_x = ix[0] - up[0, :, 0]
        fix_y = iy[:, 0] - up[:, 0, 1]
        self._fix_cols = np.flatnonzero(np.abs(fix_x) > 1e-3)
        self._fix_rows = np.flatnonzero(np.abs(fix_y) > 1e-3)
        self._fix_x = fix_x[self._fix_cols].astype(np.float32)
        self._fix_y = fix_y[self._fix_rows].astype(np.float32)

    def coarse(self, aus: Floats) -> Floats:
        """The AUs' summed backward displacement on the coarse grid, (G, 2)."""
        return (np.asarray(aus, np.float32) @ self._basis).reshape(-1, 2)

    def dense(self, coarse: Floats) -> Floats:
        """The full-resolution backward map (H, W, 2) (x, y per pixel) from a coarse displacement (G, 2)."""
        dense = self._upsample(coarse + self._coarse_ident)
        dense[:, self._fix_cols, 0] += self._fix_x
        dense[self._fix_rows, :, 1] += self._fix_y[:, None]
        return dense

    def _upsample(self, coarse: Floats) -> Floats:
        gh, gw = self._shape
        c = np.ascontiguousarray(coarse.reshape(gh, gw, 2), dtype=np.float32)
        return np.asarray(cv2.resize(c, self.size, interpolation=cv2.INTER_LINEAR), np.float32)
