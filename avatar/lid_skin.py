"""Lid skin that a raised brow uncovers where the photo shows none: the brow sits right on the lashes.

Over a deep-set eye, under a low or thick brow, or in the shadow of a top light, the photo has little or no skin
between the brow and the lashes, only dark hair and shadow. The brow rig (avatar.brows) stretches skin, not dark
rows (a stretched brow or glasses rim becomes a thick bar), so in such columns a raised brow barely moved: the face
mesh read a surprised brow on such a portrait at +1 % of the eye-corner distance, against +7 % on a light, open one.
Where the band was shadow with some skin in it, stretching it drew a thick, smeared brow instead.

Raising a real brow there unfolds the lid skin that the brow hid. This module finds those columns (under the brow,
down to the lid crease, mostly dark, and dark right from the brow down), lets that band stretch like skin, and
paints it, before the warp, with the skin just above the brow mirrored down and shaded, in proportion to how far it
will stretch. At rest nothing is painted, so the neutral face is the photo's own.
"""

from __future__ import annotations

import cv2
import numpy as np

from avatar.arrays import Bools, Floats, Image
from avatar.skin import SHADOW_TINT

_NO_SKIN = 0.5  # ease (avatar.brows) below this is not skin that can stretch
_FROM_BROW = 0.012  # the rows this far under the brow's lower edge (outer eye-corner distances) must be dark too
_SAMPLE = 0.06  # the skin colour is taken from this far above the brow (outer eye-corner distances)
_SHADE = (0.85, 0.7)  # the uncovered lid is in the brow's shadow: its colour times these, top to bottom of the band
_FULL_AT = 1.0  # the band is fully painted once it stretches by this fraction of its height
_EDGE = 0.35  # the band's paint fades in over this share of its height at the top and out at the bottom
_SMOOTH = 0.04  # colours and coverage are smoothed across columns over this width (outer eye-corner distances)


class LidSkin:
    """The columns of a brow rig's box that have no skin under the brow, and the lid skin to paint there.

    `patch` is the box of the portrait (RGB uint8), `ease` how freely each of its pixels stretches (avatar.brows),
    `rest` the box's knot rows per column (avatar.brows.BrowRig: box top, hairline, brow upper and lower edge, lid
    crease, lashes, eye middle) in box coordinates, `scale` the outer eye-corner distance in pixels, `along` the
    columns that lie along a brow (past its ends the box holds temples and side hair, which have no lid to show).
    """

    def __init__(self, patch: Image, ease: Floats, rest: Floats, scale: float, along: Bools) -> None:
        rows = np.arange(ease.shape[0], dtype=np.float64)[:, None]
        # Under the brow (from its lower edge to the lid crease) the photo is mostly dark, and dark right from the
        # brow down: brow hair and shadow. A glasses rim across lid skin has skin between it and the brow, and stays.
        band = (rows >= rest[3][None]) & (rows < rest[4][None])
        mean = np.where(band, ease, 0.0).sum(axis=0) / np.maximum(band.sum(axis=0), 1)
        first = (rows >= np.floor(rest[3])[None]) & (rows <= (rest[3] + _FROM_BROW * scale)[None])
        from_brow = np.where(first, ease, 0.0).max(axis=0)
        above = (rows < rest[2][None]) & (rows >= (rest[2] - _SAMPLE * scale)[None])  # just above the brow
        forehead = np.where(above, ease, 0.0).max(axis=0)  # skin above the brow: a face, not hair
        self.columns: Bools = along & (mean < _NO_SKIN) & (from_brow < _NO_SKIN) & (forehead > 0.9)
        self.columns &= rest[4] - rest[3] >= 2.0
        # The band that uncovers: from the brow's lower edge to the lid crease (avatar.brows' knots 3 and 4).
        rows_in_band = (rows >= np.floor(rest[3])[None]) & (rows < np.ceil(rest[4])[None])
        self.band: Bools = rows_in_band & self.columns[None]
        self._top = rest[3]
        self._height = np.maximum(rest[4] - rest[3], 1.0)
        self._sigma = max(1.0, _SMOOTH * scale)
        depth = np.clip((rows + 0.5 - self._top[None]) / self._height[None], 0.0, 1.0)  # brow 0, crease 1
        # The brow's lower edge fades into the lid (its hairs thin out), and the lid into the socket's shadow. Fixed
        # per portrait, so a frame only scales it by how far each column stretches.
        fade = np.clip(depth / _EDGE, 0.0, 1.0) * np.clip((1.0 - depth) / _EDGE + 0.4, 0.0, 1.0)
        self._profile = (rows_in_band * fade).astype(np.float32)
        self._lid = self._lid_image(patch, ease, rest, above, depth)

    def _lid_image(self, patch: Image, ease: Floats, rest: Floats, above: Bools, depth: Floats) -> Floats:
        """What the uncovered band shows (rows, columns, 3), float: the skin just above the brow (`above`) mirrored
        down into the band (the lid's texture and colour are the forehead's), shaded as the brow's shadow deepens
        toward the crease (`depth`: 0 at the brow, 1 at the crease); where a mirrored pixel is not skin, the median
        colour of the skin just above the column's brow."""
        n_rows, n_cols = ease.shape
        rows = np.arange(n_rows)[:, None]
        top = np.floor(rest[3]).astype(np.int64)[None]
        mirror = np.clip(np.floor(rest[2]).astype(np.int64)[None] - 1 - (rows - top), 0, n_rows - 1)
        cols = np.broadcast_to(np.arange(n_cols)[None], mirror.shape)
        skin = ease[mirror, cols] > 0.9
        near_brow = above & (ease > 0.9)
        any_skin = ease > 0.9
        fallback = np.median(patch[any_skin], axis=0) if any_skin.any() else patch.reshape(-1, 3).mean(axis=0)
        colours = np.array(
            [np.median(patch[near_brow[:, c], c], axis=0) if near_brow[:, c].any() else fallback for c in range(n_cols)]
        ).astype(np.float32)
        colours = cv2.GaussianBlur(colours[None], (0, 0), sigmaX=self._sigma, sigmaY=0.0)[0]
        lid = np.where(skin[..., None], patch[mirror, cols].astype(np.float32), colours[None])
        shade = _SHADE[0] + (_SHADE[1] - _SHADE[0]) * depth
        shaded: Floats = lid * (1.0 + (shade - 1.0)[..., None] * SHADOW_TINT)
        return shaded

    @property
    def any(self) -> bool:
        """Whether some column has no skin under its brow."""
        return bool(self.columns.any())

    def ease(self, ease: Floats) -> Floats:
        """`ease` with the band free to stretch in the columns without skin."""
        out: Floats = np.where(self.band, 1.0, ease)
        return out

    def paint(self, patch: Image, knots: Floats) -> Image | None:
        """`patch` (the box of the source, RGB uint8) with the band painted as lid skin where the moved `knots`
        (rows per column, as `rest`) stretch it, or None where nothing stretches it."""
        stretch = (knots[4] - knots[3]) / self._height - 1.0
        cover = np.where(self.columns, np.clip(stretch / _FULL_AT, 0.0, 1.0), 0.0).astype(np.float32)
        if cover.max() <= 0.01:
            return None
        # Feathered sideways into the neighbouring columns (which stretch less), so no seam shows.
        cover = cv2.GaussianBlur(cover[None], (0, 0), sigmaX=self._sigma, sigmaY=0.0)[0]
        alpha = (self._profile * cover[None])[..., None]
        out = patch.astype(np.float32) * (1.0 - alpha) + self._lid * alpha
        painted: Image = np.clip(out + 0.5, 0, 255).astype(np.uint8)
        return painted
