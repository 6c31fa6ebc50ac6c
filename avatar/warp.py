"""Dense image warps from sparse landmark motion: thin-plate splines on a coarse grid, upsampled, one remap.

The field is solved *backward* (for each output pixel, where to sample the source), with the spline's centres at
the landmarks' destinations. That keeps it smooth even where the lips part: the opening is a stretch of the
backward map, whereas a forward map would have to invert a near-singular fold.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from avatar.arrays import Floats, Image


def _squared_distances(a: Floats, b: Floats) -> Floats:
    """(len(a), len(b)) squared distances between 2-D points, without the (A, B, 2) difference array (per frame)."""
    dx = np.subtract.outer(a[:, 0], b[:, 0])
    dy = np.subtract.outer(a[:, 1], b[:, 1])
    d2: Floats = dx * dx + dy * dy
    return d2


def _tps_kernel(d2: Floats) -> Floats:
    """Thin-plate kernel r^2 log r, written on squared distances (0.5 * d2 * log d2), 0 at the centre."""
    kernel: Floats = 0.5 * d2 * np.log(np.maximum(d2, 1e-9))
    return kernel


@dataclass(frozen=True)
class Box:
    """A pixel rectangle [x0, x1) x [y0, y1)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


class GridWarper:
    """Warps a fixed box of an image by landmark displacements.

    Construction fixes the box, the coarse grid and the still anchors (the box border plus any given points); each
    call to `warp` solves a small thin-plate system for the moving points and remaps the box once.
    """

    def __init__(self, box: Box, anchors: Floats, step: int = 8, feather: float = 0.12, smooth: float = 0.5):
        self.box = box
        gw = max(4, int(np.ceil(box.width / step)) + 1)
        gh = max(4, int(np.ceil(box.height / step)) + 1)
        # Sample where cv2.resize (half-pixel centres) puts each coarse cell, so upsampling needs no shift.
        gx = (np.arange(gw) + 0.5) * box.width / gw - 0.5 + box.x0
        gy = (np.arange(gh) + 0.5) * box.height / gh - 0.5 + box.y0
        xx, yy = np.meshgrid(gx, gy)
        self._grid_shape = (gh, gw)
        self._grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
        # Border anchors hold the box edge still; with the feather below the warp meets the untouched image smoothly.
        n_edge = 6
        ex = np.linspace(box.x0, box.x1 - 1, n_edge)
        ey = np.linspace(box.y0, box.y1 - 1, n_edge)
        border = np.concatenate(
            [
                np.stack([ex, np.full(n_edge, box.y0)], 1),
                np.stack([ex, np.full(n_edge, box.y1 - 1)], 1),
                np.stack([np.full(n_edge - 2, box.x0), ey[1:-1]], 1),
                np.stack([np.full(n_edge - 2, box.x1 - 1), ey[1:-1]], 1),
            ]
        )
        self._anchors = np.concatenate([np.asarray(anchors, np.float64).reshape(-1, 2), border])
        self._anchor_kernel = _tps_kernel(_squared_distances(self._grid, self._anchors))
        self._smooth = smooth
        # Feather window: 1 inside, easing to 0 at the box edge, so the warp never shows a seam.
        fx = np.clip(np.minimum(gx - box.x0, box.x1 - 1 - gx) / max(1.0, feather * box.width), 0, 1)
        fy = np.clip(np.minimum(gy - box.y0, box.y1 - 1 - gy) / max(1.0, feather * box.height), 0, 1)
        fx, fy = fx * fx * (3 - 2 * fx), fy * fy * (3 - 2 * fy)
        self._window = np.outer(fy, fx).astype(np.float32)
        ix, iy = np.meshgrid(np.arange(box.x0, box.x1, dtype=np.float32), np.arange(box.y0, box.y1, dtype=np.float32))
        self._ident_x, self._ident_y = ix, iy

    def offset_field(self, sources: Floats, offsets: Floats) -> Floats:
        """The backward displacement (H, W, 2) over the box for points moving from `sources` by `offsets`."""
        dest = np.asarray(sources, np.float64) + offsets
        centres = np.concatenate([dest, self._anchors])
        values = np.concatenate([-np.asarray(offsets, np.float64), np.zeros((len(self._anchors), 2))])
        n = len(centres)
        k = _tps_kernel(_squared_distances(centres, centres))
        k[np.diag_indices(n)] += self._smooth  # a little smoothing keeps near-coincident centres well posed
        p = np.concatenate([np.ones((n, 1)), centres], axis=1)
        system = np.zeros((n + 3, n + 3))
        system[:n, :n], system[:n, n:], system[n:, :n] = k, p, p.T
        rhs = np.concatenate([values, np.zeros((3, 2))])
        sol = np.linalg.solve(system, rhs)
        m = len(dest)
        kg_moving = _tps_kernel(_squared_distances(self._grid, dest))
        coarse = kg_moving @ sol[:m] + self._anchor_kernel @ sol[m:n]
        coarse += sol[n] + self._grid @ sol[n + 1 :]
        gh, gw = self._grid_shape
        c = coarse.reshape(gh, gw, 2).astype(np.float32) * self._window[..., None]
        # Cubic, not linear: the field peaks sharply at the mouth corners, and linear upsampling flattens the peak.
        dense: Floats = cv2.resize(c, (self.box.width, self.box.height), interpolation=cv2.INTER_CUBIC)
        return dense

    def field(self, sources: Floats, offsets: Floats) -> tuple[Floats, Floats]:
        """The backward map (map_x, map_y) over the box for points moving from `sources` by `offsets`."""
        d = self.offset_field(sources, offsets)
        return d[..., 0] + self._ident_x, d[..., 1] + self._ident_y

    def warp(self, source: Image, sources: Floats, offsets: Floats, out: Image) -> None:
        """Write into `out`'s box the box of `source` warped so `sources` move by `offsets`; rest of `out` kept."""
        map_x, map_y = self.field(sources, offsets)
        b = self.box
        out[b.y0 : b.y1, b.x0 : b.x1] = cv2.remap(
            source, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )


def coarse_grid(width: int, height: int, step: int) -> tuple[Floats, Floats]:
    """Coarse sample positions (gx, gy) over a whole image, placed where cv2.resize puts each cell's centre."""
    gw, gh = max(4, round(width / step)), max(4, round(height / step))
    gx = (np.arange(gw) + 0.5) * width / gw - 0.5
    gy = (np.arange(gh) + 0.5) * height / gh - 0.5
    return gx, gy


def tps_fields(grid: Floats, centres: Floats, values: Floats, smooth: float = 0.5) -> Floats:
    """Thin-plate interpolants through fixed `centres` (N, 2) for several value sets at once.

    `values` is (K, N, 2): K displacement patterns at the centres. Returns (K, G, 2) evaluated at `grid` (G, 2).
    The centres never move, so the system is solved once for all K patterns (used for precomputed AU bases).
    """
    c = np.asarray(centres, np.float64)
    n = len(c)
    k = _tps_kernel(_squared_distances(c, c))
    k[np.diag_indices(n)] += smooth
    p = np.concatenate([np.ones((n, 1)), c], axis=1)
    system = np.zeros((n + 3, n + 3))
    system[:n, :n], system[:n, n:], system[n:, :n] = k, p, p.T
    kk = values.shape[0]
    rhs = np.zeros((n + 3, kk * 2))
    rhs[:n] = np.transpose(values, (1, 0, 2)).reshape(n, kk * 2)
    sol = np.linalg.solve(system, rhs)
    g = np.asarray(grid, np.float64)
    kg = _tps_kernel(_squared_distances(g, c))
    out = kg @ sol[:n] + sol[n] + g @ sol[n + 1 :]
    return np.transpose(out.reshape(len(g), kk, 2), (1, 0, 2))
