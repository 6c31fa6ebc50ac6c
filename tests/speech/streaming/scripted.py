"""A scripted VAD and synthetic streams for the endpointer and listener tests."""

import numpy as np

from speech.streaming.vad import WINDOW


class ScriptedVad:
    """Speech probability read from the window itself: windows whose first sample is non-zero are speech."""

    def __call__(self, window: np.ndarray) -> float:
        return 0.9 if window[0] != 0 else 0.05


def stream(*parts: tuple[str, float]) -> np.ndarray:
    """Concatenate ('speech' | 'silence', seconds) parts, rounded to whole VAD windows."""
    out = []
    for kind, seconds in parts:
        n = round(seconds * 16000 / WINDOW) * WINDOW
        out.append(np.full(n, 1000 if kind == "speech" else 0, dtype=np.int16))
    return np.concatenate(out)
