"""Classification metrics for emotion recognition: macro-F1 (DESIGN §9: accuracy flatters a majority guess),
per-label F1, the confusion matrix, and the expected calibration error of the probability mixture.

`score_perceiver` runs any `perceive(text) -> EmotionState` over a labelled set (a JSONL file of
`{"text", "label"}` lines or a GoEmotions-format TSV, `load_labelled`) and returns all of them at once; the
benchmark (benchmarks/emotion_goemotions.py) and `empathica perceive --score` print them the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from agent.perception.goemotions import LabelledText, read_goemotions_tsv
from core.emotion import BASIC_EMOTIONS, EmotionState
from core.jsonl import read_labelled_lines


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


def confusion_matrix(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> npt.NDArray[np.int64]:
    """Counts, rows = true label, columns = predicted label, both in `labels` order."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(truth, predicted, strict=True):
        matrix[index[t], index[p]] += 1
    return matrix


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """ECE of top-label confidences: the mean |accuracy - confidence| over equal-width bins, weighted by size."""
    conf = np.asarray(confidence, dtype=np.float64)
    hit = np.asarray(correct, dtype=np.float64)
    if len(conf) == 0:
        return 0.0
    # Bin b holds confidences in (b/bins, (b+1)/bins]; a confidence of exactly 0 joins the first bin.
    which = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            total += members.mean() * abs(hit[members].mean() - conf[members].mean())
    return float(total)


@dataclass(frozen=True)
class Scores:
    """How well predictions match single-label truth: F1s, accuracy, ECE, confusion matrix (rows = truth)."""

    labels: tuple[str, ...]
    count: int
    skipped: int  # rows with more than one true label (scored only when a set has one label per row)
    macro_f1: float
    per_label_f1: dict[str, float]
    accuracy: float
    ece: float
    confusion: npt.NDArray[np.int64]

    def summary(self) -> str:
        """A few lines for a terminal: macro-F1, accuracy, ECE, then per-label F1."""
        lines = [
            f"{self.count} utterances scored"
            + (f" ({self.skipped} with several labels left out)" if self.skipped else ""),
            f"macro-F1 {self.macro_f1:.3f}   accuracy {self.accuracy:.3f}   ECE {self.ece:.3f}",
            "per-label F1: " + ", ".join(f"{k} {v:.2f}" for k, v in self.per_label_f1.items()),
        ]
        return "\n".join(lines)


def score(
    truth: Sequence[str], mixtures: Sequence[dict[str, float]], labels: Sequence[str] = BASIC_EMOTIONS, skipped: int = 0
) -> Scores:
    """Scores of probability mixtures against true labels; the prediction is each mixture's most probable label."""
    labels = tuple(labels)
    predicted = [_most_probable(m, labels) for m in mixtures]
    confidence = [m.get(p, 0.0) for m, p in zip(mixtures, predicted, strict=True)]
    correct = [t == p for t, p in zip(truth, predicted, strict=True)]
    return Scores(
        labels=labels,
        count=len(truth),
        skipped=skipped,
        macro_f1=macro_f1(truth, predicted, labels),
        per_label_f1=f1_per_label(truth, predicted, labels),
        accuracy=sum(correct) / max(1, len(correct)),
        ece=expected_calibration_error(confidence, correct),
        confusion=confusion_matrix(truth, predicted, labels),
    )


def _most_probable(mixture: dict[str, float], labels: Sequence[str]) -> str:
    return max(labels, key=lambda label: mixture.get(label, 0.0))


def load_labelled(path: Path) -> list[LabelledText]:
    """A labelled set: JSONL lines `{"text": ..., "label": ...}`, or a GoEmotions-format `.tsv` file."""
    path = Path(path)
    if path.suffix.lower() == ".tsv":
        return read_goemotions_tsv(path)
    rows = []
    for number, text, label, _ in read_labelled_lines(path):
        if label not in BASIC_EMOTIONS:
            raise ValueError(f"{path}:{number}: label {label!r} is not one of {', '.join(BASIC_EMOTIONS)}")
        rows.append(LabelledText(text, (label,)))
    return rows


def score_perceiver(perceive: Callable[[str], EmotionState], examples: Sequence[LabelledText]) -> Scores:
    """Run `perceive` on every example with exactly one label and score its mixtures (multi-label rows skipped)."""
    single = [e for e in examples if e.single is not None]
    mixtures = [_mixture(perceive(e.text)) for e in single]
    return score([str(e.single) for e in single], mixtures, skipped=len(examples) - len(single))


def _mixture(state: EmotionState) -> dict[str, float]:
    # A state without a mixture (e.g. a fixed reading) counts as certain of its label.
    return state.mixture or {state.label: 1.0}


def plot_confusion(scores: Scores, path: Path, title: str = "") -> Path:
    """Save the confusion matrix as a PNG (rows normalised to recall, counts written in the cells)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = scores.confusion
    recall = counts / np.maximum(1, counts.sum(1, keepdims=True))
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    image = ax.imshow(recall, cmap="Blues", vmin=0.0, vmax=1.0)
    ticks = range(len(scores.labels))
    ax.set_xticks(ticks, scores.labels, rotation=45, ha="right")
    ax.set_yticks(ticks, scores.labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in ticks:
        for j in ticks:
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", color="white" if recall[i, j] > 0.5 else "black")
    ax.set_title(title or f"macro-F1 {scores.macro_f1:.3f}, n = {scores.count}")
    fig.colorbar(image, ax=ax, label="share of the true label")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
