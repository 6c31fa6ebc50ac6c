"""Head motion: nods follow emphasis and phrase boundaries, poses join up across calls, the transform inverts."""

from __future__ import annotations

import numpy as np

from avatar.head_motion import REST, HeadMotion, HeadPose
from avatar.warp import coarse_grid
from core.media import Phoneme


def _motion(seed: int = 0) -> HeadMotion:
    gx, gy = coarse_grid(512, 512, 8)
    xx, yy = np.meshgrid(gx, gy)
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
    return HeadMotion(grid, np.array([256.0, 420.0]), face_h=280.0, face_w=290.0, size=(512, 512), seed=seed)


def test_forward_and_inverse_agree() -> None:
    m = _motion()
    pose = HeadPose(dx=3, dy=-2, roll=1.5, scale=1.01)
    pts = np.array([[200.0, 200.0], [300.0, 150.0]])
    assert np.allclose(m.source_of(m.moved(pts, pose), pose), pts)
    assert not m.coarse(REST).any()


def test_speech_nods_at_a_phrase_boundary_and_starts_and_ends_level() -> None:
    m = _motion()
    fps = 25
    phonemes = (Phoneme("a", 0.0, 1.0), Phoneme("_", 1.0, 1.4), Phoneme("a", 1.4, 3.0))
    env = np.ones(75)
    env[25:35] = 0
    poses = m.speech_poses(env, phonemes, fps, t0=0.0)
    rest = m.idle_poses(75, fps, t0=0.0, nods=False)
    dy = np.array([p.dy for p in poses]) - np.array([p.dy for p in rest])
    assert dy[28] > 2.0  # a nod (down) just after the pause starts
    assert abs(dy[0]) < 1e-6 and abs(dy[-1]) < 1e-6  # joins idle frames without a jump


def test_idle_is_continuous_across_calls_and_seeded() -> None:
    a, b = _motion(1), _motion(1)
    whole = a.idle_poses(100, 25, 0.0, nods=True)
    parts = b.idle_poses(40, 25, 0.0, nods=True) + b.idle_poses(60, 25, 40 / 25, nods=True)
    assert all(np.isclose(x.dy, y.dy) and np.isclose(x.dx, y.dx) for x, y in zip(whole, parts, strict=True))
    other = _motion(2).idle_poses(100, 25, 0.0, nods=True)
    assert any(not np.isclose(x.dx, y.dx) for x, y in zip(whole, other, strict=True))
