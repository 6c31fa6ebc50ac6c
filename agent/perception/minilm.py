"""all-MiniLM-L6-v2 sentence embeddings, run with numpy from the provisioned safetensors file.

Why numpy and not torch/transformers: the model is a 6-layer, 384-wide BERT (22 M parameters); one sentence is
~0.2 GFLOP, a few milliseconds with BLAS. Running it directly needs only the `tokenizers` package the venv
already has, instead of torch + transformers + sentence-transformers (hundreds of MB, and a numpy>=2 pull).
The forward pass follows BERT exactly (post-layer-norm, erf GELU, eps 1e-12), then mean pooling over real
tokens and L2 normalisation, as the model's sentence-transformers modules.json prescribes.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.special import erf
from tokenizers import Tokenizer

_DTYPES = {"F32": np.float32, "F16": np.float16}
# all-MiniLM-L6-v2 was trained with sequences of at most 256 word pieces (sentence_bert_config.json).
_MAX_TOKENS = 256
_PACK = 32  # texts encoded in one packed pass by `encode` (bounds its memory)

Floats = npt.NDArray[np.float32]
Segments = list[tuple[int, int]]  # rows (start, stop) of texts packed end to end into one array of token states


def read_safetensors(path: Path) -> dict[str, Floats]:
    """Every floating-point tensor of a .safetensors file as float32 arrays.

    The format: a little-endian u64 header size, a JSON header (dtype, shape, byte offsets), then raw data.
    """
    raw = Path(path).read_bytes()
    (header_size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_size])
    base = 8 + header_size
    tensors: dict[str, Floats] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = _DTYPES.get(info["dtype"])
        if dtype is None:  # integer buffers such as position_ids: not weights, not needed
            continue
        array = np.frombuffer(raw, dtype=dtype, count=(end - start) // np.dtype(dtype).itemsize, offset=base + start)
        tensors[name] = array.reshape(info["shape"]).astype(np.float32)
    return tensors


def _layer_norm(x: Floats, weight: Floats, bias: Floats, eps: float) -> Floats:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    out: Floats = (x - mean) / np.sqrt(var + eps) * weight + bias
    return out


def _gelu(x: Floats) -> Floats:
    # BERT's exact GELU, x * Phi(x) (not the tanh approximation: the embeddings would drift from the reference).
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


class MiniLmEncoder:
    """Sentence embeddings (384-d, unit length) from a directory holding the MiniLM files.

    The directory needs `model.safetensors`, `tokenizer.json` and `config.json` (`empathica models install
    minilm-l6` provides them). Build once and reuse: loading reads 90 MB of weights.
    """

    dimension = 384

    def __init__(self, directory: Path) -> None:
        directory = Path(directory)
        config = json.loads((directory / "config.json").read_text())
        self._heads = int(config["num_attention_heads"])
        self._layers = int(config["num_hidden_layers"])
        self._eps = float(config.get("layer_norm_eps", 1e-12))
        self._w = read_safetensors(directory / "model.safetensors")
        # Some exports prefix every name with "bert."; strip it so one set of names works.
        self._w = {k.removeprefix("bert."): v for k, v in self._w.items()}
        self._tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        # The shipped tokenizer.json pads to 128; pooling over padding would blur every sentence together.
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(_MAX_TOKENS)
        self.dimension = int(config["hidden_size"])

    @property
    def layers(self) -> int:
        """How many transformer layers the model has (6)."""
        return self._layers

    def encode(self, texts: list[str]) -> Floats:
        """Unit-length embeddings, one row per text (float32, shape (len(texts), 384))."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Packed end to end, each text attending only to itself: no padding, so cost follows real length.
        states = [s for i in range(0, len(texts), _PACK) for s in self.token_states_many(texts[i : i + _PACK])]
        return np.stack([self.embed_states(s) for s in states])

    def token_states(self, text: str, layers: int | None = None) -> Floats:
        """The hidden state of every word piece of `text` after the first `layers` layers (default: all)."""
        return self.run_layers(self._embed(text), 0, self._layers if layers is None else layers)

    def token_states_many(self, texts: Sequence[str], layers: int | None = None) -> list[Floats]:
        """`token_states` of several texts in one pass, each text attending only to itself (the same states).

        A short text costs mostly the reading of the weights (about 40 MB over six layers), not its tokens: one
        pass over the texts packed end to end reads them once for all.
        """
        if not texts:
            return []
        embedded = [self._embed(text) for text in texts]
        segments = packed_segments([len(x) for x in embedded])
        states = self.run_layers(np.concatenate(embedded), 0, self._layers if layers is None else layers, segments)
        return [states[a:b] for a, b in segments]

    def _embed(self, text: str) -> Floats:
        """The input states of `text`'s word pieces: word, position and type embeddings, layer-normed."""
        ids = np.asarray(self._tokenizer.encode(text).ids, dtype=np.int64)
        w = self._w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][: len(ids)]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        return _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self._eps)

    def run_layers(self, x: Floats, start: int, stop: int, segments: Segments | None = None) -> Floats:
        """Continue a forward pass: token states after `start` layers -> after `stop` layers (`segments`: the
        packed texts' rows, see `bert_layer`)."""
        for layer in range(start, stop):
            x = bert_layer(x, self._w, f"encoder.layer.{layer}.", self._heads, self._eps, segments)
        return x

    @staticmethod
    def embed_states(states: Floats) -> Floats:
        """The sentence embedding of final-layer token states: their mean, L2-normalised."""
        pooled = states.mean(0)
        unit: Floats = (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)
        return unit


def packed_segments(lengths: Sequence[int]) -> Segments:
    """The (start, stop) rows of texts of `lengths` tokens packed end to end."""
    ends = np.cumsum(lengths).tolist()
    return [(int(end - n), int(end)) for n, end in zip(lengths, ends, strict=True)]


def bert_layer(
    x: Floats, w: dict[str, Floats], p: str, heads: int, eps: float = 1e-12, segments: Segments | None = None
) -> Floats:
    """One BERT encoder layer over the token states `x` (tokens, width), weights named `p` + safetensors names.

    `segments`: x holds several texts packed end to end, at these (start, stop) rows; each attends only to its own
    tokens, so each text's states are what a pass over it alone gives (default: x is one text). Every other step
    works token by token, so it runs over all the texts at once.

    Shared by the pretrained layers and the fine-tuned ones of the emotion model (agent.perception.emotion_model).
    """
    n, d = x.shape
    hd = d // heads

    def linear(inp: Floats, name: str) -> Floats:
        return inp @ w[p + name + ".weight"].T + w[p + name + ".bias"]

    q = linear(x, "attention.self.query").reshape(n, heads, hd).transpose(1, 0, 2)
    k = linear(x, "attention.self.key").reshape(n, heads, hd).transpose(1, 0, 2)
    v = linear(x, "attention.self.value").reshape(n, heads, hd).transpose(1, 0, 2)
    context = np.empty((heads, n, hd), dtype=np.result_type(q, v))
    for a, b in segments or [(0, n)]:
        scores = q[:, a:b] @ k[:, a:b].transpose(0, 2, 1) / math.sqrt(hd)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context[:, a:b] = scores @ v[:, a:b]
    context = context.transpose(1, 0, 2).reshape(n, d)
    attn = linear(context, "attention.output.dense")
    x = _layer_norm(x + attn, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
    inner = _gelu(linear(x, "intermediate.dense"))
    out = linear(inner, "output.dense")
    return _layer_norm(x + out, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
