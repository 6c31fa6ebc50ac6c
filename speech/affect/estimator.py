"""Voice affect: z-score an utterance's prosody against the speaker's own running baseline, map it to VAD.

Why a per-speaker baseline: absolute pitch, loudness and rate say more about the speaker (sex, age,
microphone gain, habit) than about their state; the same features *relative to that speaker's usual* follow
arousal well (Banse & Scherer, 1996; Juslin & Laukka, 2003: high arousal raises f0 level and range,
loudness, rate and high-frequency energy). Until the baseline has a few utterances it is blended with broad
population priors and the confidence stays low.

Mapping (weights on z-scores, then tanh to [-1, 1]); arousal is the dependable axis:
    arousal   = 0.30 f0 + 0.15 range + 0.30 energy + 0.15 rate - 0.10 tilt
    valence   = 0.10 range + 0.05 rate - 0.10 jitter            (voice alone says little about valence)
    dominance = 0.25 energy - 0.15 f0 - 0.05 rate               (louder and lower sounds more dominant)

Limits (see docs/voice_affect.md): valence and dominance from prosody are weak cues; the estimate confuses
"excited" with "angry" (both high arousal); microphone gain changes within a session shift the energy
baseline; very short answers ("yes") carry little voiced speech and get low confidence; the syllable count is
an approximation (±15 % of the true rate on read speech).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.emotion import VAD, VoiceAffect
from speech.affect.features import ProsodyFeatures, measure

# Features on scales where a speaker's variation is roughly Gaussian: pitch in semitones, loudness in dB.
_FEATURES = ("f0", "range", "energy", "rate", "tilt", "jitter")
# Broad population priors (mean, standard deviation) used until the speaker's own baseline fills in.
_PRIORS = {
    "f0": (12 * math.log2(150 / 100), 4.0),  # semitones re 100 Hz: 150 Hz median, wide for both sexes
    "range": (6.0, 2.0),
    "energy": (-25.0, 6.0),
    "rate": (4.0, 1.0),
    "tilt": (12.0, 4.0),
    "jitter": (0.015, 0.006),
}
# Minimum spread within a speaker: keeps z-scores sane when the baseline is a few near-identical utterances.
_MIN_SD = {"f0": 0.7, "range": 0.8, "energy": 1.5, "rate": 0.3, "tilt": 1.0, "jitter": 0.002}
_PRIOR_WEIGHT = 2.0  # the prior counts like this many utterances
_WEIGHTS = {
    "arousal": {"f0": 0.30, "range": 0.15, "energy": 0.30, "rate": 0.15, "tilt": -0.10},
    "valence": {"range": 0.10, "rate": 0.05, "jitter": -0.10},
    "dominance": {"energy": 0.25, "f0": -0.15, "rate": -0.05},
}


@dataclass(frozen=True)
class VoiceReading:
    """A voice affect estimate with what it rests on: the utterance's measurements and their z-scores against
    the speaker's baseline (feature names: f0, range, energy, rate, tilt, jitter)."""

    affect: VoiceAffect
    features: ProsodyFeatures
    zscores: dict[str, float]


@dataclass
class _Running:
    """Welford's running mean and variance of one feature."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def add(self, value: float) -> None:
        self.n += 1
        delta = value - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (value - self.mean)

    def blended(self, prior: tuple[float, float], min_sd: float) -> tuple[float, float]:
        """Mean and sd of the speaker's values, shrunk toward the prior while there are few of them."""
        prior_mean, prior_sd = prior
        w = _PRIOR_WEIGHT
        # The speaker's own mean is better than a population's from the first utterance on; their spread needs
        # more utterances, so the variance is pooled with the prior's.
        mean = self.mean if self.n else prior_mean
        variance = (self.m2 + w * prior_sd**2) / (self.n + w)  # pooled, prior as pseudo-observations
        return mean, max(math.sqrt(variance), min_sd)


class VoiceAffectEstimator:
    """Estimates `VoiceAffect` per utterance for one speaker (make one per conversation), learning their baseline.

    update_baseline: add each measured utterance to the baseline after judging it (the usual case); tests and
    calibration can feed neutral speech with `calibrate` instead.
    """

    def __init__(self, update_baseline: bool = True) -> None:
        self._baseline = {name: _Running() for name in _FEATURES}
        self._update = update_baseline

    @property
    def baseline_utterances(self) -> int:
        return self._baseline["f0"].n

    def calibrate(self, pcm: npt.NDArray[np.int16], sample_rate: int, text: str | None = None) -> bool:
        """Add an utterance to the baseline without estimating; False when it had too little voiced speech."""
        features = measure(pcm, sample_rate, text)
        if features is None:
            return False
        self._add(features)
        return True

    def estimate(self, pcm: npt.NDArray[np.int16], sample_rate: int, text: str | None = None) -> VoiceAffect | None:
        """Voice affect of one utterance (mono int16), or None when it has too little voiced speech to judge.

        text: the utterance's transcript, when known: gives a reliable speaking rate (`measure`).
        """
        reading = self.analyse(pcm, sample_rate, text)
        return reading.affect if reading is not None else None

    def analyse(self, pcm: npt.NDArray[np.int16], sample_rate: int, text: str | None = None) -> VoiceReading | None:
        """Like `estimate`, with the measurements and z-scores behind the estimate (for logs and research)."""
        features = measure(pcm, sample_rate, text)
        if features is None:
            return None
        values = _values(features)
        z = {}
        for name in _FEATURES:
            mean, sd = self._baseline[name].blended(_PRIORS[name], _MIN_SD[name])
            z[name] = float(np.clip((values[name] - mean) / sd, -4.0, 4.0))
        axes = {axis: math.tanh(sum(w * z[f] for f, w in weights.items())) for axis, weights in _WEIGHTS.items()}
        n = self.baseline_utterances
        # Confidence grows with the baseline (0.25 with none, ~0.8 after 8 utterances) and with voiced time.
        confidence = (0.25 + 0.6 * n / (n + 2.0)) * min(1.0, features.voiced_seconds / 1.0)
        if self._update:
            self._add(features)
        affect = VoiceAffect(
            vad=VAD(valence=axes["valence"], arousal=axes["arousal"], dominance=axes["dominance"]).clipped(),
            confidence=round(min(1.0, confidence), 3),
            f0_mean_hz=features.f0_mean_hz,
            f0_range_semitones=features.f0_range_semitones,
            energy_db=features.energy_db,
            speaking_rate=features.speaking_rate,
        )
        return VoiceReading(affect=affect, features=features, zscores={k: round(v, 3) for k, v in z.items()})

    def _add(self, features: ProsodyFeatures) -> None:
        for name, value in _values(features).items():
            self._baseline[name].add(value)


def _values(features: ProsodyFeatures) -> dict[str, float]:
    return {
        "f0": 12 * math.log2(features.f0_median_hz / 100.0),
        "range": features.f0_range_semitones,
        "energy": features.energy_db,
        "rate": features.speaking_rate,
        "tilt": features.spectral_tilt_db,
        "jitter": features.jitter,
    }
