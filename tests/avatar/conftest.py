"""Shared fixtures for the avatar tests: the default portrait, its landmarks and synthetic speech."""

from __future__ import annotations

import numpy as np
import pytest

from avatar.expressions import AU_INDEX, AUS
from core.media import Phoneme, Speech


def synthetic_speech(
    symbols: str = "_ h ə l oʊ _ m a m a p ɑ b i _", step: float = 0.12, sample_rate: int = 22050
) -> Speech:
    """A tone with a hand-made phoneme timeline: each symbol lasts `step` seconds; pauses are silent."""
    phonemes = tuple(Phoneme(s, i * step, (i + 1) * step) for i, s in enumerate(symbols.split()))
    n = round(len(phonemes) * step * sample_rate)
    t = np.arange(n) / sample_rate
    pcm = 8000 * np.sin(2 * np.pi * 180 * t)
    for ph in phonemes:
        if ph.symbol == "_":
            pcm[int(ph.start * sample_rate) : int(ph.end * sample_rate)] = 0
    return Speech(pcm.astype(np.int16), sample_rate, phonemes, text="hello mama, pa bee")


def au_weights(**weights: float) -> np.ndarray:
    """AU weights (len(AUS),) with the named ones set, e.g. au_weights(au1=1.0, au2=0.5); the rest 0."""
    out = np.zeros(len(AUS), np.float32)
    for name, value in weights.items():
        out[AU_INDEX[int(name[2:])]] = value
    return out


def content_travel(x0: int, y0: int, field: np.ndarray, x: float, y: float) -> float:
    """How far the content at (x, y) moves vertically (+ down) under the backward `field` over a box whose top-left
    corner is (x0, y0): where the field's column samples that row from."""
    col = round(x) - x0
    source_y = field[:, col, 1] + np.arange(field.shape[0]) + y0
    return float(np.interp(y, source_y, np.arange(field.shape[0]) + y0) - y)


@pytest.fixture(scope="session")
def detector():
    from avatar.landmarks import LandmarkDetector

    return LandmarkDetector()


@pytest.fixture(scope="session")
def portrait(detector) -> np.ndarray:
    from avatar.portrait import load_portrait

    return load_portrait(None, 512, detector)


@pytest.fixture(scope="session")
def landmarks(detector, portrait):
    return detector.detect(portrait)
