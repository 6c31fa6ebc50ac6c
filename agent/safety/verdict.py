"""What the crisis screen decides: the categories, the verdict value, and the emotion of a scripted reply."""

from __future__ import annotations

from dataclasses import dataclass

from core.emotion import VAD, EmotionState

CATEGORIES: tuple[str, ...] = ("suicide", "self_harm", "abuse", "medical")
DEFAULT_HOTLINE = "If you are in danger right now, please call your local emergency number."


@dataclass(frozen=True)
class SafetyVerdict:
    """A message that must not go to free generation.

    `matched` says why: the text a rule matched, or for the learned detector the nearest crisis expression it
    was fitted on. `score` is 1.0 for a rule match, else the detector's crisis probability (0..1).
    """

    category: str
    matched: str
    response: str
    score: float = 1.0
    source: str = "rule"  # "rule" | "semantic"


def safety_emotion() -> EmotionState:
    """The emotion of a scripted safety reply: calm, warm and steady (a little dominant: reassuring)."""
    state = EmotionState.from_vad(VAD(0.2, -0.25, 0.25))
    return EmotionState(vad=state.vad, label="neutral", intensity=state.intensity, mixture=state.mixture)
