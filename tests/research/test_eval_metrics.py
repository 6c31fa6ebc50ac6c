"""The eval metrics on tiny inputs with hand-computed expectations."""

from __future__ import annotations

import pytest

from research.eval.metrics import (
    confusion_matrix,
    distinct_n,
    latency_stats,
    macro_f1,
    rate,
    strategy_mix,
    tokens,
)


def test_tokens_lowercase_keep_contractions_and_drop_punctuation():
    assert tokens("Don't STOP, it's fine!") == ["don't", "stop", "it's", "fine"]


def test_distinct_n_counts_unique_ngrams_over_all_ngrams():
    replies = ["The cat sat.", "the cat ran"]
    # unigrams: the cat sat the cat ran -> 4 distinct of 6
    assert distinct_n(replies, 1) == pytest.approx(4 / 6)
    # bigrams: (the cat) (cat sat) (the cat) (cat ran) -> 3 distinct of 4; none crosses the two replies
    assert distinct_n(replies, 2) == pytest.approx(3 / 4)
    assert distinct_n(["hello"], 2) == 0.0 and distinct_n([], 1) == 0.0
    assert distinct_n(["a b c d"], 2) == 1.0
    with pytest.raises(ValueError):
        distinct_n(replies, 0)


def test_macro_f1_is_the_mean_of_per_label_f1():
    truth = ["joy", "joy", "sadness", "anger"]
    predicted = ["joy", "sadness", "sadness", "anger"]
    # joy: tp 1, fn 1 -> 2/3; sadness: tp 1, fp 1 -> 2/3; anger: 1
    assert macro_f1(truth, predicted, ["joy", "sadness", "anger"]) == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)


def test_confusion_matrix_rows_are_truth_columns_predictions():
    truth = ["joy", "joy", "sadness", "fear"]
    predicted = ["joy", "sadness", "sadness", "joy"]
    assert confusion_matrix(truth, predicted, ["joy", "sadness"]) == [[1, 1], [0, 1]]  # "fear" cannot be placed
    with pytest.raises(ValueError):
        confusion_matrix(["joy"], [], ["joy"])


def test_strategy_mix_lists_every_strategy_as_a_share():
    mix = strategy_mix(["exploration", "exploration", "interpretation", "emotional_reaction"])
    assert mix == {"emotional_reaction": 0.25, "interpretation": 0.25, "exploration": 0.5}
    assert strategy_mix([]) == {"emotional_reaction": 0.0, "interpretation": 0.0, "exploration": 0.0}
    with pytest.raises(ValueError, match="advice"):
        strategy_mix(["advice"])


def test_rate_and_latency_stats():
    assert rate([True, False, True, True]) == 0.75 and rate([]) is None
    stats = latency_stats([float(s) for s in range(10, 0, -1)])
    assert stats is not None
    assert (stats.count, stats.mean, stats.median, stats.p90, stats.max) == (10, 5.5, 5.5, 9.0, 10.0)
    assert latency_stats([]) is None
