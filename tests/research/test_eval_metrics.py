"""The eval metrics on tiny inputs with hand-computed expectations."""

from __future__ import annotations

import pytest

from research.eval.metrics import (
    confusion_matrix,
    distinct_n,
    distinct_n_rarefied,
    latency_stats,
    macro_f1,
    ngrams,
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


def test_rarefied_dist_n_is_the_expected_share_of_distinct_ngrams_in_a_sample():
    grams = ngrams("a b a c a b d", 1)  # a x3, b x2, c, d: 7 unigrams, 4 distinct
    assert distinct_n_rarefied(grams, 7) == pytest.approx(4 / 7)  # the whole text: plain Dist-1
    assert distinct_n_rarefied(grams, 1) == pytest.approx(1.0)  # one unigram is always distinct
    # Two of seven without replacement: E[distinct] = sum_t 1 - C(7 - c_t, 2) / C(7, 2) = 4 - (6 + 10 + 15 + 15) / 21
    assert distinct_n_rarefied(grams, 2) == pytest.approx((4 - 46 / 21) / 2)
    assert distinct_n_rarefied(grams, 8) is None and distinct_n_rarefied(grams, 0) is None


def test_rarefaction_removes_the_length_advantage_of_short_texts():
    short = ngrams("one two three four", 1)
    long = ngrams("one two three four one two three four five six", 1)
    assert distinct_n(["one two three four"], 1) > distinct_n(["one two three four one two three four five six"], 1)
    # At the same size, the long text (which repeats itself) is no more diverse than the short one.
    assert distinct_n_rarefied(long, len(short)) < distinct_n_rarefied(short, len(short))
