"""The user's emotion from their words: sentence embeddings and lexical cues, read by a small classifier.

How: a softmax-regression classifier over [MiniLM sentence embedding (384-d) ; lexical cue features] is fitted at
start-up on the shipped dev set (`data/emotion_dev.jsonl`, 245 hand-written utterances across the seven basic
emotions). Its class probabilities are the label mixture (a Gaussian mixture over VAD space is for points;
here the labels come first); the VAD point is the sharpened probability-weighted blend of the category centres, with
valence nudged by VADER's polarity, arousal raised by typography (!!, CAPS, emoji) and the whole point scaled by
intensifiers and hedges ("so very sad" vs "a bit down"). Without an encoder the same classifier runs on the lexical
features alone: a weaker but model-free fallback (unit tests, `perceive_text`). Text-only arousal is weak
(arousal shows in the voice more than in words): the voice refines it (`agent.perception.fusion`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from agent.perception.classifier import SoftmaxClassifier, load_examples
from agent.perception.lexical import FEATURE_NAMES, CueReading, LexicalCues
from core.emotion import BASIC_EMOTIONS, VAD, EmotionState

DEV_SET = Path(__file__).with_name("data") / "emotion_dev.jsonl"
# Classifier settings chosen by 5-fold cross-validation on the dev set only (benchmarks/emotion_accuracy.py --cv):
# L2 strength, and the gain of the lexical features next to the 384 embedding dimensions.
DEFAULT_L2 = 300.0
LEXICAL_GAIN = 3.0
# How much VADER's polarity moves the valence of the blended point (it handles negation and "but" clauses).
_VADER_VALENCE_WEIGHT = 0.25
# An utterance of at most this many words is read with the previous one in view, which weighs this much.
_SHORT_WORDS = 4
_CONTEXT_WEIGHT = 0.5


class SentenceEncoder(Protocol):
    """Anything that turns sentences into fixed-length vectors (agent.perception.minilm.MiniLmEncoder)."""

    def encode(self, texts: list[str]) -> npt.NDArray[np.floating[Any]]:
        """One row per text."""
        ...


class TextPerception:
    """Estimates a user's emotion from text; build once (it fits its classifier) and reuse across turns."""

    def __init__(
        self,
        encoder: SentenceEncoder | None = None,
        training: Path = DEV_SET,
        l2: float = DEFAULT_L2,
        lexical_gain: float = LEXICAL_GAIN,
    ) -> None:
        self._cues = LexicalCues()
        self._encoder = encoder
        examples = load_examples(training)
        x = self.features([e.text for e in examples])
        gain = np.ones(x.shape[1])
        if encoder is not None:
            gain[-len(FEATURE_NAMES) :] = lexical_gain
        self._classifier = SoftmaxClassifier.fit(x, [e.label for e in examples], BASIC_EMOTIONS, l2=l2, gain=gain)

    @property
    def uses_embeddings(self) -> bool:
        return self._encoder is not None

    def features(self, texts: list[str]) -> npt.NDArray[np.floating[Any]]:
        """The classifier's input for `texts`: embeddings (when an encoder is set) and lexical features."""
        lexical = np.stack([self._cues.read(t).features() for t in texts]) if texts else np.zeros((0, 0))
        if self._encoder is None:
            return lexical
        return np.hstack([self._encoder.encode(list(texts)), lexical])

    def posterior(self, text: str) -> dict[str, float]:
        """Probability of each basic emotion given `text`."""
        p = self._classifier.predict_proba(self.features([text]))[0]
        return dict(zip(self._classifier.labels, (float(v) for v in p), strict=True))

    def perceive(self, text: str, context: Sequence[str] = ()) -> EmotionState:
        """The user's emotion as read from `text` (neutral for empty text), with the user's previous utterances
        `context` (oldest first) in view: a short reply ("I'm fine.") says little on its own, so its reading leans
        on the last utterance's; a longer one stands on its own words."""
        reading = self._cues.read(text)
        if reading.empty:
            return EmotionState.from_label("neutral", 0.0)
        posterior = _without_negated(self.posterior(text), reading)
        if context and len(text.split()) <= _SHORT_WORDS and context[-1].strip():
            before = self.posterior(context[-1])
            posterior = {k: (1 - _CONTEXT_WEIGHT) * p + _CONTEXT_WEIGHT * before[k] for k, p in posterior.items()}
        return state_from_posterior(posterior, reading)


def _without_negated(posterior: dict[str, float], reading: CueReading) -> dict[str, float]:
    """Zero the categories whose only cues were negated ("I'm not scared of it" is not fear), renormalised.

    Negation is explicit evidence against a category; a linear read-out of a few hundred examples cannot learn
    that reliably, so it is applied as a rule.
    """
    denied = {c for c, n in reading.negated.items() if n > 0 and reading.scores.get(c, 0.0) == 0.0}
    if not denied or all(p == 0.0 for c, p in posterior.items() if c not in denied):
        return posterior
    kept = {c: (0.0 if c in denied else p) for c, p in posterior.items()}
    total = sum(kept.values())
    return {c: p / total for c, p in kept.items()}


def state_from_posterior(posterior: dict[str, float], reading: CueReading) -> EmotionState:
    """An EmotionState from class probabilities and the text's cues (see the module docstring)."""
    # The point blends the category centres by the *sharpened* posterior (p^2, renormalised): a linear read-out
    # spreads a little probability over every class, and the high-arousal centres (anger, fear, joy, surprise)
    # would otherwise lend every unsure reading spurious arousal and intensity.
    sharp = {label: p * p for label, p in posterior.items()}
    total = sum(sharp.values()) or 1.0
    blend = [sum(p / total * VAD.of(label).as_tuple()[k] for label, p in sharp.items()) for k in range(3)]
    valence = (1 - _VADER_VALENCE_WEIGHT) * blend[0] + _VADER_VALENCE_WEIGHT * reading.compound
    arousal = blend[1] + reading.arousal_boost
    # Intensifiers amplify, hedges ("a bit", "kind of") soften: understatement lowers the stated intensity.
    gain = 1.0 + 0.15 * min(reading.intensifiers, 2) - 0.2 * min(reading.hedges, 1)
    vad = VAD(gain * valence, gain * arousal, gain * blend[2]).clipped()
    label = max(posterior, key=posterior.__getitem__)
    intensity = min(1.0, vad.distance(VAD(0.0, 0.0, 0.0)))
    mixture = {k: round(v, 4) for k, v in posterior.items()}
    return EmotionState(vad=vad, label=label, intensity=round(intensity, 4), mixture=mixture)


def perceive_text(text: str, perception: TextPerception | None = None) -> EmotionState:
    """A user-emotion estimate from words; pass a `TextPerception` to reuse it (building one fits a classifier)."""
    return (perception or TextPerception()).perceive(text)
