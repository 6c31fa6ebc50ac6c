"""Emotions as points in valence-arousal-dominance (VAD) space, and their categorical labels.

Coordinates follow Russell & Mehrabian (1977) as used by Wen et al. (2021).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# The seven categories every stage understands (perception, reply emotion, face, voice).
BASIC_EMOTIONS: tuple[str, ...] = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")

EMOTION_VAD: dict[str, tuple[float, float, float]] = {
    "anger": (-0.51, 0.59, 0.25),
    "disgust": (-0.60, 0.35, 0.11),
    "fear": (-0.64, 0.60, -0.43),
    "joy": (0.81, 0.51, 0.46),
    "neutral": (0.00, 0.00, 0.00),
    "sadness": (-0.63, -0.27, -0.33),
    "surprise": (0.40, 0.67, -0.13),
}

# The agent's finer palette for its own state (same source): support conversations need "calm",
# "hopeful" or "thankful" rather than only the seven basics. The face and voice still take the basic labels.
AGENT_PALETTE_VAD: dict[str, tuple[float, float, float]] = {
    "calm": (0.79, -0.01, 0.33),
    "hopeful": (0.51, 0.23, 0.14),
    "interested": (0.64, 0.51, 0.17),
    "thankful": (0.61, 0.10, -0.13),
    "regretful": (-0.52, 0.02, -0.21),
    "discouraged": (-0.61, -0.15, -0.29),
    "shamed": (-0.57, 0.01, -0.34),
}
PALETTE_VAD: dict[str, tuple[float, float, float]] = {**EMOTION_VAD, **AGENT_PALETTE_VAD}

# Width of the Gaussian around each category centre; ~0.35 lets neighbouring emotions blend.
_MIXTURE_SIGMA = 0.35


@dataclass(frozen=True)
class VAD:
    """A point in VAD space, each coordinate in [-1, 1]."""

    valence: float
    arousal: float
    dominance: float

    def clipped(self) -> VAD:
        """Return this point with every coordinate clipped to [-1, 1]."""
        return VAD(*(max(-1.0, min(1.0, x)) for x in self.as_tuple()))

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.valence, self.arousal, self.dominance)

    def distance(self, other: VAD) -> float:
        return math.dist(self.as_tuple(), other.as_tuple())

    @classmethod
    def of(cls, label: str) -> VAD:
        """The centre of a known emotion label."""
        try:
            return cls(*EMOTION_VAD[label])
        except KeyError:
            raise ValueError(f"unknown emotion {label!r}; known: {', '.join(BASIC_EMOTIONS)}") from None


@dataclass(frozen=True)
class EmotionState:
    """An emotion: its VAD point, the dominant label, a label mixture summing to 1, and an intensity in [0, 1]."""

    vad: VAD
    label: str
    intensity: float
    mixture: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_vad(cls, vad: VAD) -> EmotionState:
        """Describe a VAD point: mixture by normalised Gaussian likelihoods, intensity = distance from neutral."""
        vad = vad.clipped()
        mixture = label_mixture(vad)
        label = max(mixture, key=mixture.__getitem__)
        intensity = min(1.0, vad.distance(VAD(0.0, 0.0, 0.0)))
        return cls(vad=vad, label=label, intensity=round(intensity, 4), mixture=mixture)

    @classmethod
    def from_label(cls, label: str, intensity: float = 1.0) -> EmotionState:
        """An emotion at `intensity` times the distance of its category centre from neutral."""
        if not 0.0 <= intensity <= 1.0:
            raise ValueError(f"intensity must be in [0, 1], got {intensity}")
        centre = VAD.of(label)
        state = cls.from_vad(VAD(*(intensity * x for x in centre.as_tuple())))
        # Keep the label the caller asked for even where a weak point blends toward neutral.
        return cls(vad=state.vad, label=label, intensity=state.intensity, mixture=state.mixture)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form, used by the protocol and the conversation store."""
        return {
            "label": self.label,
            "intensity": self.intensity,
            "vad": {"valence": self.vad.valence, "arousal": self.vad.arousal, "dominance": self.vad.dominance},
            "mixture": self.mixture,
        }


def label_mixture(vad: VAD, centres: dict[str, tuple[float, float, float]] | None = None) -> dict[str, float]:
    """Normalised Gaussian likelihoods of `vad` under each category centre (rounded to 4 places).

    `centres` defaults to the seven basic emotions; pass PALETTE_VAD for the agent's finer palette.
    """
    weights = {
        label: math.exp(-(vad.distance(VAD(*centre)) ** 2) / (2 * _MIXTURE_SIGMA**2))
        for label, centre in (centres or EMOTION_VAD).items()
    }
    total = sum(weights.values()) or 1.0
    return {label: round(w / total, 4) for label, w in weights.items()}


NEUTRAL = EmotionState.from_label("neutral", 0.0)


def palette_label(vad: VAD) -> str:
    """The most likely label of `vad` among the basic emotions and the agent's finer palette."""
    mixture = label_mixture(vad.clipped(), PALETTE_VAD)
    return max(mixture, key=mixture.__getitem__)


@dataclass(frozen=True)
class VoiceAffect:
    """What the voice says about how the speaker feels, independent of the words (produced by speech/).

    `vad` is the estimate, `confidence` in [0, 1] how far to trust it (0: ignore). `label` is an optional
    categorical reading; the raw prosody statistics (z-scored against the speaker's own running baseline where
    available) are kept so later stages and researchers can see why.
    """

    vad: VAD
    confidence: float
    label: str | None = None
    f0_mean_hz: float | None = None
    f0_range_semitones: float | None = None
    energy_db: float | None = None
    speaking_rate: float | None = None  # syllables (or words) per second

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"voice affect confidence must be in [0, 1], got {self.confidence}")
        if self.label is not None and self.label not in EMOTION_VAD:
            raise ValueError(f"unknown voice emotion label {self.label!r}; known: {', '.join(BASIC_EMOTIONS)}")

    @property
    def category(self) -> str:
        """The label, or the basic emotion nearest in likelihood to the VAD estimate."""
        if self.label is not None:
            return self.label
        mixture = label_mixture(self.vad.clipped())
        return max(mixture, key=mixture.__getitem__)
