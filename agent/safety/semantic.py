"""The learned half of the crisis screen: MiniLM's top layers fine-tuned to tell a crisis from everyday talk.

What it reads: the shared all-MiniLM-L6-v2 encoder runs its first `start_layer` layers over the message; the
detector continues through its own fine-tuned copies of the top layers, mean-pools the tokens and reads five
scores (none + the four categories). That reader has the text-emotion model's form and file layout
(agent.perception.emotion_model.EmotionModel, with crisis labels); a check costs one pass of the encoder.
`python -m research.crisis_model.train --goemotions DIR` fits it on the shipped, hand-written examples
(`data/crisis_train.jsonl`) and, as everyday negatives, real Reddit comments (read from DIR, never stored), and
chooses the decision threshold by cross-validation on those examples only.

Why fine-tuned: a linear read-out over the frozen encoder's layers and hashed n-grams (the detector until
2026-12-02) caught 89 % of the held-out split's crises; the fine-tuned top layers learn what decides a crisis
("I've picked a date", "three months clean and I just ruined it") instead of the topic of the sentence.

The weights ship as `data/crisis_model.npz`, pinned by `MODEL_SHA256`: a missing, corrupt or stale file raises
`CrisisModelError` instead of leaving the screen to the rules alone. A long message is read whole and sentence by
sentence; its most alarming part counts, so one crisis sentence inside small talk is not averaged away. The
pieces go through the encoder in one packed pass (each attending only to itself), which reads the weights once.
`matched` is the training example nearest to that part in the reader's own pooled space.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from agent.perception.emotion_model import (
    EmotionModel,
    EmotionModelError,
    TokenEncoder,
    model_arrays,
    model_from_arrays,
    softmax,
)
from agent.safety.verdict import CATEGORIES
from core.provision import sha256_file

DATA = Path(__file__).with_name("data")
TRAINING_SET = DATA / "crisis_train.jsonl"
MODEL_FILE = DATA / "crisis_model.npz"
# The sha256 of MODEL_FILE as `python -m research.crisis_model.train` wrote it (it prints the new value).
MODEL_SHA256 = "b59ad068d7a84dc2d37c7ba90cb680382f5c7e92f142b33021afb9cebc1d2a02"
LABELS: tuple[str, ...] = ("none", *CATEGORIES)
_REFIT = "refit it with `python -m research.crisis_model.train --goemotions DIR` and pin the printed hash"
# Sentences beyond this many are not read one by one (the whole message still is): bounds the latency.
_MAX_PIECES = 6
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
Floats = npt.NDArray[np.float32]


class CrisisModelError(RuntimeError):
    """The learned detector's weights are missing, corrupt or do not fit the encoder; the message says what to do."""


@dataclass(frozen=True)
class CrisisModel:
    """The fitted detector: the fine-tuned reader, its threshold, and the crisis examples it was fitted on."""

    reader: EmotionModel  # labels: LABELS
    threshold: float  # crisis probability (1 - P(none)) at or above which a message is flagged
    examples: tuple[str, ...]  # the crisis expressions fitted on, for `matched`
    example_labels: tuple[str, ...]
    example_embeddings: npt.NDArray[np.floating[Any]]  # (len(examples), width): their pooled states, unit length
    train_sha256: str  # of the training file it was fitted on: a stale model is detectable

    def save(self, path: Path) -> str:
        """Write the model as a compressed .npz; returns its sha256."""
        np.savez_compressed(
            path,
            **model_arrays(self.reader),
            threshold=np.float32(self.threshold),
            examples=np.asarray(self.examples),
            example_labels=np.asarray(self.example_labels),
            example_embeddings=self.example_embeddings.astype(np.float16),
            train_sha256=np.asarray(self.train_sha256),
        )
        return sha256_file(path)

    def probabilities(self, pooled: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float64]:
        """P(none), P(suicide) ... in `LABELS` order, from a text's pooled states (`reader.pooled`)."""
        return softmax(self.reader.read_out(np.asarray(pooled, dtype=np.float32)) / self.reader.temperature)


def unit(vector: npt.NDArray[np.floating[Any]]) -> Floats:
    """`vector` scaled to length 1 (float32)."""
    out: Floats = np.asarray(vector / max(float(np.linalg.norm(vector)), 1e-12), dtype=np.float32)
    return out


def load_crisis_model(path: Path = MODEL_FILE, sha256: str | None = MODEL_SHA256) -> CrisisModel:
    """Read and verify the shipped weights (`sha256=None` skips the pin, for freshly fitted files)."""
    path = Path(path)
    if not path.is_file():
        raise CrisisModelError(f"the crisis detector's weights {path} are missing; reinstall Empathica")
    if sha256 is not None and sha256_file(path) != sha256:
        raise CrisisModelError(
            f"the crisis detector's weights {path} do not match their sha256 (corrupt or changed); reinstall "
            f"Empathica, or {_REFIT}"
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        model = CrisisModel(
            reader=model_from_arrays(arrays, f"the crisis detector {path}", _REFIT),
            threshold=float(arrays["threshold"]),
            examples=tuple(str(v) for v in arrays["examples"]),
            example_labels=tuple(str(v) for v in arrays["example_labels"]),
            example_embeddings=np.asarray(arrays["example_embeddings"], dtype=np.float32),
            train_sha256=str(arrays["train_sha256"]),
        )
    except EmotionModelError as exc:
        raise CrisisModelError(str(exc)) from None
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise CrisisModelError(f"cannot read the crisis detector's weights {path}: {exc}") from exc
    if model.reader.labels != LABELS or model.reader.head_bias.shape != (len(LABELS),):
        raise CrisisModelError(f"{path} is not a crisis detector for the labels {LABELS}")
    if model.example_embeddings.shape != (len(model.examples), model.reader.head_weight.shape[1]):
        raise CrisisModelError(f"{path}: the crisis examples and their embeddings do not match; {_REFIT}")
    return model


@dataclass(frozen=True)
class SemanticReading:
    """The detector's view of one message: crisis probability, likeliest category, nearest crisis example."""

    score: float
    category: str
    nearest: str
    similarity: float  # cosine similarity of the deciding part to `nearest` in the reader's pooled space
    flagged: bool


def split_pieces(text: str) -> list[str]:
    """The parts of a message that are read: the whole, and each sentence of two or more words when it has several."""
    whole = text.strip()
    sentences = [s.strip() for s in _SENTENCE_END.split(whole) if len(s.split()) >= 2]
    if len(sentences) <= 1:
        return [whole]
    return [whole, *sorted(sentences, key=len, reverse=True)[:_MAX_PIECES]]


class SemanticDetector:
    """Scores messages with a `CrisisModel` on top of the shared encoder's lower layers."""

    def __init__(self, encoder: TokenEncoder, model: CrisisModel) -> None:
        self.model = model
        self._encoder = encoder
        reader = model.reader
        if reader.start_layer + len(reader.layers) != encoder.layers:
            raise CrisisModelError(
                f"the crisis detector continues a {reader.start_layer + len(reader.layers)}-layer encoder from its "
                f"layer {reader.start_layer}, the encoder has {encoder.layers} layers; {_REFIT}"
            )
        width = np.asarray(encoder.token_states("hello", reader.start_layer)).shape[-1]
        if width != reader.head_weight.shape[1]:
            raise CrisisModelError(
                f"the crisis detector reads {reader.head_weight.shape[1]}-wide token states, the encoder gives "
                f"{width}; {_REFIT}"
            )

    def read(self, text: str) -> SemanticReading:
        """How alarming `text` is (the most alarming of its parts)."""
        pieces = split_pieces(text)
        if not pieces or not pieces[0]:
            return SemanticReading(0.0, CATEGORIES[0], "", 0.0, False)
        # All the pieces in one pass: a short piece costs mostly the reading of the weights, shared this way.
        reader = self.model.reader
        pooled = reader.pooled_many(self._encoder.token_states_many(pieces, reader.start_layer))
        probabilities = np.stack([self.model.probabilities(v) for v in pooled])
        crisis = 1.0 - probabilities[:, 0]
        best = int(np.argmax(crisis))
        category = LABELS[1 + int(np.argmax(probabilities[best, 1:]))]
        similarity = self.model.example_embeddings @ unit(pooled[best])
        nearest = int(np.argmax(similarity))
        score = float(crisis[best])
        return SemanticReading(
            score, category, self.model.examples[nearest], float(similarity[nearest]), score >= self.model.threshold
        )
