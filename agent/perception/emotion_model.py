"""The trained text-emotion model: MiniLM's top layers fine-tuned on GoEmotions, a linear read-out, a temperature.

The same kind of reader, with other labels, is the crisis detector's learned part (agent.safety.semantic): both are
"MiniLM's lower layers, then fine-tuned copies of the top ones, mean pooling and a linear read-out", so both use
`EmotionModel` and its array format (`model_arrays` / `model_from_arrays`).

How it runs: the shared MiniLM encoder computes the token states up to `start_layer` (the frozen lower layers);
this model continues through its own fine-tuned copies of the remaining layers, mean-pools the tokens and reads
seven logits; dividing them by the fitted temperature calibrates the softmax. All in numpy (no torch).

The weights are package data (`data/emotion_head.npz`, float16) with their sha256 beside them
(`data/emotion_head.sha256`); a file that does not match is refused with a message saying what to do.
Training: `python -m research.emotion_model.train` (docs/emotion_model.md).
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from agent.perception.minilm import Floats, bert_layer, packed_segments
from core.provision import sha256_file

DATA = Path(__file__).with_name("data")
WEIGHTS = DATA / "emotion_head.npz"
WEIGHTS_SHA256 = DATA / "emotion_head.sha256"
FORMAT = 1
_RETRAIN = "reinstall Empathica, or retrain it with `python -m research.emotion_model.train` (docs/emotion_model.md)"


class TokenEncoder(Protocol):
    """A transformer encoder that gives its token states after any layer (agent.perception.minilm.MiniLmEncoder):
    what the emotion model and the crisis detector read."""

    @property
    def layers(self) -> int:
        """How many layers the encoder has."""
        ...

    def token_states(self, text: str, layers: int | None = None) -> npt.NDArray[np.floating[Any]]:
        """The token states of `text` after its first `layers` layers."""
        ...

    def token_states_many(self, texts: Sequence[str], layers: int | None = None) -> list[npt.NDArray[np.floating[Any]]]:
        """`token_states` of several texts, in one pass where the encoder can."""
        ...


class EmotionModelError(RuntimeError):
    """The emotion model's weights are missing, corrupt or of an unknown format."""


def expected_sha256(checksum_file: Path) -> str:
    """The hash recorded in a `sha256sum`-style file (`<hex>  <name>`)."""
    try:
        return Path(checksum_file).read_text(encoding="utf-8").split()[0].lower()
    except (OSError, IndexError) as exc:
        raise EmotionModelError(
            f"cannot read the emotion model's checksum {checksum_file} ({exc}): {_RETRAIN}"
        ) from None


@dataclass(frozen=True)
class EmotionModel:
    """Fine-tuned top layers + read-out; `probabilities(states)` maps lower-layer token states to a mixture."""

    labels: tuple[str, ...]
    start_layer: int
    layers: tuple[dict[str, Floats], ...]  # each: the safetensors names of one layer, without the prefix
    head_weight: Floats  # (classes, width)
    head_bias: Floats  # (classes,)
    temperature: float
    heads: int
    eps: float

    def pooled(self, states: Floats) -> Floats:
        """The mean over tokens of one text's states after the fine-tuned layers (what the read-out sees)."""
        pooled: Floats = self.pooled_many([states])[0]
        return pooled

    def pooled_many(self, states: Sequence[npt.NDArray[np.floating[Any]]]) -> Floats:
        """`pooled` of several texts' states (one row each), in one pass over the fine-tuned layers."""
        segments = packed_segments([len(s) for s in states])
        x = np.concatenate([np.asarray(s, dtype=np.float32) for s in states])
        for weights in self.layers:
            x = bert_layer(x, weights, "", self.heads, self.eps, segments)
        return np.stack([x[a:b].mean(0) for a, b in segments])

    def read_out(self, pooled: Floats) -> Floats:
        """Uncalibrated class scores from `pooled` states."""
        scores: Floats = pooled @ self.head_weight.T + self.head_bias
        return scores

    def logits(self, states: Floats) -> Floats:
        """Uncalibrated class scores of one text from its token states after `start_layer` layers."""
        return self.read_out(self.pooled(states))

    def probabilities(self, states: Floats) -> npt.NDArray[np.float64]:
        """Calibrated class probabilities (softmax of logits / temperature), in `labels` order."""
        return softmax(self.logits(states) / self.temperature)


def softmax(z: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float64]:
    """Softmax over the last axis, computed stably."""
    z64 = np.asarray(z, dtype=np.float64)
    e = np.exp(z64 - z64.max(-1, keepdims=True))
    out: npt.NDArray[np.float64] = e / e.sum(-1, keepdims=True)
    return out


def load_emotion_model(path: Path = WEIGHTS, checksum_file: Path = WEIGHTS_SHA256) -> EmotionModel:
    """Read and verify the weights; raises EmotionModelError (saying what to do) when they are missing or corrupt."""
    path = Path(path)
    if not path.is_file():
        raise EmotionModelError(f"the emotion model {path} is missing: {_RETRAIN}")
    want, got = expected_sha256(checksum_file), sha256_file(path)
    if got != want:
        raise EmotionModelError(
            f"the emotion model {path} is corrupt (sha256 {got[:12]}…, expected {want[:12]}…): {_RETRAIN}"
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise EmotionModelError(f"cannot read the emotion model {path} ({exc}): {_RETRAIN}") from None
    return model_from_arrays(arrays, f"the emotion model {path}", _RETRAIN)


def model_from_arrays(arrays: dict[str, npt.NDArray[Any]], what: str, fix: str) -> EmotionModel:
    """The reader stored in `arrays` (as `model_arrays` wrote them); EmotionModelError naming `what` and `fix`."""
    if int(arrays.get("format", -1)) != FORMAT:
        raise EmotionModelError(f"{what} has format {arrays.get('format')}, expected {FORMAT}: {fix}")
    try:
        start, count = int(arrays["start_layer"]), int(arrays["layer_count"])
        layers = []
        for index in range(start, start + count):
            prefix = f"layer.{index}."
            layers.append(
                {k.removeprefix(prefix): v.astype(np.float32) for k, v in arrays.items() if k.startswith(prefix)}
            )
        return EmotionModel(
            labels=tuple(str(label) for label in arrays["labels"]),
            start_layer=start,
            layers=tuple(layers),
            head_weight=arrays["head.weight"].astype(np.float32),
            head_bias=arrays["head.bias"].astype(np.float32),
            temperature=float(arrays["temperature"]),
            heads=int(arrays["heads"]),
            eps=float(arrays["eps"]),
        )
    except (KeyError, ValueError) as exc:
        raise EmotionModelError(f"{what} lacks or garbles {exc}: {fix}") from None


def model_arrays(model: EmotionModel) -> dict[str, npt.NDArray[Any]]:
    """The reader as named arrays (layer matrices in float16), for an .npz that may hold more beside it."""
    arrays: dict[str, npt.NDArray[Any]] = {
        "format": np.array(FORMAT),
        "labels": np.array(model.labels),
        "start_layer": np.array(model.start_layer),
        "layer_count": np.array(len(model.layers)),
        "head.weight": model.head_weight.astype(np.float32),
        "head.bias": model.head_bias.astype(np.float32),
        "temperature": np.array(model.temperature),
        "heads": np.array(model.heads),
        "eps": np.array(model.eps),
    }
    for offset, weights in enumerate(model.layers):
        for name, value in weights.items():
            arrays[f"layer.{model.start_layer + offset}.{name}"] = value.astype(np.float16)
    return arrays


def save_emotion_model(model: EmotionModel, path: Path, checksum_file: Path) -> str:
    """Write the weights (float16 matrices) and their checksum file; returns the sha256."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **model_arrays(model))
    digest = sha256_file(path)
    Path(checksum_file).write_text(f"{digest}  {Path(path).name}\n", encoding="utf-8")
    return digest
