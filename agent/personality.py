"""Personality: Big Five traits mapped to a resting temperament in VAD space (Mehrabian 1996).

Mehrabian's fifth factor is emotional *stability*, so neuroticism enters with the opposite sign of the published
stability weights (a frequent bug elsewhere): a more neurotic persona rests less pleasant and more aroused.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from core.emotion import VAD


@dataclass(frozen=True)
class BigFive:
    """Big Five traits, each in [0, 1] (0.5 = population average)."""

    openness: float = 0.5
    conscientiousness: float = 0.5
    extraversion: float = 0.5
    agreeableness: float = 0.5
    neuroticism: float = 0.5

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Big Five trait {f.name} must be in [0, 1], got {value}")

    def centred(self) -> tuple[float, float, float, float, float]:
        """(O, C, E, A, N) centred to [-1, 1]."""
        return (
            2 * self.openness - 1,
            2 * self.conscientiousness - 1,
            2 * self.extraversion - 1,
            2 * self.agreeableness - 1,
            2 * self.neuroticism - 1,
        )


def temperament(traits: BigFive) -> VAD:
    """The resting emotional state of a personality, clipped to [-1, 1]^3.

    P = 0.21 E + 0.59 A - 0.19 N
    A = 0.15 O + 0.30 A + 0.57 N
    D = 0.25 O + 0.17 C + 0.60 E - 0.32 A
    """
    o, c, e, a, n = traits.centred()
    return VAD(
        valence=0.21 * e + 0.59 * a - 0.19 * n,
        arousal=0.15 * o + 0.30 * a + 0.57 * n,
        dominance=0.25 * o + 0.17 * c + 0.60 * e - 0.32 * a,
    ).clipped()
