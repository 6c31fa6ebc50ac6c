"""MiniLM (BERT) layers in torch, built from the same safetensors weights the numpy encoder reads.

Training only: batched, padded forward passes to cache the hidden states of the frozen lower layers, and trainable
copies of the top layers. The live product runs these layers in numpy (agent.perception.minilm); a test checks
that both give the same numbers.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from agent.perception.minilm import read_safetensors


class BertLayer(nn.Module):
    """One post-layer-norm BERT encoder layer (self-attention, then a GELU feed-forward block)."""

    def __init__(self, width: int, heads: int, inner: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = nn.Linear(width, width), nn.Linear(width, width), nn.Linear(width, width)
        self.attention_out = nn.Linear(width, width)
        self.attention_norm = nn.LayerNorm(width, eps=eps)
        self.intermediate = nn.Linear(width, inner)
        self.output = nn.Linear(inner, width)
        self.output_norm = nn.LayerNorm(width, eps=eps)
        self.dropout = nn.Dropout(0.0)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x: (batch, tokens, width); mask: (batch, tokens), 1 for real tokens."""
        b, n, d = x.shape
        hd = d // self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, self.heads, hd).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd)
        scores = scores.masked_fill(mask[:, None, None, :] == 0, torch.finfo(scores.dtype).min)
        context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, d)
        x = self.attention_norm(x + self.dropout(self.attention_out(context)))
        inner = nn.functional.gelu(self.intermediate(x))
        return self.output_norm(x + self.dropout(self.output(inner)))

    def load_numpy(self, w: dict[str, npt.NDArray[np.float32]], prefix: str) -> None:
        """Copy the weights of `encoder.layer.N.` (prefix) from a safetensors-style dict."""
        pairs: dict[nn.Linear | nn.LayerNorm, str] = {
            self.query: "attention.self.query", self.key: "attention.self.key", self.value: "attention.self.value",
            self.attention_out: "attention.output.dense", self.attention_norm: "attention.output.LayerNorm",
            self.intermediate: "intermediate.dense", self.output: "output.dense", self.output_norm: "output.LayerNorm",
        }  # fmt: skip
        with torch.no_grad():
            for module, name in pairs.items():
                module.weight.copy_(torch.from_numpy(w[prefix + name + ".weight"]))
                module.bias.copy_(torch.from_numpy(w[prefix + name + ".bias"]))

    def to_numpy(self, prefix: str) -> dict[str, npt.NDArray[np.float32]]:
        """This layer's weights under the safetensors names (the inverse of `load_numpy`)."""
        names: dict[str, nn.Linear | nn.LayerNorm] = {
            "attention.self.query": self.query, "attention.self.key": self.key, "attention.self.value": self.value,
            "attention.output.dense": self.attention_out, "attention.output.LayerNorm": self.attention_norm,
            "intermediate.dense": self.intermediate, "output.dense": self.output, "output.LayerNorm": self.output_norm,
        }  # fmt: skip
        out = {}
        for name, module in names.items():
            out[prefix + name + ".weight"] = module.weight.detach().numpy().copy()
            out[prefix + name + ".bias"] = module.bias.detach().numpy().copy()
        return out


class TorchMiniLm(nn.Module):
    """Embeddings and all encoder layers of the provisioned MiniLM, in torch (frozen unless trained)."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        import json

        config = json.loads((Path(directory) / "config.json").read_text())
        self.width = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.inner = int(config["intermediate_size"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        w = {k.removeprefix("bert."): v for k, v in read_safetensors(Path(directory) / "model.safetensors").items()}
        self.weights = w
        self.word = nn.Embedding.from_pretrained(torch.from_numpy(w["embeddings.word_embeddings.weight"]))
        self.position = nn.Embedding.from_pretrained(torch.from_numpy(w["embeddings.position_embeddings.weight"]))
        self.token_type = torch.from_numpy(w["embeddings.token_type_embeddings.weight"][0])
        self.embed_norm = nn.LayerNorm(self.width, eps=self.eps)
        with torch.no_grad():
            self.embed_norm.weight.copy_(torch.from_numpy(w["embeddings.LayerNorm.weight"]))
            self.embed_norm.bias.copy_(torch.from_numpy(w["embeddings.LayerNorm.bias"]))
        self.layers = nn.ModuleList()
        for i in range(int(config["num_hidden_layers"])):
            self.layers.append(self.make_layer(i))

    def make_layer(self, index: int) -> BertLayer:
        """A fresh torch copy of encoder layer `index` with the pretrained weights."""
        layer = BertLayer(self.width, self.heads, self.inner, self.eps)
        layer.load_numpy(self.weights, f"encoder.layer.{index}.")
        return layer

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1])
        return self.embed_norm(self.word(ids) + self.position(positions)[None] + self.token_type)

    def hidden_states(self, ids: torch.Tensor, mask: torch.Tensor, upto: int) -> list[torch.Tensor]:
        """The embedding output and the outputs of layers 1..upto (a list of upto + 1 tensors)."""
        states = [self.embed(ids)]
        for layer in self.layers[:upto]:
            states.append(layer(states[-1], mask))
        return states
