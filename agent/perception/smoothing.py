"""The user's emotion across turns: one utterance is noisy evidence of how someone feels.

Exponential smoothing of the VAD point and of the label mixture; a new utterance weighs `alpha` (most of it), so
a sudden change ("my dog just died") still dominates the very turn it is said, while isolated misreadings fade.
Every path applies it the same way, in agent.mind (the previous state travels with the conversation's context).
"""

from __future__ import annotations

from core.emotion import VAD, EmotionState

DEFAULT_ALPHA = 0.6


def smooth(previous: EmotionState | None, observed: EmotionState, alpha: float = DEFAULT_ALPHA) -> EmotionState:
    """`alpha` * observed + (1 - alpha) * previous, for the VAD point and the label mixture."""
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    if previous is None:
        return observed
    a = alpha
    vad = VAD(
        *(a * o + (1 - a) * p for o, p in zip(observed.vad.as_tuple(), previous.vad.as_tuple(), strict=True))
    ).clipped()
    labels = set(observed.mixture) | set(previous.mixture)
    mixture = {
        k: round(a * observed.mixture.get(k, 0.0) + (1 - a) * previous.mixture.get(k, 0.0), 4) for k in sorted(labels)
    }
    label = max(mixture, key=mixture.__getitem__) if mixture else observed.label
    intensity = round(min(1.0, vad.distance(VAD(0.0, 0.0, 0.0))), 4)
    return EmotionState(vad=vad, label=label, intensity=intensity, mixture=mixture)
