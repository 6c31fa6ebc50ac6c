"""Eyes: blinks by sliding the upper lid down over the eyeball, gaze by moving the iris inside the eye opening.

Both edit the portrait's eye regions before the frame's single warp, so brows and lids moved by AUs carry the
result along. A blink remaps each column of the eye box: the lid skin above the upper lid stretches down to the
new lid edge (so the lashes and crease come with it) while the eyeball below that edge stays where it is, which
is what a lid does. Gaze composites the portrait's own iris, shifted, over an iris-free copy of the eye (inpainted
once), clipped to the eye opening.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from avatar.arrays import Floats, Image
from avatar.face_field import EYES

IRIS = ((468, (469, 470, 471, 472)), (473, (474, 475, 476, 477)))  # centre, contour; same eye order as EYES


@dataclass(frozen=True)
class _Eye:
    x0: int
    y0: int
    x1: int
    y1: int
    upper: Floats  # upper lid y per column of the box
    lower: Floats  # lower lid y per column
    top: Floats  # where the stretched lid skin starts, per column
    opening: Floats  # eye-opening mask over the box, float32 0-1
    empty: Image | None  # box without the iris (RGB), None without iris landmarks
    iris: Floats | None  # the iris patch (RGB) over the box
    iris_alpha: Floats | None  # its alpha over the box
    radius: float


def _lid_curve(pts: Floats, ids: tuple[int, ...], corners: tuple[int, int], cols: Floats) -> Floats:
    p = pts[list((corners[0], *ids, corners[1]))]
    order = np.argsort(p[:, 0])
    return np.interp(cols, p[order, 0], p[order, 1])


class EyeAnimator:
    """Blinks and gaze for both eyes of one portrait."""

    def __init__(self, image: Image, pts: Floats) -> None:
        h, w = image.shape[:2]
        self._eyes: list[_Eye] = []
        self._last: tuple[tuple[int, float, float, float], Image] | None = None
        for eye_no, (corners, upper_ids, lower_ids, _fold) in enumerate(EYES):
            ring = pts[list(corners + upper_ids + lower_ids)]
            (ex0, ey0), (ex1, ey1) = ring.min(axis=0), ring.max(axis=0)
            eye_h = max(ey1 - ey0, 2.0)
            x0, x1 = max(0, math.floor(ex0) - 2), min(w, math.ceil(ex1) + 3)
            y0 = max(0, math.floor(ey0 - 0.9 * eye_h) - 1)
            y1 = min(h, math.ceil(ey1 + 0.3 * eye_h) + 2)
            cols = np.arange(x0, x1, dtype=np.float64)
            upper = _lid_curve(pts, upper_ids, corners, cols)
            lower = np.maximum(_lid_curve(pts, lower_ids, corners, cols), upper)
            top = upper - 0.7 * eye_h  # the lid skin between lashes and crease; above it the brow must not move
            poly = np.concatenate([pts[[corners[0], *upper_ids, corners[1]]], pts[list(lower_ids[::-1])]])
            mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
            cv2.fillPoly(mask, [np.round((poly - [x0, y0]) * 16).astype(np.int32)], (255,), cv2.LINE_AA, 4)
            opening = mask.astype(np.float32) / 255.0
            empty = iris = alpha = None
            radius = 0.0
            if len(pts) >= 478:
                centre_id, contour = IRIS[eye_no]
                c = pts[centre_id]
                radius = float(np.linalg.norm(pts[list(contour)] - c, axis=1).mean())
                box = np.ascontiguousarray(image[y0:y1, x0:x1])
                disk = np.zeros(mask.shape, np.uint8)
                cv2.circle(disk, (round((c[0] - x0) * 16), round((c[1] - y0) * 16)), round(radius * 1.15 * 16), (255,),
                           -1, cv2.LINE_AA, 4)  # fmt: skip
                hole = cv2.bitwise_and(cv2.dilate(disk, np.ones((3, 3), np.uint8)), mask)
                empty = np.asarray(cv2.inpaint(box, hole, 3, cv2.INPAINT_TELEA), np.uint8)
                iris = box.astype(np.float32)
                alpha = (disk.astype(np.float32) / 255.0) * opening
            rows = (upper - y0, lower - y0, top - y0)
            self._eyes.append(_Eye(x0, y0, x1, y1, *rows, opening, empty, iris, alpha, radius))

    def apply(self, image: Image, blink: float, gaze: tuple[float, float]) -> Image:
        """`image` (the portrait, not modified) with lids closed by `blink` in [0, 1] and irises moved by `gaze`.

        Returns `image` itself when nothing changes, else a copy with the eye boxes edited.
        """
        gx, gy = gaze
        moving_iris = abs(gx) + abs(gy) > 1e-3
        if blink < 0.02 and not moving_iris:
            return image
        # Gaze holds for many frames and most frames do not blink: reuse the last edit when nothing changed.
        key = (id(image), round(blink, 4), round(gx, 4), round(gy, 4))
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        out = image.copy()
        for eye in self._eyes:
            if moving_iris and eye.empty is not None and eye.iris is not None and eye.iris_alpha is not None:
                shift = np.array([[1, 0, gx * eye.radius], [0, 1, gy * eye.radius]], np.float32)
                size = (eye.x1 - eye.x0, eye.y1 - eye.y0)
                iris = cv2.warpAffine(eye.iris, shift, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                a = cv2.warpAffine(eye.iris_alpha, shift, size, flags=cv2.INTER_LINEAR) * eye.opening
                box = eye.empty.astype(np.float32) * (1 - a[..., None]) + iris * a[..., None]
                out[eye.y0 : eye.y1, eye.x0 : eye.x1] = (box + 0.5).astype(np.uint8)
            if blink >= 0.02:
                self._close(out, eye, min(blink, 1.0))
        self._last = (key, out)
        return out

    @staticmethod
    def _close(out: Image, eye: _Eye, closure: float) -> None:
        """Slide the upper lid down by `closure` of the eye opening, in place.

        The band from the crease to the lashes moves down rigidly (lashes stay crisp; stretching them smears), and
        the strip it uncovers under the crease is filled with the skin colour found just at the crease.
        """
        box = out[eye.y0 : eye.y1, eye.x0 : eye.x1].copy()
        rows = np.arange(box.shape[0], dtype=np.float32)[:, None]
        drop = closure * (eye.lower - eye.upper)
        lid = eye.upper + drop
        top = eye.top
        src_y = np.where((rows >= top + drop) & (rows <= lid + 0.5), rows - drop, rows)
        src_y = np.where((rows >= top) & (rows < top + drop), top, src_y).astype(np.float32)
        map_x = np.broadcast_to(np.arange(box.shape[1], dtype=np.float32)[None, :], src_y.shape)
        soft = cv2.GaussianBlur(box, (5, 1), 0)  # the filled strip samples one row: blur it along the row
        fill = (rows >= top) & (rows < top + drop)
        moved = cv2.remap(box, np.ascontiguousarray(map_x), src_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        filled = cv2.remap(soft, np.ascontiguousarray(map_x), src_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        out[eye.y0 : eye.y1, eye.x0 : eye.x1] = np.where(fill[..., None], filled, moved)
