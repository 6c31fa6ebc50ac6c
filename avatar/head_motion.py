"""Head motion as a similarity transform of the head: nods and turns from speech energy and phrase boundaries.

Small nods and turns following speech energy and phrase boundaries, applied as a global similarity
transform. The transform is feathered by a head mask (1 over the head, fading out down the neck and toward the
frame edge) so the shoulders and the frame border stay put, and it is added to the face's backward displacement on
the coarse grid: still one remap per frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from avatar.arrays import Floats
from core.media import Phoneme

# Amplitudes, as fractions of the face height (forehead to chin) or degrees.
_NOD = 0.012  # downward shift at full speech emphasis
_BOUNDARY_NOD = 0.014  # extra dip at a phrase boundary
_TURN = 0.01  # sideways drift (a small yaw seen from the front)
_ROLL_DEG = 1.0
_BREATH = 0.004  # rise and fall with a breath
_PAUSE_S = 0.12  # a silence this long is a phrase boundary


@dataclass(frozen=True)
class HeadPose:
    """A head pose relative to rest: shift (pixels), roll (degrees, clockwise on screen), scale (1 = rest)."""

    dx: float = 0.0
    dy: float = 0.0
    roll: float = 0.0
    scale: float = 1.0


REST = HeadPose()


class HeadMotion:
    """Head poses for speech and idle frames, and their backward displacement on a coarse grid."""

    def __init__(
        self, grid: Floats, pivot: Floats, face_h: float, face_w: float, size: tuple[int, int], seed: int = 0
    ) -> None:
        rng = np.random.default_rng([seed, 0x4EAD])
        # Sway phases and the listening-nod schedule are fixed per stream, functions of absolute time, so
        # consecutive calls (e.g. the server's idle chunks) join up seamlessly and a seed reproduces them.
        self._phases = rng.uniform(0, 2 * np.pi, (3, 3))
        self._nod_rng = rng
        self._nods: list[float] = []
        self.pivot = np.asarray(pivot, np.float64)
        self.face_h = face_h
        w, h = size
        # Mask: 1 above the pivot (the neck), fading out below it; horizontally fading well outside the face.
        gy = grid[:, 1]
        gx = grid[:, 0]
        vert = np.clip(1.0 - (gy - self.pivot[1]) / (0.3 * face_h), 0.0, 1.0)
        horiz = np.clip(1.0 - (np.abs(gx - self.pivot[0]) - 0.8 * face_w) / (0.5 * face_w), 0.0, 1.0)
        edge = np.clip(np.minimum.reduce([gx, gy, w - 1 - gx, h - 1 - gy]) / (0.04 * max(w, h)), 0.0, 1.0)
        mask = vert * horiz * edge
        self._mask = (mask * mask * (3 - 2 * mask))[:, None]
        self._grid = grid

    def coarse(self, pose: HeadPose) -> Floats:
        """Backward displacement (G, 2) that moves the head by `pose` (zero at rest)."""
        if pose == REST:
            return np.zeros_like(self._grid, dtype=np.float32)
        coarse: Floats = ((self.source_of(self._grid, pose) - self._grid) * self._mask).astype(np.float32)
        return coarse

    def source_of(self, points: Floats, pose: HeadPose) -> Floats:
        """Where each output point samples the un-moved head: the inverse of the similarity transform."""
        a = np.deg2rad(pose.roll)
        rot_t = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
        rel = points - self.pivot - [pose.dx, pose.dy]
        source: Floats = self.pivot + (rel @ rot_t.T) / pose.scale
        return source

    def moved(self, points: Floats, pose: HeadPose) -> Floats:
        """Where head points end up on screen under `pose` (the forward transform)."""
        a = np.deg2rad(pose.roll)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        moved: Floats = self.pivot + pose.scale * ((points - self.pivot) @ rot.T) + [pose.dx, pose.dy]
        return moved

    def speech_poses(self, envelope: Floats, phonemes: Sequence[Phoneme], fps: float, t0: float) -> list[HeadPose]:
        """Poses for speech frames: nods with emphasis (smoothed loudness), dips at phrase boundaries, slow turns."""
        n = len(envelope)
        if n == 0:
            return []
        t = np.arange(n) / fps
        k = max(1, round(0.2 * fps))  # ~200 ms smoothing: heads move with syllable groups, not single phonemes
        env = np.convolve(np.pad(envelope, (k, k), mode="edge"), np.ones(2 * k + 1) / (2 * k + 1), "valid")
        # Emphasis (louder than the sentence's average) dips the head; quiet stretches leave it level, so the
        # phrase-boundary nods below stay visible.
        nod = _NOD * self.face_h * np.maximum(env - float(env.mean()), 0.0) * 2.0
        for b in _phrase_boundaries(phonemes):
            nod += _BOUNDARY_NOD * self.face_h * np.exp(-0.5 * ((t - b - 0.1) / 0.15) ** 2)
        # Nods fade in and out over ~0.25 s, so a sentence joins the idle or the next sentence without a jump;
        # sway and breathing are functions of absolute time shared with idle frames, so they join up anyway.
        ramp = np.clip(np.minimum(t, t[-1] - t) / 0.25, 0.0, 1.0)
        nod *= ramp * ramp * (3 - 2 * ramp)
        return self._poses(t + t0, nod)

    def idle_poses(self, n: int, fps: float, t0: float, nods: bool) -> list[HeadPose]:
        """Poses at rest: breathing, slow sway and, when listening (`nods`), an occasional slight nod."""
        t = t0 + np.arange(n) / fps
        dy = np.zeros(n)
        if nods and n:
            while not self._nods or self._nods[-1] < t[-1] + 1.0:
                self._nods.append((self._nods[-1] if self._nods else 0.0) + self._nod_rng.uniform(1.8, 4.0))
            for start in self._nods:
                if t[0] - 1.0 < start < t[-1] + 1.0:
                    dy = dy + 0.012 * self.face_h * np.exp(-0.5 * ((t - start) / 0.18) ** 2)
        return self._poses(t, dy)

    def _poses(self, t: Floats, nod: Floats) -> list[HeadPose]:
        """Poses at absolute times `t`: slow sway and breathing (continuous across calls) plus a nod offset."""
        breath = 0.5 - 0.5 * np.cos(2 * np.pi * t / 4.2)  # one breath per ~4 s
        drift = self._slow(t, 2)
        dy = nod - _BREATH * self.face_h * breath
        return [
            HeadPose(dx=float(_TURN * self.face_h * drift[0][i]), dy=float(dy[i]),
                     roll=float(_ROLL_DEG * drift[1][i]), scale=1.0 + 0.003 * float(breath[i]))
            for i in range(len(t))
        ]  # fmt: skip

    def _slow(self, t: Floats, k: int) -> list[Floats]:
        """k smooth signals in about [-1, 1] of absolute time: sums of slow sines (0.07-0.31 Hz), seeded phases."""
        freqs = np.array([0.07, 0.17, 0.31])
        return [
            np.sum(np.sin(2 * np.pi * freqs[:, None] * t[None] + self._phases[j][:, None]), axis=0) / 2.2
            for j in range(k)
        ]


def _phrase_boundaries(phonemes: Sequence[Phoneme]) -> list[float]:
    """Times (s) where a phrase ends inside the utterance: silences of at least _PAUSE_S."""
    ordered = sorted(phonemes, key=lambda p: p.start)
    out = []
    for ph in ordered[1:-1]:  # leading and trailing silence are not inside a phrase
        if ph.symbol.strip() in {"_", ",", ".", "!", "?", ";", ":", ""} and ph.end - ph.start >= _PAUSE_S:
            out.append(ph.start)
    return out
