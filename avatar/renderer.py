"""Talking-head frames from one portrait: lip and jaw landmarks follow the mouth track, one dense warp per frame.

Pipeline per frame (DESIGN.md §8): mouth shape -> landmark offsets -> thin-plate backward field on a coarse grid
over the lower-face box -> one cv2.remap -> a drawn mouth interior (cavity, teeth, tongue hint) where the lips part.
At construction the portrait's own lip gap (an open smile shows teeth) is closed once, so every frame opens from
shut lips and p/b/m closures are real closures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from avatar.landmarks import (
    FACE_OVAL,
    LOWER_INNER,
    LOWER_OUTER,
    MOUTH_LEFT,
    MOUTH_RIGHT,
    UPPER_INNER,
    UPPER_OUTER,
    FaceLandmarks,
)
from avatar.visemes import JAW_OPEN, LIP_CLOSED, LIP_ROUND, LIP_WIDTH, MouthShape, loudness_envelope, mouth_track
from avatar.warp import Box, GridWarper
from core.emotion import EmotionState
from core.media import Speech

# Lower-face mesh points that move with the jaw or are dragged by the lips (chin, jaw line, around the mouth).
_FOLLOWERS = (
    18, 200, 199, 175, 152, 83, 313, 201, 421, 194, 418, 32, 262, 208, 428, 171, 396, 140, 369, 148, 377, 176, 400,
    149, 378, 150, 379, 136, 365, 57, 287, 186, 410, 92, 322, 167, 393, 165, 391, 43, 273, 106, 335, 182, 406,
)  # fmt: skip
# Points that must stay put: nose, cheeks, eyes' lower lids, jaw angles; they stop the warp creeping upward.
_ANCHORS = (
    1, 2, 4, 98, 327, 64, 294, 48, 278, 50, 280, 205, 425, 207, 427, 123, 352, 116, 345, 187, 411, 147, 376, 58, 288,
    132, 361, 93, 323, 234, 454, 145, 374, 159, 386, 33, 263, 133, 362, 168, 6,
)  # fmt: skip

# Motion amplitudes as fractions of the mouth width (corner to corner).
_GAP = 0.5  # inner lip gap at jaw_open = 1
_UPPER_RISE = 0.06  # upper lip lifts a little as the jaw drops
_WIDTH = 0.12  # each corner out at lip_width = 1
_ROUND = 0.2  # each corner in at lip_round = 1
_PROTRUDE = 0.04  # rounded lips push out (thicker vertically)
_SMILE_UP = 0.09  # corners up at smile = 1 (down when negative)
_SMILE_OUT = 0.05

_CAVITY = np.array([48, 16, 20], np.float32)
_TEETH = np.array([222, 214, 204], np.float32)
_LOWER_TEETH = np.array([196, 188, 180], np.float32)
_TONGUE = np.array([160, 70, 75], np.float32)


def _smile_of(emotion: EmotionState) -> float:
    """Mouth-corner lift in [-1, 1] from the emotion: up with positive valence (AU12), down with negative (AU15)."""
    return float(np.clip(1.2 * emotion.vad.valence, -1.0, 1.0))


def close_mouth(image: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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

    def curves(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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


class FaceRenderer:
    """Renders a portrait speaking: frames whose mouth follows a Speech's phoneme timeline.

    `portrait` is RGB uint8 (H, W, 3); `landmarks` are that image's FaceLandmarks (e.g. from LandmarkDetector).
    """

    def __init__(self, portrait: np.ndarray, landmarks: FaceLandmarks, fps: int = 25) -> None:
        if portrait.ndim != 3 or portrait.shape[2] != 3 or portrait.dtype != np.uint8:
            raise ValueError(f"portrait must be RGB uint8 (H, W, 3), got {portrait.dtype} {portrait.shape}")
        h, w = portrait.shape[:2]
        if (landmarks.width, landmarks.height) != (w, h):
            raise ValueError(
                f"landmarks are for a {landmarks.width}x{landmarks.height} image, portrait is {w}x{h}; "
                "detect landmarks on the portrait you render"
            )
        if len(landmarks) < 468:
            raise ValueError(f"need the 468-point face mesh, got {len(landmarks)} landmarks")
        self.fps = fps
        self.size = (w, h)
        self._base, pts = close_mouth(portrait, landmarks.points[:468])
        self._idle_frame = 0
        left, right = pts[MOUTH_LEFT], pts[MOUTH_RIGHT]
        self._mouth_w = float(np.linalg.norm(right - left))
        self._centre = (left + right) / 2
        oval = pts[list(FACE_OVAL)]
        face_half_w = float(oval[:, 0].max() - oval[:, 0].min()) / 2

        lips = list(dict.fromkeys(UPPER_INNER + LOWER_INNER + UPPER_OUTER + LOWER_OUTER))
        moving = lips + [i for i in _FOLLOWERS if i not in lips]
        self._moving = np.array(moving)
        src = pts[self._moving]
        self._src = src
        mw = self._mouth_w
        u = (src[:, 0] - self._centre[0]) / (mw / 2)
        self._u = np.clip(u, -1.3, 1.3)
        self._profile = np.clip(1.0 - u * u, 0.0, 1.0)
        ids = self._moving
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
        side = (src[:, 0] - self._centre[0]) / max(face_half_w, 1.0)
        self._jaw = np.where(self._is_lip, 0.0, ramp * np.clip(1.1 - 0.9 * side * side, 0.15, 1.0))

        # The warp box: the lower face, from just under the eyes to well below the chin (the jaw drops into it).
        anchors = pts[list(_ANCHORS)]
        chin_y = float(oval[:, 1].max())
        x0 = float(oval[:, 0].min()) - 0.05 * mw
        x1 = float(oval[:, 0].max()) + 0.05 * mw
        y0 = float(pts[[145, 374], 1].mean())
        y1 = chin_y + 0.9 * mw
        box = Box(max(0, int(x0)), max(0, int(y0)), min(w, math.ceil(x1)), min(h, math.ceil(y1)))
        inside = (anchors[:, 0] > box.x0) & (anchors[:, 0] < box.x1) & (anchors[:, 1] > box.y0)
        inside &= anchors[:, 1] < box.y1
        self._warper = GridWarper(box, anchors[inside], step=max(6, round(0.04 * max(w, h))))
        self._ui_rows = np.array([moving.index(i) for i in UPPER_INNER])
        self._li_rows = np.array([moving.index(i) for i in LOWER_INNER])

    @property
    def base(self) -> np.ndarray:
        """The portrait with lips closed: what every frame is warped from."""
        return self._base

    def render_speech(self, speech: Speech, emotion: EmotionState) -> list[np.ndarray]:
        """round(speech.duration * fps) RGB frames whose mouth follows the speech's phonemes and loudness."""
        n = round(speech.duration * self.fps)
        envelope = loudness_envelope(speech.pcm, speech.sample_rate, self.fps, n)
        track = mouth_track(speech.phonemes, self.fps, n, envelope)
        return [self.render_frame(shape, emotion) for shape in track]

    def idle(self, n_frames: int, emotion: EmotionState) -> list[np.ndarray]:
        """Frames of the listening/resting face: lips together, a slow breath in the jaw, the emotion's mouth."""
        frames = []
        for _ in range(n_frames):
            t = self._idle_frame / self.fps
            self._idle_frame += 1
            breath = 0.5 - 0.5 * math.cos(2 * math.pi * t / 4.0)  # one breath per ~4 s
            frames.append(self.render_frame(MouthShape(jaw_open=0.05 * breath), emotion))
        return frames

    def render_frame(self, shape: MouthShape | Sequence[float] | np.ndarray, emotion: EmotionState) -> np.ndarray:
        """One RGB frame for a mouth shape (MouthShape or a row of a mouth track) and an emotion."""
        params = shape.as_array() if isinstance(shape, MouthShape) else np.asarray(shape, np.float32)
        offsets = self._offsets(params, _smile_of(emotion))
        frame = self._base.copy()
        self._warper.warp(self._base, self._src, offsets, frame)
        self._draw_interior(frame, self._src + offsets)
        return frame

    def _offsets(self, params: np.ndarray, smile: float) -> np.ndarray:
        """Displacements (M, 2) of the moving landmarks for mouth params and a smile in [-1, 1]."""
        jaw, width, rnd, closed = (
            float(np.clip(params[i], 0.0, 1.0)) for i in (JAW_OPEN, LIP_WIDTH, LIP_ROUND, LIP_CLOSED)
        )
        opening = jaw * (1.0 - closed)
        mw, u, prof = self._mouth_w, self._u, self._profile
        dx = np.zeros_like(u)
        dy = np.zeros_like(u)
        gap = _GAP * mw * opening
        shape = prof ** (0.6 - 0.35 * rnd)  # rounder mouths open more evenly along their width
        dy += np.where(self._lower, gap * shape, 0.0)
        dy -= np.where(self._upper, _UPPER_RISE * mw * opening * shape, 0.0)
        dy += np.where(self._corner, 0.1 * gap, 0.0)
        dy += self._jaw * gap
        # Horizontal: stretch, rounding and smile act on the lips, and on nearby skin through the drag weight.
        dx += (_WIDTH * width - _ROUND * rnd) * mw * u * self._drag
        dy -= np.where(self._upper_outer, _PROTRUDE * mw * rnd * prof, 0.0)
        dy += np.where(self._lower_outer, _PROTRUDE * mw * rnd * prof, 0.0)
        au = np.minimum(np.abs(u), 1.0)
        dy -= smile * _SMILE_UP * mw * au * au * self._drag
        dx += smile * _SMILE_OUT * mw * u * self._drag
        return np.stack([dx, dy], axis=1)

    def _draw_interior(self, frame: np.ndarray, moved: np.ndarray) -> None:
        """Composite a mouth interior inside the inner-lip polygon when the lips are apart."""
        upper, lower = moved[self._ui_rows], moved[self._li_rows]
        gaps = lower[1:-1, 1] - upper[1:-1, 1]
        gap = float(gaps.max())
        if gap < 1.5:
            return
        poly = np.concatenate([upper, lower[::-1]])
        h, w = frame.shape[:2]
        x0, y0 = np.floor(poly.min(axis=0)).astype(int) - 2
        x1, y1 = np.ceil(poly.max(axis=0)).astype(int) + 3
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        shift = 4  # sub-pixel vertex positions for fillPoly
        scale = 1 << shift

        def fixed(p: np.ndarray) -> np.ndarray:
            return np.round((p - [x0, y0]) * scale).astype(np.int32)

        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(mask, [fixed(poly)], 255, cv2.LINE_AA, shift)
        roi_h, roi_w = mask.shape
        mw = self._mouth_w
        # Cavity: dark, darker toward the back (lower middle of the opening).
        yy = (np.arange(roi_h, dtype=np.float32)[:, None] + y0 - upper[:, 1].min()) / max(gap, 1.0)
        interior = np.empty((roi_h, roi_w, 3), np.float32)
        interior[:] = _CAVITY * (1.0 - 0.45 * np.clip(yy, 0.0, 1.0))[..., None]
        layer = np.zeros((roi_h, roi_w), np.uint8)
        # Upper teeth: a band hanging from the upper lip, shaded toward the corners.
        depth = np.minimum(0.1 * mw, 0.55 * np.maximum(lower[:, 1] - upper[:, 1], 0.0))
        teeth_poly = np.concatenate(
            [upper[2:-2], (upper[2:-2] + np.stack([np.zeros(len(depth) - 4), depth[2:-2]], 1))[::-1]]
        )
        cv2.fillPoly(layer, [fixed(teeth_poly)], 255, cv2.LINE_AA, shift)
        cx = (np.arange(roi_w, dtype=np.float32) + x0 - self._centre[0]) / (0.5 * mw)
        shade = np.clip(1.0 - 0.55 * cx * cx, 0.35, 1.0)[None, :, None]
        a = (layer.astype(np.float32) / 255.0)[..., None]
        interior = interior * (1 - a) + (_TEETH * shade) * a
        if gap > 0.18 * mw:  # wide open: a hint of tongue and lower teeth
            layer[:] = 0
            centre = fixed((upper[5] + lower[5]) / 2 + [0, 0.3 * gap])
            axes = (int(0.28 * mw * scale), int(0.22 * gap * scale))
            cv2.ellipse(layer, (int(centre[0]), int(centre[1])), axes, 0, 0, 360, 255, -1, cv2.LINE_AA, shift)
            a = (layer.astype(np.float32) / 255.0)[..., None] * 0.8
            interior = interior * (1 - a) + (_TONGUE * shade) * a
            layer[:] = 0
            low = lower[3:-3]
            band = np.concatenate([low, (low - [0, 0.05 * mw])[::-1]])
            cv2.fillPoly(layer, [fixed(band)], 255, cv2.LINE_AA, shift)
            a = (layer.astype(np.float32) / 255.0)[..., None] * 0.6
            interior = interior * (1 - a) + (_LOWER_TEETH * shade) * a
        alpha = (cv2.GaussianBlur(mask, (3, 3), 0).astype(np.float32) / 255.0)[..., None]
        roi = frame[y0:y1, x0:x1].astype(np.float32)
        frame[y0:y1, x0:x1] = (roi * (1 - alpha) + interior * alpha + 0.5).astype(np.uint8)
