"""From an emotion to facial action units (AUs): EMFACS prototypes, blended region by region.

EMFACS prototypes: happiness 6+12; sadness 1+4+15; surprise 1+2+5+26; fear 1+2+4+5+7+20+26; anger 4+5+7+23;
disgust 9+15+16. Compound emotions take each face region (brows, eyes, nose, mouth) mostly from the emotion that
is both strong in the mixture and expressive in that region (PC-Talk: a happy mouth with concerned brows), instead
of averaging every prototype into a mush. While speaking, mouth AUs stay (the renderer clamps them against the
visemes) and the emotional jaw drop (AU26) is damped, because the visemes own the jaw.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from avatar.arrays import Floats
from core.emotion import EmotionState

AUS: tuple[int, ...] = (1, 2, 4, 5, 6, 7, 9, 12, 15, 16, 20, 23, 26)
AU_INDEX: dict[int, int] = {au: i for i, au in enumerate(AUS)}

# Which region each AU belongs to: a region's AUs come from one blend of emotions.
REGIONS: dict[str, tuple[int, ...]] = {
    "brows": (1, 2, 4),
    "eyes": (5, 6, 7),
    "nose": (9,),
    "mouth": (12, 15, 16, 20, 23, 26),
}

# EMFACS prototypes with per-AU weights (1 = the AU at full strength). Weights below 1 keep secondary AUs
# (e.g. fear's lid tightening) from overpowering the defining ones. Sadness leaves out AU4: in the 1+4 brow the
# inner ends still rise (AU4 only knits them), and this rig's AU4 lowers them, which would cancel AU1 there. Anger's
# eyes glare under the lowered brows (AU5 up, AU7 moderate): with AU7 at full they read as a squint.
PROTOTYPES: dict[str, dict[int, float]] = {
    "joy": {6: 0.6, 12: 1.0},
    "sadness": {1: 1.0, 15: 1.0},
    "surprise": {1: 1.0, 2: 1.0, 5: 0.6, 26: 1.0},
    "fear": {1: 1.0, 2: 0.5, 4: 0.1, 5: 0.8, 7: 0.3, 20: 1.0, 26: 0.65},
    "anger": {4: 1.0, 5: 0.6, 7: 0.6, 23: 1.0},
    "disgust": {9: 1.0, 15: 1.0, 16: 0.4},
    "neutral": {},
}

# How telling each emotion is in each region (0-1): decides which emotion owns a region in a blend.
SALIENCE: dict[str, dict[str, float]] = {
    "joy": {"brows": 0.1, "eyes": 0.7, "nose": 0.0, "mouth": 1.0},
    "sadness": {"brows": 1.0, "eyes": 0.2, "nose": 0.0, "mouth": 0.7},
    "surprise": {"brows": 1.0, "eyes": 0.9, "nose": 0.0, "mouth": 0.6},
    "fear": {"brows": 0.9, "eyes": 1.0, "nose": 0.0, "mouth": 0.8},
    "anger": {"brows": 1.0, "eyes": 0.8, "nose": 0.2, "mouth": 0.7},
    "disgust": {"brows": 0.3, "eyes": 0.3, "nose": 1.0, "mouth": 0.8},
}

# Intensity (distance from neutral in VAD) at which the face shows an emotion fully; category centres lie at
# 0.70-1.06 from neutral, so 0.75 lets every emotion reach its full prototype.
_FULL_AT = 0.75
_LABEL_PRIOR = 0.6  # weight of the named label against the VAD mixture (which blurs weak emotions toward neighbours)
_SHARPNESS = 2.0  # >1: a region follows its strongest emotion rather than a flat average
_REGION_FULL = 0.5  # mixture weight at which the emotions acting in a region show there at full strength
_SPEAKING_JAW = 0.25  # fraction of AU26 kept while the visemes drive the jaw
_SPEAKING_CORNERS = 0.75  # fraction of AU12 / AU15 kept while speaking


def face_mixture(emotion: EmotionState) -> dict[str, float]:
    """Non-neutral emotion weights summing to 1 (empty for a neutral face): the label, blended with the mixture."""
    others = {k: v for k, v in emotion.mixture.items() if k in SALIENCE and v > 0}
    total = sum(others.values())
    weights = {k: (1 - _LABEL_PRIOR) * v / total for k, v in others.items()} if total > 0 else {}
    if emotion.label in SALIENCE:
        weights[emotion.label] = weights.get(emotion.label, 0.0) + (_LABEL_PRIOR if total > 0 else 1.0)
    norm = sum(weights.values())
    return {k: v / norm for k, v in weights.items()} if norm > 0 else {}


def region_shares(mixture: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """For each region, how much each emotion contributes to it (sums to at most 1 over emotions).

    The region's strength grows with the mixture weight of the emotions whose prototype acts there at all (full
    from _REGION_FULL), so a trace of disgust in a sad mixture cannot wrinkle the nose at full strength; it is
    split among them by sharpened, salience-weighted mixture weights, so the most telling emotion owns the region.
    """
    shares: dict[str, dict[str, float]] = {}
    for region, aus in REGIONS.items():
        acting = {e: w for e, w in mixture.items() if e in SALIENCE and any(PROTOTYPES[e].get(a) for a in aus)}
        strength = min(1.0, sum(acting.values()) / _REGION_FULL)
        raw = {e: (w * SALIENCE[e][region]) ** _SHARPNESS for e, w in acting.items()}
        total = sum(raw.values())
        shares[region] = {e: strength * v / total for e, v in raw.items() if v > 0} if total > 0 else {}
    return shares


def action_units(emotion: EmotionState, speaking: bool = False, gain: float = 1.0) -> Floats:
    """AU intensities (len(AUS),) in [0, 1] for an emotion; `gain` scales all (e.g. 0.4 for soft mirroring)."""
    amplitude = float(np.clip(emotion.intensity / _FULL_AT, 0.0, 1.0)) * gain
    weights = np.zeros(len(AUS), np.float32)
    if amplitude <= 0:
        return weights
    for region, share in region_shares(face_mixture(emotion)).items():
        for au in REGIONS[region]:
            weights[AU_INDEX[au]] = sum(s * PROTOTYPES[e].get(au, 0.0) for e, s in share.items())
    weights *= amplitude
    if speaking:
        weights[AU_INDEX[26]] *= _SPEAKING_JAW
        # Corner pulls on an open, moving mouth read stronger than on a closed one (a talking grin looks forced).
        weights[AU_INDEX[12]] *= _SPEAKING_CORNERS
        weights[AU_INDEX[15]] *= _SPEAKING_CORNERS
    return np.clip(weights, 0.0, 1.0)
