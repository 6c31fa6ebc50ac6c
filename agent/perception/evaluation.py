"""Classification metrics for emotion recognition: macro-F1 (accuracy flatters a majority guess)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence


def f1_per_label(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict[str, float]:
    """F1 of each label (0 where a label is never predicted correctly)."""
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} true labels but {len(predicted)} predictions")
    scores = {}
    for label in labels:
        tp = sum(t == label and p == label for t, p in zip(truth, predicted, strict=True))
        fp = sum(t != label and p == label for t, p in zip(truth, predicted, strict=True))
        fn = sum(t == label and p != label for t, p in zip(truth, predicted, strict=True))
        scores[label] = 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
    return scores


def macro_f1(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    """The unweighted mean of the per-label F1 scores."""
    scores = f1_per_label(truth, predicted, labels)
    return sum(scores.values()) / len(scores)


def majority_label(labels: Sequence[str]) -> str:
    """The most frequent label (ties: the first in sorted order, so the baseline is reproducible)."""
    counts = Counter(labels)
    best = max(counts.values())
    return sorted(label for label, n in counts.items() if n == best)[0]
