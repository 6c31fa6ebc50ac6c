"""The evaluation's metrics as pure functions over labels and texts (docs/research.md defines each one).

Macro-F1 comes from agent.perception.evaluation (the perception benchmark's definition); reply-emotion
appropriateness from agent.empathy.rules (the clamp the chain applies), so eval, benchmarks and the agent agree.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from agent.empathy.schema import STRATEGIES
from agent.perception.evaluation import f1_per_label, macro_f1

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

__all__ = [
    "LatencyStats",
    "confusion_matrix",
    "distinct_n",
    "distinct_n_rarefied",
    "f1_per_label",
    "latency_stats",
    "macro_f1",
    "ngrams",
    "rate",
    "strategy_mix",
    "tokens",
]


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens (contractions kept whole: "don't" is one token), punctuation dropped."""
    return _WORD.findall(text.lower())


def ngrams(text: str, n: int) -> list[tuple[str, ...]]:
    """The word n-grams of one text (tokens())."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    words = tokens(text)
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]


def distinct_n(texts: Iterable[str], n: int) -> float:
    """Dist-n (Li et al. 2016): distinct n-grams / all n-grams over every text (n-grams never cross texts).

    0.0 when there are no n-grams at all; 1.0 means no n-gram was ever repeated.
    """
    grams = [g for text in texts for g in ngrams(text, n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def distinct_n_rarefied(grams: Sequence[tuple[str, ...]], size: int) -> float | None:
    """Dist-n at a fixed number of n-grams: the expected share of distinct n-grams in `size` n-grams drawn
    without replacement from `grams` (rarefaction, Hurlbert 1971). Dist-n falls as text grows, so systems are
    compared at the same `size`; None when there are fewer than `size` n-grams (or size < 1).

    E[distinct] = sum over types t of 1 - C(N - c_t, size) / C(N, size), N = len(grams), c_t = count of t.
    """
    total = len(grams)
    if size < 1 or total < size:
        return None
    log_all = _log_choose(total, size)
    expected = 0.0
    for count in Counter(grams).values():
        absent = total - count
        expected += 1.0 - (math.exp(_log_choose(absent, size) - log_all) if absent >= size else 0.0)
    return expected / size


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def confusion_matrix(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> list[list[int]]:
    """Counts with rows = true label, columns = predicted label, both in the order of `labels`.

    Pairs with a label outside `labels` are not counted (they cannot be placed in the matrix).
    """
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} true labels but {len(predicted)} predictions")
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for t, p in zip(truth, predicted, strict=True):
        if t in index and p in index:
            matrix[index[t]][index[p]] += 1
    return matrix


def strategy_mix(strategies: Iterable[str]) -> dict[str, float]:
    """The share of each EPITOME strategy (agent.empathy.schema.STRATEGIES, all listed, 0.0 when unused)."""
    counts = Counter(strategies)
    unknown = set(counts) - set(STRATEGIES)
    if unknown:
        raise ValueError(f"unknown strategies {sorted(unknown)}; known: {', '.join(STRATEGIES)}")
    total = sum(counts.values())
    return {name: (counts[name] / total if total else 0.0) for name in STRATEGIES}


def rate(flags: Iterable[bool]) -> float | None:
    """The share of True values; None when there are none to count (a metric without data is not 0%)."""
    values = list(flags)
    return sum(values) / len(values) if values else None


@dataclass(frozen=True)
class LatencyStats:
    """Seconds per turn: mean, median, 90th percentile (nearest rank) and maximum over `count` turns."""

    count: int
    mean: float
    median: float
    p90: float
    max: float


def latency_stats(seconds: Sequence[float]) -> LatencyStats | None:
    """Summary of per-turn latencies; None for no turns."""
    if not seconds:
        return None
    ordered = sorted(seconds)
    p90 = ordered[max(0, -(-9 * len(ordered) // 10) - 1)]  # nearest rank: ceil(0.9 n)-th smallest
    return LatencyStats(len(ordered), statistics.fmean(ordered), statistics.median(ordered), p90, ordered[-1])
