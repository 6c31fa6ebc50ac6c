"""Blinks and gaze shifts with EmoFace's measured statistics, on a frame clock that runs across calls.

Blink rate per minute ~ LogNormal(mu=3.518, sigma=0.532) (median ~34), clamped to [15, 100]; a
blink lasts ~13 frames at 60 fps (~0.22 s) with a fast close and a slower open; gaze holds 25-45 frames at 60 fps
(0.42-0.75 s), then moves over ~5 frames (~0.08 s), 40 % of the time back to centre, else to a small random
offset. Events are drawn from one seeded generator as the clock advances, so a seed reproduces the stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from avatar.arrays import Floats

BLINK_MU, BLINK_SIGMA = 3.518, 0.532
BLINK_RATE_RANGE = (15.0, 100.0)  # per minute
BLINK_S = 13 / 60
BLINK_CLOSE_S = 0.075  # fast close ...
BLINK_HOLD_S = 0.02
GAZE_HOLD_S = (25 / 60, 45 / 60)
GAZE_MOVE_S = 5 / 60
GAZE_CENTRE_P = 0.4
GAZE_RANGE = (0.45, 0.2)  # max offset (x, y) in iris radii


def blink_closure(t: Floats) -> Floats:
    """Lid closure in [0, 1] at times `t` (s) since a blink's start: eased close, short hold, slower open."""
    t = np.asarray(t, np.float64)
    open_s = BLINK_S - BLINK_CLOSE_S - BLINK_HOLD_S
    c = np.clip(t / BLINK_CLOSE_S, 0, 1)
    closing = c * c * (3 - 2 * c)
    o = np.clip((t - BLINK_CLOSE_S - BLINK_HOLD_S) / open_s, 0, 1)
    opening = 1 - o * o * (3 - 2 * o)
    return np.where((t < 0) | (t > BLINK_S), 0.0, np.where(t < BLINK_CLOSE_S + BLINK_HOLD_S, closing, opening))


@dataclass
class Liveliness:
    """Blink and gaze tracks for consecutive frames; `advance` continues where the last call stopped."""

    fps: float
    seed: int = 0
    frame: int = 0
    _rng: np.random.Generator = field(init=False, repr=False)
    _gaze_rng: np.random.Generator = field(init=False, repr=False)
    _blinks: list[float] = field(init=False, repr=False, default_factory=list)
    _gaze: list[tuple[float, float, float]] = field(init=False, repr=False, default_factory=list)

    def __post_init__(self) -> None:
        # Separate generators for blinks and gaze: their draws must not interleave differently when the same
        # frames are requested in different chunk sizes.
        self._rng = np.random.default_rng([self.seed, 0xB1])
        self._gaze_rng = np.random.default_rng([self.seed, 0x6A2E])
        rate = float(np.clip(self._rng.lognormal(BLINK_MU, BLINK_SIGMA), *BLINK_RATE_RANGE))
        self.blink_rate = rate  # per minute, drawn once per stream (a person's own rate)
        self._gaze = [(0.0, 0.0, 0.0)]  # (start time, x, y)

    def advance(self, n: int, blink_scale: float = 1.0) -> tuple[Floats, Floats]:
        """Blink closure (n,) and gaze offset (n, 2) in iris radii for the next n frames.

        `blink_scale` multiplies the rate (e.g. more blinks while talking, fewer while listening intently).
        """
        t = (self.frame + np.arange(n)) / self.fps
        self.frame += n
        if n == 0:
            return np.zeros(0), np.zeros((0, 2))
        end = float(t[-1]) + BLINK_S
        mean_gap = 60.0 / (self.blink_rate * max(blink_scale, 0.1))
        while not self._blinks or self._blinks[-1] < end:
            last = self._blinks[-1] if self._blinks else 0.0
            # Inter-blink gaps: exponential around the rate's mean, but never closer than 0.6 s (no double blinks
            # faster than a blink can finish and be perceived as two).
            gap = max(0.6, float(self._rng.exponential(mean_gap)))
            start = last + gap
            # Align the fully-closed moment to a frame so a 25 fps video actually shows the lid shut.
            closed_at = round((start + BLINK_CLOSE_S) * self.fps) / self.fps
            self._blinks.append(closed_at - BLINK_CLOSE_S - 0.5 * BLINK_HOLD_S)
        # Forget events that can no longer touch a frame, so a long session stays cheap.
        self._blinks = [s for s in self._blinks if s >= t[0] - BLINK_S]
        while len(self._gaze) > 2 and self._gaze[1][0] + GAZE_MOVE_S < t[0]:
            self._gaze.pop(0)
        blink = np.zeros(n)
        for s in self._blinks:
            if t[0] - BLINK_S <= s <= t[-1]:
                blink = np.maximum(blink, blink_closure(t - s))
        while self._gaze[-1][0] < end:
            start = self._gaze[-1][0] + float(self._gaze_rng.uniform(*GAZE_HOLD_S))
            if self._gaze_rng.random() < GAZE_CENTRE_P:
                x = y = 0.0
            else:
                ang = self._gaze_rng.uniform(0, 2 * np.pi)
                r = np.sqrt(self._gaze_rng.uniform(0.2, 1.0))
                x, y = GAZE_RANGE[0] * r * np.cos(ang), GAZE_RANGE[1] * r * np.sin(ang)
            self._gaze.append((start, float(x), float(y)))
        gaze = np.zeros((n, 2))
        for i, ti in enumerate(t):
            gaze[i] = self._gaze_at(float(ti))
        return blink, gaze

    def _gaze_at(self, t: float) -> tuple[float, float]:
        prev = self._gaze[0][1:]
        for start, x, y in self._gaze[1:]:
            if start > t:
                break
            w = min(1.0, (t - start) / GAZE_MOVE_S)
            w = w * w * (3 - 2 * w)
            prev = (prev[0] + w * (x - prev[0]), prev[1] + w * (y - prev[1]))
        return prev
