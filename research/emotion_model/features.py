"""Hidden states of the frozen lower MiniLM layers for a list of texts, computed once and cached on disk.

Fine-tuning only the top layers means the lower layers' output for each training text never changes: it is
computed in one batched pass (minutes) and the training epochs then start from it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer

from research.emotion_model.torch_minilm import TorchMiniLm

_MAX_TOKENS = 256  # as the live encoder (agent.perception.minilm)


@dataclass(frozen=True)
class EncodedTexts:
    """Per text: the token states after `layer` layers (rows offsets[i]:offsets[i+1] of `tokens`, float16), and
    the mean-pooled output of the embeddings and of every layer (`pooled`, (texts, layers + 1, width), float16)."""

    layer: int
    tokens: np.ndarray
    offsets: np.ndarray
    pooled: np.ndarray

    def states(self, index: int) -> np.ndarray:
        return self.tokens[self.offsets[index] : self.offsets[index + 1]]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __add__(self, other: EncodedTexts) -> EncodedTexts:
        """Both sets, `other`'s texts after this one's (same layer)."""
        if other.layer != self.layer:
            raise ValueError(f"cannot join states after layer {self.layer} and after layer {other.layer}")
        return EncodedTexts(
            self.layer,
            np.concatenate([self.tokens, other.tokens]),
            np.concatenate([self.offsets, other.offsets[1:] + self.offsets[-1]]),
            np.concatenate([self.pooled, other.pooled]),
        )


def tokenize(tokenizer_path: Path, texts: list[str]) -> list[list[int]]:
    """Word-piece ids as the live encoder makes them (no padding, truncated to 256)."""
    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(_MAX_TOKENS)
    return [e.ids for e in tokenizer.encode_batch(texts)]


def encode(model: TorchMiniLm, ids: list[list[int]], layer: int, batch_tokens: int = 8192) -> EncodedTexts:
    """Run the embeddings and layers 1..`layer` (and, for `pooled`, all layers) over `ids`, batched by length."""
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    lengths = np.array([len(i) for i in ids])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    tokens = np.zeros((offsets[-1], model.width), dtype=np.float16)
    pooled = np.zeros((len(ids), len(model.layers) + 1, model.width), dtype=np.float16)
    start = 0
    with torch.inference_mode():
        while start < len(order):
            longest = lengths[order[min(len(order) - 1, start)]]
            size = max(1, batch_tokens // max(1, int(longest)))
            batch = order[start : start + size]
            longest = int(lengths[batch].max())
            start += len(batch)
            padded = torch.zeros((len(batch), longest), dtype=torch.long)
            mask = torch.zeros((len(batch), longest))
            for row, i in enumerate(batch):
                padded[row, : lengths[i]] = torch.tensor(ids[i])
                mask[row, : lengths[i]] = 1
            states = model.hidden_states(padded, mask, len(model.layers))
            weights = mask[..., None] / mask.sum(1)[:, None, None]
            means = torch.stack([(s * weights).sum(1) for s in states], 1).numpy()
            keep = states[layer].numpy()
            for row, i in enumerate(batch):
                tokens[offsets[i] : offsets[i + 1]] = keep[row, : lengths[i]]
                pooled[i] = means[row]
    return EncodedTexts(layer, tokens, offsets, pooled)


def encode_cached(
    model: TorchMiniLm, tokenizer_path: Path, texts: list[str], layer: int, cache_dir: Path | None
) -> EncodedTexts:
    """`encode`, read from / written to `cache_dir` when given (keyed by the texts and the layer)."""
    key = hashlib.sha256(("\x00".join(texts) + f"|{layer}").encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"minilm_states_{key}.npz" if cache_dir else None
    if path is not None and path.is_file():
        with np.load(path) as data:
            return EncodedTexts(layer, data["tokens"], data["offsets"], data["pooled"])
    encoded = encode(model, tokenize(tokenizer_path, texts), layer)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, tokens=encoded.tokens, offsets=encoded.offsets, pooled=encoded.pooled)
    return encoded
