"""The user's emotion from their words: a MiniLM model fine-tuned on real text, plus lexical cues.

How: the live reader is `agent.perception.emotion_model` (MiniLM's top two layers fine-tuned on GoEmotions'
Reddit comments mapped to the seven basic emotions, plus the project's hand-written lines; temperature-calibrated).
Its class probabilities are the label mixture. The VAD point is the sharpened probability-weighted blend of the
category centres, with valence nudged by VADER's polarity, arousal raised by typography (!!, CAPS, emoji) and the
whole point scaled by intensifiers and hedges ("so very sad" vs "a bit down"). Without the trained model a
softmax-regression classifier over [MiniLM sentence embedding ; lexical cue features] is fitted at start-up on the
shipped hand-written set (`data/emotion_dev.jsonl`); without an encoder it runs on the lexical features alone, a
weaker but model-free fallback (unit tests, `perceive_text`). Text-only arousal is weak (arousal shows in the voice
more than in words): the voice refines it (`agent.perception.fusion`).

Context: a short reply ("I'm fine.", "whatever") says little on its own, so its mixture leans on the reading of
the user's previous utterances, the more the shorter it is and the more emotional they were (`ContextBlend`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from agent.perception.classifier import SoftmaxClassifier, load_examples
from agent.perception.emotion_model import WEIGHTS, WEIGHTS_SHA256, EmotionModel, load_emotion_model
from agent.perception.lexical import FEATURE_NAMES, CueReading, LexicalCues
from core.emotion import BASIC_EMOTIONS, VAD, EmotionState

DEV_SET = Path(__file__).with_name("data") / "emotion_dev.jsonl"
# Classifier settings chosen by 5-fold cross-validation on the dev set only (benchmarks/emotion_accuracy.py --cv):
# L2 strength, and the gain of the lexical features next to the 384 embedding dimensions.
DEFAULT_L2 = 300.0
LEXICAL_GAIN = 3.0
# How much VADER's polarity moves the valence of the blended point (it handles negation and "but" clauses).
_VADER_VALENCE_WEIGHT = 0.25
# Readings of recent texts kept for reuse: the context of a turn is the previous turns, already read once.
_POSTERIOR_CACHE = 256


class SentenceEncoder(Protocol):
    """Anything that turns sentences into fixed-length vectors (agent.perception.minilm.MiniLmEncoder)."""

    def encode(self, texts: list[str]) -> npt.NDArray[np.floating[Any]]:
        """One row per text."""
        ...


@dataclass(frozen=True)
class ContextBlend:
    """How much a short utterance's mixture leans on the user's previous utterances.

    weight = max_weight * shortness * emotionality, where shortness is 1 up to `short_words` words and falls
    linearly to 0 at `long_words`, and emotionality is 1 - the context's neutral probability (a neutral context
    says nothing about a short "yay!"). The context's reading averages the last `turns` utterances, each older
    one weighing `decay` times the next.
    """

    max_weight: float = 0.6
    short_words: int = 4
    long_words: int = 10
    turns: int = 2
    decay: float = 0.5

    def weight(self, words: int, context: dict[str, float]) -> float:
        """The context's share of the blended mixture for an utterance of `words` words."""
        span = max(1, self.long_words - self.short_words)
        shortness = min(1.0, max(0.0, (self.long_words - words) / span))
        return self.max_weight * shortness * (1.0 - context.get("neutral", 0.0))


NO_CONTEXT = ContextBlend(max_weight=0.0)


class TextPerception:
    """Estimates a user's emotion from text; build once (it loads or fits its classifier) and reuse across turns.

    `emotion_model` (with an encoder that gives token states) is the trained reader; without it the classifier is
    fitted at start-up on `training`.
    """

    def __init__(
        self,
        encoder: SentenceEncoder | None = None,
        training: Path = DEV_SET,
        l2: float = DEFAULT_L2,
        lexical_gain: float = LEXICAL_GAIN,
        emotion_model: EmotionModel | None = None,
        context_blend: ContextBlend = ContextBlend(),
    ) -> None:
        self._cues = LexicalCues()
        self._encoder = encoder
        self._model = emotion_model
        self._context_blend = context_blend
        self._classifier: SoftmaxClassifier | None = None
        if emotion_model is not None:
            if not hasattr(encoder, "token_states"):
                raise ValueError("the emotion model needs an encoder that gives token states (MiniLmEncoder)")
            if tuple(emotion_model.labels) != BASIC_EMOTIONS:
                raise ValueError(f"the emotion model's labels {emotion_model.labels} are not {BASIC_EMOTIONS}")
        else:
            examples = load_examples(training)
            x = self.features([e.text for e in examples])
            gain = np.ones(x.shape[1])
            if encoder is not None:
                gain[-len(FEATURE_NAMES) :] = lexical_gain
            labels = [e.label for e in examples]
            self._classifier = SoftmaxClassifier.fit(x, labels, BASIC_EMOTIONS, l2=l2, gain=gain)
        self._cached = lru_cache(maxsize=_POSTERIOR_CACHE)(self._posterior_tuple)

    @property
    def uses_embeddings(self) -> bool:
        return self._encoder is not None

    @property
    def uses_trained_model(self) -> bool:
        """True when the GoEmotions-trained model reads the words (not the start-up classifier)."""
        return self._model is not None

    def features(self, texts: list[str]) -> npt.NDArray[np.floating[Any]]:
        """The start-up classifier's input for `texts`: embeddings (when an encoder is set) and lexical features."""
        lexical = np.stack([self._cues.read(t).features() for t in texts]) if texts else np.zeros((0, 0))
        if self._encoder is None:
            return lexical
        return np.hstack([self._encoder.encode(list(texts)), lexical])

    def posterior(self, text: str) -> dict[str, float]:
        """Probability of each basic emotion given `text` alone (before the negation rule and context)."""
        return dict(zip(BASIC_EMOTIONS, self._cached(text), strict=True))

    def _posterior_tuple(self, text: str) -> tuple[float, ...]:
        if self._model is not None:
            encoder: Any = self._encoder  # checked in __init__: it has token_states
            p = self._model.probabilities(encoder.token_states(text, self._model.start_layer))
            return tuple(float(v) for v in p)
        assert self._classifier is not None
        p = self._classifier.predict_proba(self.features([text]))[0]
        by_label = dict(zip(self._classifier.labels, (float(v) for v in p), strict=True))
        return tuple(by_label[label] for label in BASIC_EMOTIONS)

    def perceive(self, text: str, context: Sequence[str] = ()) -> EmotionState:
        """The user's emotion as read from `text` (neutral for empty text), with the user's previous utterances
        `context` (oldest first) in view: a short reply ("I'm fine.") leans on how they felt just before
        (`ContextBlend`); a longer one stands on its own words."""
        reading = self._cues.read(text)
        if reading.empty:
            return EmotionState.from_label("neutral", 0.0)
        posterior = _without_negated(self.posterior(text), reading)
        before = self.context_posterior(context)
        if before is not None:
            share = self._context_blend.weight(len(text.split()), before)
            posterior = {k: (1 - share) * p + share * before[k] for k, p in posterior.items()}
        return state_from_posterior(posterior, reading)

    def context_posterior(self, context: Sequence[str]) -> dict[str, float] | None:
        """The recency-weighted mean reading of the last few non-empty utterances of `context` (None: none)."""
        recent = [t for t in context if t.strip()][-self._context_blend.turns :] if self._context_blend.turns else []
        if not recent:
            return None
        weights = [self._context_blend.decay ** (len(recent) - 1 - i) for i in range(len(recent))]
        total = sum(weights)
        readings = [self.posterior(t) for t in recent]
        return {k: sum(w * r[k] for w, r in zip(weights, readings, strict=True)) / total for k in BASIC_EMOTIONS}


def load_text_perception(
    minilm: SentenceEncoder, weights: Path | None = None, checksum: Path | None = None
) -> TextPerception:
    """The live perceiver: the trained model (default: the shipped one, sha256-verified; EmotionModelError if it
    is missing or corrupt) over the `minilm` encoder."""
    model = load_emotion_model(weights or WEIGHTS, checksum or WEIGHTS_SHA256)
    return TextPerception(minilm, emotion_model=model)


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
