"""Judge each reply by what the user reads: its words' emotion, its empathy mechanisms, its closeness to the
reference reply. Nothing here reads the plan the agent gave itself.

- words: the same text perceiver that reads the user (agent.perception.TextPerception) reads the reply alone;
- strategies: the cue detector of research.eval.strategy;
- reference: cosine similarity of MiniLM sentence embeddings (agent.perception.minilm), ROUGE-L F1 (rouge-score,
  Porter stemming) and sacrebleu's BLEU sufficient statistics (summed over turns for a corpus BLEU).

Judgements are cached by text: reference replies recur in every variant and seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from agent.base import Perceiver
from core.emotion import EmotionState
from research.eval.runner import DialogueResult, TurnResult
from research.eval.strategy import detect_strategies

# Each reference reply emotion (a basic label or the agent's finer palette) as the basic emotion a face, a voice
# or the text perceiver can show. The palette's VAD centres alone would send "calm" to joy (the nearest basic
# centre), which is not what a calm reply looks or sounds like.
REFERENCE_BASIC: dict[str, str] = {
    "anger": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "joy": "joy",
    "neutral": "neutral",
    "sadness": "sadness",
    "surprise": "surprise",
    "calm": "neutral",
    "hopeful": "joy",
    "interested": "surprise",
    "thankful": "joy",
    "regretful": "sadness",
    "discouraged": "sadness",
    "shamed": "sadness",
}

Encoder = Callable[[list[str]], np.ndarray]  # unit-length sentence embeddings, one row per text


@dataclass(frozen=True)
class Judgement:
    """What one reply shows: its words' emotion, its mechanisms, and its closeness to the reference reply."""

    words: dict[str, Any] | None  # EmotionState.to_dict() of the reply text; None for an empty reply
    strategies: list[str]
    reference_words: dict[str, Any] | None  # the reference reply read the same way (the words metric's validity)
    embedding_similarity: float | None
    rouge_l: float | None
    bleu_stats: list[int] | None  # sacrebleu BLEU statistics (matches and totals per order, lengths)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return asdict(self)


class ReplyJudge:
    """Judges replies; `perceive` reads text, `encode` (optional) embeds it for the similarity to the reference."""

    def __init__(self, perceive: Perceiver, encode: Encoder | None = None) -> None:
        from rouge_score.rouge_scorer import RougeScorer
        from sacrebleu.metrics import BLEU

        self._perceive = perceive
        self._encode = encode
        self._rouge = RougeScorer(["rougeL"], use_stemmer=True)
        self._bleu = BLEU()
        self._read: dict[str, EmotionState] = {}
        self._vectors: dict[str, np.ndarray] = {}

    def judge(self, turn: TurnResult) -> Judgement:
        """The judgement of one turn's reply (and its reference, where the dialogue has one)."""
        reply, reference = turn.reply.strip(), (turn.reference_reply or "").strip()
        both = bool(reply and reference)
        return Judgement(
            words=self.read(reply).to_dict() if reply else None,
            strategies=sorted(detect_strategies(reply)) if reply else [],
            reference_words=self.read(reference).to_dict() if reference else None,
            embedding_similarity=self.similarity(reply, reference) if both and self._encode else None,
            rouge_l=float(self._rouge.score(reference, reply)["rougeL"].fmeasure) if both else None,
            bleu_stats=bleu_statistics(self._bleu, reply, reference) if both else None,
        )

    def judge_all(self, results: list[DialogueResult]) -> None:
        """Fill `judged` of every turn."""
        for result in results:
            for turn in result.turns:
                turn.judged = self.judge(turn).to_dict()

    def read(self, text: str) -> EmotionState:
        """The text perceiver's reading of `text` on its own (no earlier utterances in view)."""
        if text not in self._read:
            self._read[text] = self._perceive(text, ())
        return self._read[text]

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of the two texts' sentence embeddings."""
        assert self._encode is not None
        missing = [t for t in (a, b) if t not in self._vectors]
        if missing:
            for text, vector in zip(missing, self._encode(missing), strict=True):
                self._vectors[text] = np.asarray(vector, dtype=np.float64)
        u, v = self._vectors[a], self._vectors[b]
        norm = float(np.linalg.norm(u) * np.linalg.norm(v))
        return float(u @ v / norm) if norm else 0.0


def bleu_statistics(bleu: Any, hypothesis: str, reference: str) -> list[int]:
    """sacrebleu's sufficient statistics of one hypothesis against one reference; summed over a corpus they
    give its corpus BLEU (`corpus_bleu`). Uses sacrebleu's statistics methods (pinned version, see
    requirements.lock): its own bootstrap resampling works the same way."""
    return [int(x) for x in bleu._extract_corpus_statistics([hypothesis], [[reference]])[0]]


def corpus_bleu(bleu: Any, statistics: np.ndarray) -> float:
    """Corpus BLEU (0-100) from summed sufficient statistics."""
    return float(bleu._compute_score_from_stats([int(x) for x in statistics]).score)
