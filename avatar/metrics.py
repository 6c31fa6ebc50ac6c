"""Independent measurements of rendered video: lip-sync and expression, read back by a landmark model.

Measure what the viewer sees, not what the animation code intended. Every figure here runs a landmark reader
(avatar.landmark_readers: the face mesh, or dlib's 68 points) on the *rendered frames* (never the renderer's own
landmark offsets): mouth opening per frame against the speech loudness envelope for lip-sync, and mouth-corner
and brow heights against a neutral frame for expressions. Expression figures are in percent of the outer
eye-corner distance; EXPRESSION_TARGETS are the changes at intensity 1 that make each emotion readable at a
glance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from avatar.arrays import Floats, Image
from avatar.landmark_readers import MESH, READERS, Layout, Reader
from avatar.renderer import REST_MOUTH, FaceRenderer
from core.emotion import EmotionState


@dataclass(frozen=True)
class LipSync:
    """Best Pearson correlation of mouth opening with the speech envelope, the lag (ms) where it occurs (positive:
    the mouth follows the sound), and the number of frames where a face was found."""

    r: float
    lag_ms: float
    frames: int


@dataclass(frozen=True)
class FaceReading:
    """Heights measured on one rendered frame, in outer eye-corner distances (up is positive); the difference
    of two readings (`minus`) is a change of expression."""

    corner_height: float  # mean height of the two mouth corners
    brow_height: float  # mean height of both brows (all points)
    inner_brow_height: float  # mean height of the brows' inner ends
    mouth_open: float  # inner lip gap

    def minus(self, other: FaceReading) -> FaceReading:
        """The change from `other` to this reading, in percent of the outer eye-corner distance."""
        return FaceReading(*(100 * (getattr(self, f.name) - getattr(other, f.name)) for f in fields(self)))


@dataclass(frozen=True)
class Target:
    """A readable expression: `emotion` at intensity 1 moves `measure` (a FaceReading field) by at least `minimum`
    percent of the outer eye-corner distance in the direction `sign` (+1 up or open, -1 down)."""

    emotion: str
    measure: str
    sign: int
    minimum: float

    def value(self, change: FaceReading) -> float:
        """The change in the target's direction (positive when it moves the right way)."""
        return self.sign * float(getattr(change, self.measure))

    def met(self, change: FaceReading) -> bool:
        """Whether `change` (this emotion against neutral) reaches the target."""
        return self.value(change) >= self.minimum

    def describe(self) -> str:
        """E.g. "sadness corner_height down >= 4"."""
        way = {("mouth_open", 1): "open"}.get((self.measure, self.sign), "up" if self.sign > 0 else "down")
        return f"{self.emotion} {self.measure} {way} >= {self.minimum:g}"


# Changes at intensity 1 against neutral that make each emotion nameable at a glance at talking-head size; below
# them (e.g. sad inner brows up 1.4 %) the face reads as neutral on a contact sheet.
EXPRESSION_TARGETS: tuple[Target, ...] = (
    Target("joy", "corner_height", +1, 6.0),
    Target("sadness", "inner_brow_height", +1, 5.0),
    Target("sadness", "corner_height", -1, 4.0),
    Target("anger", "brow_height", -1, 6.0),
    Target("surprise", "brow_height", +1, 8.0),
    Target("surprise", "mouth_open", +1, 8.0),
    Target("fear", "inner_brow_height", +1, 5.0),
    Target("fear", "mouth_open", +1, 4.0),
    Target("disgust", "corner_height", -1, 4.0),
)


def reading(points: Floats, layout: Layout = MESH) -> FaceReading:
    """The heights of one frame's landmarks (placed as `layout` says), scaled by its outer eye-corner distance."""
    corners = list(layout.eye_corners)
    iod = float(np.linalg.norm(points[corners[1]] - points[corners[0]]))
    eye_y = float(points[corners, 1].mean())
    return FaceReading(
        corner_height=(eye_y - float(points[list(layout.mouth_corners), 1].mean())) / iod,
        brow_height=(eye_y - float(points[list(layout.brows), 1].mean())) / iod,
        inner_brow_height=(eye_y - float(points[list(layout.inner_brows), 1].mean())) / iod,
        mouth_open=float(points[layout.lower_lip_inner, 1] - points[layout.upper_lip_inner, 1]) / iod,
    )


def expression_changes(
    renderer: FaceRenderer, labels: Sequence[str], intensity: float = 1.0, reader: Reader = READERS["mesh"]
) -> dict[str, FaceReading | None]:
    """Each emotion's change against neutral (FaceReading.minus, % of the outer eye-corner distance), read by
    `reader` (avatar.landmark_readers; the face mesh by default) off still frames with the lips at rest; None where
    no face is found.

    Raises ValueError when the reader finds no face in the neutral frame (nothing to compare against).
    """
    neutral = renderer.render_frame(REST_MOUTH, EmotionState.from_label("neutral", 0.0))
    frames = [renderer.render_frame(REST_MOUTH, EmotionState.from_label(e, intensity)) for e in labels]
    marks = reader.read([neutral, *frames])
    if marks[0] is None:
        raise ValueError(f"the {reader.name} reader finds no face in the neutral frame")
    base = reading(marks[0], reader.layout)
    return {
        e: None if m is None else reading(m, reader.layout).minus(base) for e, m in zip(labels, marks[1:], strict=True)
    }


def speech_envelope(pcm: npt.NDArray[np.int16], sample_rate: int, times: Floats, window_s: float = 0.04) -> Floats:
    """RMS loudness of `pcm` in a window centred on each time (s)."""
    x = pcm.astype(np.float64)
    sq = np.concatenate([[0.0], np.cumsum(x * x)])
    half = window_s / 2 * sample_rate
    lo = np.clip(np.round(times * sample_rate - half), 0, len(x)).astype(np.int64)
    hi = np.clip(np.round(times * sample_rate + half), 0, len(x)).astype(np.int64)
    rms: Floats = np.sqrt((sq[hi] - sq[lo]) / np.maximum(hi - lo, 1))
    return rms


def lip_sync(
    frames: Sequence[Image],
    pcm: npt.NDArray[np.int16],
    sample_rate: int,
    fps: float,
    max_lag_s: float = 0.2,
    reader: Reader = READERS["mesh"],
) -> LipSync:
    """Correlate the mouth opening of rendered frames, measured by `reader`, with the speech envelope over lags
    (10 ms steps).

    Frame i shows time i / fps. Both signals are compared on a 100 Hz grid (mouth opening linearly interpolated
    between frames), so the lag is resolved finer than one frame.
    """
    marks = reader.read(frames)
    found = [i for i, m in enumerate(marks) if m is not None]
    if len(found) < 3:
        return LipSync(0.0, 0.0, len(found))
    ft = np.array(found) / fps
    opening = np.array([reading(m, reader.layout).mouth_open for m in marks if m is not None])  # the frames in `found`
    step = 0.01
    grid = np.arange(ft[0], ft[-1], step)
    mouth = np.interp(grid, ft, opening)
    best = (-2.0, 0.0)
    for k in range(-round(max_lag_s / step), round(max_lag_s / step) + 1):
        env = speech_envelope(pcm, sample_rate, grid - k * step)  # mouth at t vs sound at t - lag
        if np.std(env) == 0 or np.std(mouth) == 0:
            continue
        r = float(np.corrcoef(mouth, env)[0, 1])
        if r > best[0]:
            best = (r, k * step * 1000)
    return LipSync(best[0], best[1], len(found))
