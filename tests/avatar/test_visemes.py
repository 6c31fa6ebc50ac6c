"""Phoneme -> viseme mapping and the mouth track's timing, including kept bilabial closures."""

from __future__ import annotations

import numpy as np
import pytest

from avatar.visemes import (
    JAW_OPEN,
    LIP_CLOSED,
    LIP_ROUND,
    LIP_WIDTH,
    VISEMES,
    loudness_envelope,
    mouth_track,
    viseme_of,
)
from core.media import Phoneme
from tests.avatar.conftest import synthetic_speech


@pytest.mark.parametrize(
    ("symbol", "viseme"),
    [
        ("p", "PP"), ("b", "PP"), ("m", "PP"), ("f", "FF"), ("v", "FF"), ("θ", "TH"), ("ð", "TH"), ("t", "DD"),
        ("k", "kk"), ("ɡ", "kk"), ("ŋ", "kk"), ("ʃ", "CH"), ("dʒ", "CH"), ("s", "SS"), ("z", "SS"), ("n", "nn"),
        ("l", "nn"), ("ɹ", "RR"), ("ɑ", "aa"), ("æ", "aa"), ("ɛ", "E"), ("ə", "E"), ("i", "ih"), ("ɪ", "ih"),
        ("o", "oh"), ("ɔː", "oh"), ("u", "ou"), ("ʊ", "ou"), ("w", "ou"), ("aɪ", "aa"), ("ˈæ", "aa"), ("_", "sil"),
        (" ", "sil"), ("?", "sil"),
    ],
)  # fmt: skip
def test_viseme_of(symbol: str, viseme: str) -> None:
    assert viseme_of(symbol) == viseme
    assert viseme in VISEMES


def test_track_shape_and_vowel_shapes() -> None:
    phs = (Phoneme("_", 0.0, 0.2), Phoneme("ɑ", 0.2, 0.5), Phoneme("u", 0.5, 0.8), Phoneme("i", 0.8, 1.1))
    track = mouth_track(phs, 25, 28)
    assert track.shape == (28, 4)
    assert track[2, JAW_OPEN] < 0.05  # silence: mouth at rest
    assert track[10, JAW_OPEN] > 0.6  # inside "ɑ": wide open
    assert track[17, LIP_ROUND] > 0.6  # inside "u": rounded
    assert track[25, LIP_WIDTH] > 0.3  # inside "i": spread


def test_onset_leads_the_phoneme() -> None:
    phs = (Phoneme("_", 0.0, 0.4), Phoneme("ɑ", 0.4, 0.8))
    track = mouth_track(phs, 100, 80)
    first_open = int(np.argmax(track[:, JAW_OPEN] > 0.05))
    assert 0.34 <= first_open / 100 < 0.4  # starts ~30 ms early


@pytest.mark.parametrize("fps", [25, 30])
def test_bilabial_closure_survives_at_frame_rate(fps: int) -> None:
    # Short bilabials between wide vowels: plain blending would leave the lips apart.
    speech = synthetic_speech("_ a m a p a b a m", step=0.07)
    n = round(speech.duration * fps)
    env = loudness_envelope(speech.pcm, speech.sample_rate, fps, n)
    track = mouth_track(speech.phonemes, fps, n, env)
    for ph in speech.phonemes:
        if ph.symbol in "pbm":
            frames = [i for i in range(n) if ph.start <= i / fps < ph.end] or [round((ph.start + ph.end) / 2 * fps)]
            for i in frames:
                assert track[i, LIP_CLOSED] == 1.0 and track[i, JAW_OPEN] == 0.0, (ph, i)
    vowels = [
        i for i in range(n) if any(p.symbol == "a" and p.start + 0.03 <= i / fps < p.end for p in speech.phonemes)
    ]
    assert max(track[i, JAW_OPEN] for i in vowels) > 0.3


def test_envelope_scales_opening() -> None:
    phs = (Phoneme("ɑ", 0.0, 1.0),)
    loud = mouth_track(phs, 25, 25, np.ones(25))
    quiet = mouth_track(phs, 25, 25, np.zeros(25))
    assert quiet[20, JAW_OPEN] < loud[20, JAW_OPEN]
