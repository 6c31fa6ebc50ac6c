"""Shared fixtures for the avatar tests: the default portrait, its landmarks and synthetic speech."""

from __future__ import annotations

import numpy as np
import pytest

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
