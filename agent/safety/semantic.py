"""The learned half of the crisis screen: logistic regression over sentence embeddings and spelling features.

What it reads: the all-MiniLM-L6-v2 token states of the message, mean-pooled after each of its last layers
(`CrisisModel.layers`, by default 4, 5 and 6) and concatenated (meaning: "I can't see a future where I'm still
here" lands near other goodbyes; the middle layers keep more of the wording than the last one, which
cross-validation on the training examples preferred) next to hashed word/character n-grams (agent.safety.ngrams:
the deciding words, slang and misspellings). The pooled layers come from one forward pass, the same cost as one
sentence embedding. A five-way softmax regression (none + the four categories) was fitted on the shipped,
hand-written examples (`data/crisis_train.jsonl`) by `python -m agent.safety.fit`, which also chose the decision
threshold by cross-validation on those examples only. The weights ship as `data/crisis_model.npz`, pinned by
`MODEL_SHA256`: a missing, corrupt or stale file raises `CrisisModelError` instead of leaving the screen to the
rules alone. A long message is read whole and sentence by sentence; its most alarming part counts, so one crisis
sentence inside small talk is not averaged away.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from agent.safety.ngrams import ngram_features
from agent.safety.verdict import CATEGORIES

DATA = Path(__file__).with_name("data")
TRAINING_SET = DATA / "crisis_train.jsonl"
MODEL_FILE = DATA / "crisis_model.npz"
# The sha256 of MODEL_FILE as `python -m agent.safety.fit` wrote it (it prints the new value after a refit).
MODEL_SHA256 = "b482a0b052338db87a1a839c7e29a718e552ca7fb982116ecf3f8a43e6381527"
LABELS: tuple[str, ...] = ("none", *CATEGORIES)
# Sentences beyond this many are not read one by one (the whole message still is): bounds the latency.
_MAX_PIECES = 6
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


class CrisisModelError(RuntimeError):
    """The learned detector's weights are missing, corrupt or do not fit the encoder; the message says what to do."""


class SentenceEncoder(Protocol):
    """A transformer encoder whose layers can be run one by one (agent.perception.minilm.MiniLmEncoder)."""

    @property
    def layers(self) -> int:
        """How many layers the encoder has."""
        ...

    def token_states(self, text: str, layers: int | None = None) -> npt.NDArray[np.float32]:
        """The token states of `text` after its first `layers` layers."""
        ...

    def run_layers(self, x: npt.NDArray[np.float32], start: int, stop: int) -> npt.NDArray[np.float32]:
        """Token states after `start` layers -> after `stop` layers."""
        ...


def pooled_layers(encoder: SentenceEncoder, texts: list[str], layers: tuple[int, ...]) -> npt.NDArray[np.float32]:
    """Per text, the unit-length mean of its token states after each of `layers` (1-based), in one forward pass.

    Shape (len(texts), len(layers), width). The row of the encoder's last layer is its sentence embedding.
    """
    rows = []
    for text in texts:
        states = encoder.token_states(text, layers=0)
        done, pooled = 0, []
        for layer in layers:
            states = encoder.run_layers(states, done, layer)
            done = layer
            mean = states.mean(0)
            pooled.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
        rows.append(np.stack(pooled))
    if not rows:
        return np.zeros((0, len(layers), 0), dtype=np.float32)
    out: npt.NDArray[np.float32] = np.stack(rows).astype(np.float32)
    return out


@dataclass(frozen=True)
class CrisisModel:
    """The fitted detector: softmax weights over [gain * pooled layers ; n-grams], threshold, and its examples."""

    weights: npt.NDArray[np.float32]  # (len(layers) * embedding width + n-gram dimension, len(LABELS))
    bias: npt.NDArray[np.float32]  # (len(LABELS),)
    embedding_gain: float
    ngram_dimension: int
    threshold: float  # crisis probability at or above which a message is flagged
    examples: tuple[str, ...]  # the crisis expressions fitted on, for `matched`
    example_labels: tuple[str, ...]
    example_embeddings: npt.NDArray[np.floating[Any]]  # (len(examples), embedding dimension), unit length
    train_sha256: str  # of the training file it was fitted on: a stale model is detectable
    layers: tuple[int, ...] = (4, 5, 6)  # the encoder layers (1-based) pooled; the last is the encoder's last

    @property
    def embedding_dimension(self) -> int:
        return int(self.weights.shape[0]) - self.ngram_dimension

    def save(self, path: Path) -> str:
        """Write the model as a compressed .npz; returns its sha256."""
        np.savez_compressed(
            path,
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float32),
            embedding_gain=np.float32(self.embedding_gain),
            ngram_dimension=np.int64(self.ngram_dimension),
            threshold=np.float32(self.threshold),
            labels=np.asarray(LABELS),
            examples=np.asarray(self.examples),
            example_labels=np.asarray(self.example_labels),
            example_embeddings=self.example_embeddings.astype(np.float16),
            train_sha256=np.asarray(self.train_sha256),
            layers=np.asarray(self.layers, dtype=np.int64),
        )
        return file_sha256(path)


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_crisis_model(path: Path = MODEL_FILE, sha256: str | None = MODEL_SHA256) -> CrisisModel:
    """Read and verify the shipped weights (`sha256=None` skips the pin, for freshly fitted files)."""
    path = Path(path)
    if not path.is_file():
        raise CrisisModelError(f"the crisis detector's weights {path} are missing; reinstall Empathica")
    if sha256 is not None and file_sha256(path) != sha256:
        raise CrisisModelError(
            f"the crisis detector's weights {path} do not match their sha256 (corrupt or changed); reinstall "
            "Empathica, or refit with `python -m agent.safety.fit` and pin the printed hash"
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            labels = tuple(str(v) for v in data["labels"])
            model = CrisisModel(
                weights=np.asarray(data["weights"], dtype=np.float32),
                bias=np.asarray(data["bias"], dtype=np.float32),
                embedding_gain=float(data["embedding_gain"]),
                ngram_dimension=int(data["ngram_dimension"]),
                threshold=float(data["threshold"]),
                examples=tuple(str(v) for v in data["examples"]),
                example_labels=tuple(str(v) for v in data["example_labels"]),
                example_embeddings=np.asarray(data["example_embeddings"], dtype=np.float32),
                train_sha256=str(data["train_sha256"]),
                layers=tuple(int(v) for v in data["layers"]),
            )
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise CrisisModelError(f"cannot read the crisis detector's weights {path}: {exc}") from exc
    if labels != LABELS or model.weights.shape[1] != len(LABELS) or model.bias.shape != (len(LABELS),):
        raise CrisisModelError(f"{path} is not a crisis detector for the labels {LABELS}")
    return model


@dataclass(frozen=True)
class SemanticReading:
    """The detector's view of one message: crisis probability, likeliest category, nearest crisis example."""

    score: float
    category: str
    nearest: str
    similarity: float  # cosine similarity of the deciding part to `nearest`
    flagged: bool


def split_pieces(text: str) -> list[str]:
    """The parts of a message that are read: the whole, and each sentence of two or more words when it has several."""
    whole = text.strip()
    sentences = [s.strip() for s in _SENTENCE_END.split(whole) if len(s.split()) >= 2]
    if len(sentences) <= 1:
        return [whole]
    return [whole, *sorted(sentences, key=len, reverse=True)[:_MAX_PIECES]]


class SemanticDetector:
    """Scores messages with a `CrisisModel` on top of a sentence encoder (shared with text perception)."""

    def __init__(self, encoder: SentenceEncoder, model: CrisisModel) -> None:
        self.model = model
        self._encoder = encoder
        if model.layers[-1] != encoder.layers:
            raise CrisisModelError(
                f"the crisis detector reads layers {model.layers} of a {encoder.layers}-layer encoder; refit it "
                "with `python -m agent.safety.fit`"
            )
        probe = pooled_layers(encoder, ["hello"], model.layers)
        if probe[0].size != model.embedding_dimension:
            raise CrisisModelError(
                f"the crisis detector expects {model.embedding_dimension} embedding features, the encoder gives "
                f"{probe[0].size}; refit it with `python -m agent.safety.fit`"
            )

    def features(self, texts: list[str]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.floating[Any]]]:
        """The model input for `texts` and their sentence embeddings (the last layer's)."""
        pooled = pooled_layers(self._encoder, texts, self.model.layers)
        x = model_input(pooled, texts, self.model.embedding_gain, self.model.ngram_dimension)
        return x, pooled[:, -1]

    def read(self, text: str) -> SemanticReading:
        """How alarming `text` is (the most alarming of its parts)."""
        pieces = split_pieces(text)
        if not pieces or not pieces[0]:
            return SemanticReading(0.0, CATEGORIES[0], "", 0.0, False)
        x, embeddings = self.features(pieces)
        probabilities = softmax(x @ self.model.weights + self.model.bias)
        crisis = 1.0 - probabilities[:, 0]
        best = int(np.argmax(crisis))
        category = LABELS[1 + int(np.argmax(probabilities[best, 1:]))]
        similarity = self.model.example_embeddings @ embeddings[best]
        nearest = int(np.argmax(similarity))
        score = float(crisis[best])
        return SemanticReading(
            score, category, self.model.examples[nearest], float(similarity[nearest]), score >= self.model.threshold
        )


def model_input(
    pooled: npt.NDArray[np.floating[Any]], texts: list[str], gain: float, ngram_dimension: int
) -> npt.NDArray[np.float32]:
    """[gain * pooled layers ; hashed n-grams], one row per text; `pooled` as `pooled_layers` gives it.

    The pooled layers are concatenated and scaled to unit length, so `gain` sets the balance with the n-grams
    whatever the number of layers.
    """
    n, count = pooled.shape[0], pooled.shape[1]
    embedding = pooled.reshape(n, -1) * (gain / np.sqrt(count))
    return np.hstack([embedding, ngram_features(texts, ngram_dimension)]).astype(np.float32)


def softmax(z: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.floating[Any]]:
    """Row-wise softmax."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))
