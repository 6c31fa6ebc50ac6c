"""Replies judged by what the user reads: the words' emotion, the mechanisms, closeness to the reference."""

from __future__ import annotations

import numpy as np
import pytest
from sacrebleu.metrics import BLEU

from agent.perception import TextPerception
from core.emotion import EmotionState
from research.eval.judge import REFERENCE_BASIC, ReplyJudge, bleu_statistics, corpus_bleu
from research.eval.runner import TurnResult

STATE = EmotionState.from_label("neutral", 0.0)


def turn(reply: str, reference: str | None) -> TurnResult:
    return TurnResult(0, "u", STATE, STATE, STATE, reply, "model", 0.0, 0.0, reference_reply=reference)


def bag_of_words(texts: list[str]) -> np.ndarray:
    """A stand-in sentence encoder: word counts over a tiny vocabulary (the judge's arithmetic is under test)."""
    vocabulary = ["sorry", "dog", "glad", "here"]
    return np.array([[text.lower().count(w) for w in vocabulary] for text in texts], dtype=float)


def test_words_strategies_and_reference_scores():
    judge = ReplyJudge(TextPerception().perceive, bag_of_words)
    result = judge.judge(turn("I'm so sorry about your dog. I'm here.", "I'm so sorry about your dog."))
    assert result.words is not None and result.words["label"] == "sadness"
    assert result.strategies == ["emotional_reaction"]
    assert result.reference_words is not None and result.reference_words["label"] == "sadness"
    # Vectors (1, 1, 0, 1) and (1, 1, 0, 0): cosine 2 / (sqrt 3 * sqrt 2).
    assert result.embedding_similarity == pytest.approx(2 / (3**0.5 * 2**0.5))
    assert 0.7 < (result.rouge_l or 0) < 1.0


def test_no_reference_no_reference_scores():
    result = ReplyJudge(TextPerception().perceive).judge(turn("That's wonderful news!", None))
    assert result.words is not None and result.words["label"] == "joy"
    assert (result.embedding_similarity, result.rouge_l, result.bleu_stats, result.reference_words) == (
        None,
        None,
        None,
        None,
    )


def test_summed_statistics_give_sacrebleu_corpus_bleu():
    bleu = BLEU()
    hypotheses = ["The cat sat on the mat today.", "I am so sorry to hear that.", "Hello there"]
    references = ["The cat was sitting on the mat.", "I am sorry to hear about that.", "Hi there friend"]
    stats = np.sum([bleu_statistics(bleu, h, r) for h, r in zip(hypotheses, references, strict=True)], axis=0)
    assert corpus_bleu(bleu, stats) == pytest.approx(bleu.corpus_score(hypotheses, [references]).score)


def test_every_palette_label_has_a_basic_emotion():
    from core.emotion import BASIC_EMOTIONS, PALETTE_VAD

    assert set(REFERENCE_BASIC) == set(PALETTE_VAD) and set(REFERENCE_BASIC.values()) <= set(BASIC_EMOTIONS)
