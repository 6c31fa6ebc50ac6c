"""The learned half of the crisis screen: logistic regression over a sentence embedding and spelling features.

What it reads: the all-MiniLM-L6-v2 embedding of the message (meaning: "I can't see a future where I'm still
here" lands near other goodbyes) next to hashed word/character n-grams (agent.safety.ngrams: the deciding
words, slang and misspellings). A five-way softmax regression (none + the four categories) was fitted on the
shipped, hand-written examples (`data/crisis_train.jsonl`) by `python -m agent.safety.fit`, which also chose
the decision threshold by cross-validation on those examples only. The weights ship as `data/crisis_model.npz`,
pinned by `MODEL_SHA256`: a missing, corrupt or stale file raises `CrisisModelError` instead of leaving the
screen to the rules alone. A long message is read whole and sentence by sentence; its most alarming part counts,
so one crisis sentence inside small talk is not averaged away.
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
MODEL_SHA256 = "11e61aad78ac6eb807c769e54aaa3de18af2c1fc52c2dcd625a6c28bd68e9d94"
LABELS: tuple[str, ...] = ("none", *CATEGORIES)
# Sentences beyond this many are not read one by one (the whole message still is): bounds the latency.
_MAX_PIECES = 6
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


class CrisisModelError(RuntimeError):
    """The learned detector's weights are missing, corrupt or do not fit the encoder; the message says what to do."""


class SentenceEncoder(Protocol):
    """Turns sentences into unit-length vectors (agent.perception.minilm.MiniLmEncoder)."""

    def encode(self, texts: list[str]) -> npt.NDArray[np.floating[Any]]:
        """One row per text."""
        ...


@dataclass(frozen=True)
class CrisisModel:
    """The fitted detector: softmax weights over [gain * embedding ; n-grams], threshold, and its examples."""

    weights: npt.NDArray[np.float32]  # (embedding + n-gram dimension, len(LABELS))
    bias: npt.NDArray[np.float32]  # (len(LABELS),)
    embedding_gain: float
    ngram_dimension: int
    threshold: float  # crisis probability at or above which a message is flagged
    examples: tuple[str, ...]  # the crisis expressions fitted on, for `matched`
    example_labels: tuple[str, ...]
    example_embeddings: npt.NDArray[np.floating[Any]]  # (len(examples), embedding dimension), unit length
    train_sha256: str  # of the training file it was fitted on: a stale model is detectable

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
        probe = encoder.encode(["hello"])
        if probe.shape[1] != model.embedding_dimension:
            raise CrisisModelError(
                f"the crisis detector expects {model.embedding_dimension}-d embeddings, the encoder gives "
                f"{probe.shape[1]}; refit it with `python -m agent.safety.fit`"
            )

    def features(self, texts: list[str]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.floating[Any]]]:
        """The model input for `texts` and their embeddings."""
        embeddings = self._encoder.encode(texts)
        return model_input(embeddings, texts, self.model.embedding_gain, self.model.ngram_dimension), embeddings

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
    embeddings: npt.NDArray[np.floating[Any]], texts: list[str], gain: float, ngram_dimension: int
) -> npt.NDArray[np.float32]:
    """[gain * embedding ; hashed n-grams], one row per text."""
    return np.hstack([gain * embeddings, ngram_features(texts, ngram_dimension)]).astype(np.float32)


def softmax(z: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.floating[Any]]:
    """Row-wise softmax."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))
