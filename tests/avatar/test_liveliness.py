"""Blinks and gaze: EmoFace's statistics, continuity across calls, and determinism under a seed."""

from __future__ import annotations

import numpy as np

from avatar.liveliness import BLINK_RATE_RANGE, Liveliness, blink_closure


def test_blink_closes_fast_and_opens_slowly() -> None:
    t = np.linspace(0, 13 / 60, 200)
    c = blink_closure(t)
    peak = int(np.argmax(c))
    assert c.max() == 1.0 and c[0] == 0.0 and c[-1] < 0.01
    assert peak < 0.5 * len(t)  # the close takes less than half the blink
    assert blink_closure(np.array([-0.1, 0.5])).tolist() == [0.0, 0.0]


def test_blink_rate_and_full_closure_at_25_fps() -> None:
    life = Liveliness(25, seed=3)
    assert BLINK_RATE_RANGE[0] <= life.blink_rate <= BLINK_RATE_RANGE[1]
    blink, _ = life.advance(25 * 120)
    shut = np.flatnonzero(blink > 0.99)
    starts = shut[np.r_[True, np.diff(shut) > 3]]
    per_minute = len(starts) / 2
    assert 0.4 * life.blink_rate < per_minute < 1.8 * life.blink_rate
    # Every blink reaches a fully closed frame, and lasts a handful of frames (~13 at 60 fps).
    assert len(starts) >= 0.8 * np.count_nonzero(np.diff((blink > 0.05).astype(int)) == 1)
    assert np.count_nonzero(blink > 0.05) / max(len(starts), 1) < 8


def test_gaze_holds_then_moves_and_returns_to_centre() -> None:
    _, gaze = Liveliness(25, seed=5).advance(25 * 60)
    moving = np.linalg.norm(np.diff(gaze, axis=0), axis=1) > 1e-6
    assert moving.mean() < 0.3  # mostly holding
    assert np.abs(gaze).max() <= 0.5
    centred = np.linalg.norm(gaze, axis=1) < 1e-9
    assert 0.1 < centred.mean() < 0.9


def test_deterministic_and_continuous_across_calls() -> None:
    a = Liveliness(25, seed=7)
    whole = a.advance(500)
    b = Liveliness(25, seed=7)
    parts = [b.advance(n) for n in (13, 100, 387)]
    assert np.allclose(np.concatenate([p[0] for p in parts]), whole[0])
    assert np.allclose(np.concatenate([p[1] for p in parts]), whole[1])
    assert not np.allclose(Liveliness(25, seed=8).advance(500)[0], whole[0])
