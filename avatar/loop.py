"""Seamless idle and listening loops: a few seconds of a resting face whose last frame leads into its first.

The web client plays these in a looping <video> between replies, so the face never freezes. Every motion is a
function of time with the loop's period (breathing, sway) or an event placed wholly inside the loop (blinks, gaze
shifts, listening nods), so frame n (at t = seconds) equals frame 0: the jump from the last frame back to the
first is an ordinary frame step. Frames come from `render_frame`, which does not advance the renderer's
liveliness clock, so rendering a loop leaves the next reply's blinks and sway untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from avatar.arrays import Floats, Image
from avatar.base import LoopRenderer
from avatar.head_motion import HeadPose
from avatar.liveliness import GAZE_MOVE_S, blink_closure
from avatar.renderer import REST_MOUTH, FramePose
from core.emotion import EmotionState

LoopState = Literal["idle", "listening"]
LOOP_STATES: tuple[LoopState, ...] = ("idle", "listening")

# The renderer crops portraits so the face oval fills ~55 % of the frame height; forehead to chin is a bit less.
_FACE_OF_FRAME = 0.5
# Amplitudes as in avatar.head_motion (fractions of the face height, degrees), which sways on the same scale.
_BREATH = 0.004
_TURN = 0.01
_ROLL_DEG = 1.0
_NOD = 0.012
_NOD_SIGMA_S = 0.18


@dataclass(frozen=True)
class LoopPlan:
    """Where the events of one loop fall, as fractions of its length (all well inside it, so none wraps)."""

    blinks: tuple[float, ...]
    gaze: tuple[tuple[float, float, float], ...]  # (time fraction, x, y in iris radii); starts and ends centred
    nods: tuple[float, ...]


# Resting: ~30 blinks a minute (EmoFace's median is ~34) and a glance aside. Listening: fewer blinks, eyes on the
# user with only a small shift, and one slight nod.
PLANS: dict[LoopState, LoopPlan] = {
    "idle": LoopPlan(blinks=(0.28, 0.76), gaze=((0.4, 0.25, 0.06), (0.86, 0.0, 0.0)), nods=()),
    "listening": LoopPlan(blinks=(0.42,), gaze=((0.55, 0.12, 0.04), (0.85, 0.0, 0.0)), nods=(0.68,)),
}


def loop_poses(n_frames: int, fps: float, state: LoopState, face_h: float, seed: int = 0) -> list[FramePose]:
    """Head pose, lid closure and gaze for `n_frames` frames of a loop that repeats after exactly `n_frames`."""
    if n_frames < 2:
        raise ValueError(f"a loop needs at least 2 frames, got {n_frames}")
    plan = PLANS[state]
    period = n_frames / fps
    t = np.arange(n_frames) / fps
    phase = 2 * np.pi * t / period
    rng = np.random.default_rng([seed, 0x100B])
    p = rng.uniform(0, 2 * np.pi, 4)
    breath = 0.5 - 0.5 * np.cos(phase)  # one breath per loop (~4 s, as at rest)
    # Sway: the loop's fundamental and second harmonic, so it joins up, with seeded phases so it is not a pendulum.
    drift_x = (np.sin(phase + p[0]) + 0.4 * np.sin(2 * phase + p[1])) / 1.4
    drift_r = (np.sin(phase + p[2]) + 0.4 * np.sin(2 * phase + p[3])) / 1.4
    dy = -_BREATH * face_h * breath
    for at in plan.nods:
        dy = dy + _NOD * face_h * np.exp(-0.5 * ((t - at * period) / _NOD_SIGMA_S) ** 2)
    blink = np.zeros(n_frames)
    for at in plan.blinks:
        # Snap the start so the fully closed moment lands on a frame (as avatar.liveliness does).
        start = round(at * period * fps) / fps
        blink = np.maximum(blink, blink_closure(t - start))
    gaze = _gaze_track(t, period, plan.gaze)
    return [
        FramePose(
            head=HeadPose(
                dx=float(_TURN * face_h * drift_x[i]),
                dy=float(dy[i]),
                roll=float(_ROLL_DEG * drift_r[i]),
                scale=1.0 + 0.003 * float(breath[i]),
            ),
            blink=float(blink[i]),
            gaze=(float(gaze[i, 0]), float(gaze[i, 1])),
        )
        for i in range(n_frames)
    ]


def _gaze_track(t: Floats, period: float, targets: Sequence[tuple[float, float, float]]) -> Floats:
    """Gaze that starts centred and eases to each target at its time over GAZE_MOVE_S (a saccade-like shift)."""
    gaze = np.zeros((len(t), 2))
    prev = np.zeros(2)
    for at, x, y in targets:
        w = np.clip((t - at * period) / GAZE_MOVE_S, 0.0, 1.0)
        w = (w * w * (3 - 2 * w))[:, None]
        target = np.array([x, y])
        gaze = gaze + w * (target - prev)  # each shift adds its step once it starts; before, the old target holds
        prev = target
    return gaze


def render_loop(
    renderer: LoopRenderer, state: LoopState, fps: int, seconds: float, emotion: EmotionState | None = None
) -> list[Image]:
    """round(seconds * fps) RGB frames of a seamless `state` loop (lips together) showing `emotion` (neutral)."""
    if state not in PLANS:
        raise ValueError(f"unknown loop state {state!r}; expected one of {', '.join(LOOP_STATES)}")
    n = round(seconds * fps)
    emotion = emotion if emotion is not None else EmotionState.from_label("neutral", 0.0)
    face_h = _FACE_OF_FRAME * float(renderer.size[1])
    return [renderer.render_frame(REST_MOUTH, emotion, pose) for pose in loop_poses(n, fps, state, face_h)]
