"""Idle and listening loops: every motion repeats with the loop, so its last frame leads into its first."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from avatar.clip_encoder import encode_clip
from avatar.loop import PLANS, loop_poses, render_loop
from avatar.renderer import FaceRenderer

FPS = 25


def pose_vector(pose) -> np.ndarray:
    h = pose.head
    return np.array([h.dx, h.dy, h.roll, 100 * (h.scale - 1), pose.blink, *pose.gaze])


@pytest.mark.parametrize("state", ["idle", "listening"])
def test_poses_wrap_around_like_any_other_frame_step(state) -> None:
    n = 4 * FPS
    poses = np.array([pose_vector(p) for p in loop_poses(n, FPS, state, face_h=256.0)])
    steps = np.abs(np.diff(poses, axis=0))
    wrap = np.abs(poses[0] - poses[-1])
    assert np.all(wrap <= steps.max(axis=0) + 1e-9), (wrap, steps.max(axis=0))
    # The loop starts and ends with open eyes looking ahead, and blinks as often as its plan says.
    assert poses[0, 4] == poses[-1, 4] == 0.0 and np.allclose(poses[[0, -1], 5:], 0.0)
    closed = np.flatnonzero((poses[1:, 4] >= 0.99) & (poses[:-1, 4] < 0.99))
    assert len(closed) == len(PLANS[state].blinks)


def test_listening_nods_and_idle_does_not() -> None:
    def deepest(state: str) -> float:
        return max(p.head.dy for p in loop_poses(100, FPS, state, face_h=256.0))

    assert deepest("listening") > deepest("idle") + 2.0  # a nod dips the head by a few pixels


def test_loop_needs_frames() -> None:
    with pytest.raises(ValueError):
        loop_poses(1, FPS, "idle", 256.0)


@pytest.mark.models
def test_rendered_loop_is_seamless_and_alive(portrait, landmarks) -> None:
    renderer = FaceRenderer(portrait, landmarks, fps=FPS)
    frames = render_loop(renderer, "idle", FPS, 2.0)
    assert len(frames) == 2 * FPS and renderer.clock == 0  # rendering a loop leaves the reply clock alone
    diff = [float(np.abs(a.astype(np.int16) - b).mean()) for a, b in zip(frames, frames[1:] + frames[:1], strict=True)]
    assert diff[-1] <= max(diff[:-1])  # last -> first is an ordinary step
    assert max(diff) > 0.1
    clip = av.open(io.BytesIO(encode_clip(frames, FPS)))
    assert sum(1 for _ in clip.decode(video=0)) == len(frames)
