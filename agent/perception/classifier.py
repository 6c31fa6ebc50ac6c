"""A small multinomial logistic-regression classifier (softmax regression), fitted with numpy and L-BFGS.

Why this model: with a few hundred labelled utterances, a linear read-out of good sentence embeddings plus a
handful of lexical features is the strongest thing that does not overfit, and it trains in well under a second,
so it can be fitted at start-up from the shipped examples instead of shipping opaque weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from core.jsonl import read_labelled_lines


@dataclass(frozen=True)
class Example:
    """One labelled utterance."""

    text: str
    label: str


def load_examples(path: Path) -> list[Example]:
    """Read a JSONL file of `{"text": ..., "label": ...}` lines (blank lines ignored)."""
    return [Example(text, label) for _, text, label, _ in read_labelled_lines(path)]


@dataclass(frozen=True)
class SoftmaxClassifier:
    """Standardised features -> class probabilities; `labels` orders the columns."""

    labels: tuple[str, ...]
    mean: npt.NDArray[np.float64]
    scale: npt.NDArray[np.float64]
    weights: npt.NDArray[np.float64]  # (features, classes)
    bias: npt.NDArray[np.float64]  # (classes,)

    @classmethod
    def fit(
        cls,
        x: npt.NDArray[np.floating[Any]],
        y: Sequence[str],
        labels: Sequence[str],
        l2: float = 1.0,
        gain: npt.NDArray[np.floating[Any]] | None = None,
    ) -> SoftmaxClassifier:
        """Fit by minimising mean cross-entropy + l2/n * ||W||^2 (deterministic: L-BFGS from zeros).

        Features are standardised, then multiplied by `gain` (default 1): a gain above 1 lets a feature group
        speak with less regularisation (a few lexical cues next to 384 embedding dimensions).
        """
        labels = tuple(labels)
        unknown = sorted(set(y) - set(labels))
        if unknown:
            raise ValueError(f"training labels {unknown} are not among {labels}")
        x = np.asarray(x, dtype=np.float64)
        mean = x.mean(0)
        # Constant features (std 0) get scale 1 so they stay zero instead of dividing by zero.
        scale = np.where(x.std(0) > 1e-8, x.std(0), 1.0)
        if gain is not None:
            scale = scale / np.asarray(gain, dtype=np.float64)
        z = (x - mean) / scale
        n, f = z.shape
        k = len(labels)
        onehot = np.zeros((n, k))
        onehot[np.arange(n), [labels.index(label) for label in y]] = 1.0

        def loss(theta: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
            w, b = theta[: f * k].reshape(f, k), theta[f * k :]
            logits = z @ w + b
            logits -= logits.max(1, keepdims=True)
            log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
            value = -(onehot * log_p).sum() / n + l2 / n * (w**2).sum()
            grad_logits = (np.exp(log_p) - onehot) / n
            grad_w = z.T @ grad_logits + 2 * l2 / n * w
            return value, np.concatenate([grad_w.ravel(), grad_logits.sum(0)])

        result = minimize(loss, np.zeros(f * k + k), jac=True, method="L-BFGS-B", options={"maxiter": 500})
        theta = result.x
        return cls(labels, mean, scale, theta[: f * k].reshape(f, k), theta[f * k :])

    def predict_proba(self, x: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float64]:
        """Class probabilities, one row per feature row."""
        z = (np.atleast_2d(np.asarray(x, dtype=np.float64)) - self.mean) / self.scale
        logits = z @ self.weights + self.bias
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        probabilities: npt.NDArray[np.float64] = p / p.sum(1, keepdims=True)
        return probabilities
