"""Fine-tuning MiniLM's top layers and a linear read-out on cached lower-layer states, then fitting a temperature.

Targets are soft: a text whose raters' labels map to several basic emotions spreads its probability evenly over
them. Rare classes (disgust, fear) weigh more in the loss (inverse square root of their frequency), which trades a
little accuracy on the common ones for macro-F1. Matrix products run in bfloat16 (CPU autocast; about five times
faster than float32 where the CPU has AMX/AVX-512 BF16), the weights stay float32.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch
from scipy.optimize import minimize_scalar
from torch import nn

from research.emotion_model.features import EncodedTexts
from research.emotion_model.torch_minilm import BertLayer, TorchMiniLm


@dataclass(frozen=True)
class TrainSettings:
    """Hyper-parameters (defaults: the measured configuration, docs/emotion_model.md)."""

    top_layers: int = 2
    epochs: int = 2
    batch_size: int = 32
    lr: float = 2e-4  # fine-tuned layers (1e-4: dev macro-F1 0.614 vs 0.628)
    head_lr: float = 2e-3  # the freshly initialised read-out
    weight_decay: float = 0.01
    warmup: float = 0.06  # share of the steps with a rising learning rate, then linear decay to 0
    dropout: float = 0.1
    class_weight_power: float = 0.5  # class weight = (largest class frequency / frequency) ** power
    seed: int = 0


class TopModel(nn.Module):
    """Trainable copies of MiniLM's top layers, mean pooling over real tokens, and a linear read-out."""

    def __init__(self, minilm: TorchMiniLm, top_layers: int, classes: int, dropout: float) -> None:
        super().__init__()
        self.start = len(minilm.layers) - top_layers
        layers = [minilm.make_layer(i) for i in range(self.start, len(minilm.layers))]
        for layer in layers:
            layer.dropout.p = dropout
        self.layers = nn.ModuleList(layers)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(minilm.width, classes)

    def bert_layers(self) -> list[BertLayer]:
        """The fine-tuned layers, bottom first."""
        return [layer for layer in self.layers if isinstance(layer, BertLayer)]

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, mask)
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1)[:, None]
        return self.head(self.dropout(pooled))


def _batch(
    encoded: EncodedTexts, rows: Sequence[int], frozen: Sequence[nn.Module]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded states of `rows` after the cached layer, carried through the `frozen` layers in between."""
    longest = max(int(encoded.offsets[i + 1] - encoded.offsets[i]) for i in rows)
    x = torch.zeros(len(rows), longest, encoded.tokens.shape[1])
    mask = torch.zeros(len(rows), longest)
    for r, i in enumerate(rows):
        states = torch.from_numpy(encoded.states(i).astype(np.float32))
        x[r, : len(states)] = states
        mask[r, : len(states)] = 1
    if frozen:
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            for layer in frozen:
                x = layer(x, mask)
        x = x.float()
    return x, mask


def _length_batches(
    rows: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64], size: int, rng: random.Random
) -> list[list[int]]:
    """Shuffled batches of similar-length texts (little padding), in a shuffled order."""
    shuffled = list(rows)
    rng.shuffle(shuffled)
    batches = []
    for start in range(0, len(shuffled), size * 50):
        chunk = sorted(shuffled[start : start + size * 50], key=lambda i: int(lengths[i]))
        batches += [chunk[j : j + size] for j in range(0, len(chunk), size)]
    rng.shuffle(batches)
    return batches


def train_top(
    minilm: TorchMiniLm,
    encoded: EncodedTexts,
    targets: npt.NDArray[np.float32],
    rows: npt.NDArray[np.int64],
    settings: TrainSettings,
    log: bool = True,
) -> TopModel:
    """Fine-tune the top layers + read-out on `rows` of `encoded` (soft `targets`, one row per text)."""
    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    model = TopModel(minilm, settings.top_layers, targets.shape[1], settings.dropout)
    frozen = [minilm.layers[i] for i in range(encoded.layer, model.start)]
    prior = targets[rows].mean(0)
    weight = torch.tensor((prior.max() / np.maximum(prior, 1e-6)) ** settings.class_weight_power, dtype=torch.float32)
    optimiser = torch.optim.AdamW(
        [
            {"params": model.layers.parameters(), "lr": settings.lr},
            {"params": model.head.parameters(), "lr": settings.head_lr},
        ],
        weight_decay=settings.weight_decay,
    )
    total = math.ceil(len(rows) / settings.batch_size) * settings.epochs
    warm = max(1, int(settings.warmup * total))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    lengths = np.diff(encoded.offsets)
    y = torch.from_numpy(targets)
    started, step = time.perf_counter(), 0
    model.train()
    for epoch in range(settings.epochs):
        for batch in _length_batches(rows, lengths, settings.batch_size, rng):
            x, mask = _batch(encoded, batch, frozen)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                logits = model(x, mask)
            loss = -((y[batch] * weight) * logits.float().log_softmax(1)).sum(1).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
            if log and step % 250 == 0:
                elapsed = time.perf_counter() - started
                print(f"  epoch {epoch + 1} step {step}/{total} loss {loss.item():.3f} ({elapsed:.0f} s)", flush=True)
    model.eval()
    return model


def predict_logits(
    minilm: TorchMiniLm, model: TopModel, encoded: EncodedTexts, rows: Sequence[int] | None = None
) -> npt.NDArray[np.float32]:
    """float32 logits (no autocast: the numbers the numpy product path computes), one row per text in `rows`."""
    rows = list(range(len(encoded))) if rows is None else list(rows)
    frozen = [minilm.layers[i] for i in range(encoded.layer, model.start)]
    order = sorted(range(len(rows)), key=lambda k: int(encoded.offsets[rows[k] + 1] - encoded.offsets[rows[k]]))
    out = np.zeros((len(rows), model.head.out_features), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), 256):
            chunk = order[start : start + 256]
            x, mask = _batch_fp32(encoded, [rows[k] for k in chunk], frozen)
            out[chunk] = model(x, mask).numpy()
    return out


def _batch_fp32(
    encoded: EncodedTexts, rows: Sequence[int], frozen: Sequence[nn.Module]
) -> tuple[torch.Tensor, torch.Tensor]:
    x, mask = _batch(encoded, rows, [])
    for layer in frozen:
        x = layer(x, mask)
    return x, mask


def fit_temperature(logits: npt.NDArray[np.float32], targets: npt.NDArray[np.float32]) -> float:
    """The temperature that minimises the soft-target cross-entropy of softmax(logits / T) (held-out rows)."""

    def nll(t: float) -> float:
        z = logits / t
        z = z - z.max(1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(1, keepdims=True))
        return float(-(targets * log_p).sum(1).mean())

    return float(minimize_scalar(nll, bounds=(0.25, 5.0), method="bounded").x)
