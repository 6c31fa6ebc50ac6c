"""A peft LoRA adapter (adapter_config.json + adapter_model.safetensors) as a GGUF LoRA adapter for llama.cpp.

llama.cpp applies a LoRA adapter from its own GGUF format: metadata `general.type = "adapter"`,
`general.architecture` equal to the base model's, `adapter.type = "lora"` and `adapter.lora.alpha`, and for each
adapted weight `W` of the base (named as in the base GGUF, e.g. `blk.3.attn_q.weight`) two tensors `W.lora_a` and
`W.lora_b`. Their numpy shapes are peft's own: A is (rank, in), B is (out, rank); llama.cpp adds
`alpha / rank * B @ A` to `W @ x`, which is peft's `lora_alpha / r` scaling.

The conversion is checked against the base GGUF the adapter will be applied to: every adapted weight must exist
there with the shape the adapter expects, so an adapter trained on another model fails here with a message
rather than in llama.cpp (which only logs "failed to apply lora adapter").

Architectures whose GGUF conversion reorders the rows of the query and key projections (llama: llama.cpp's
rotary embedding expects the two halves of each head interleaved) get the same reordering of B's rows, since
the adapter's update (B @ A) must change the same rows as the base weights it is added to.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gguf
import numpy as np
import numpy.typing as npt

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
CONVERTER_VERSION = "1"  # part of the cache key: a fixed converter invalidates earlier conversions

# Architectures this converter knows, and whether their GGUF permutes the rows of q/k projections.
_ROPE_PERMUTED = {"llama": True, "qwen2": False, "qwen3": False}
_PEFT_KEY = re.compile(r"^base_model\.model\.(?P<module>.+)\.lora_(?P<part>[AB])\.weight$")
_SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16}


class AdapterConversionError(ValueError):
    """The adapter cannot be converted for this base model; the message says why and what to do."""


@dataclass(frozen=True)
class BaseModel:
    """What the converter needs of a base GGUF: architecture, head counts and the weights' numpy shapes."""

    path: Path
    architecture: str
    block_count: int
    head_count: int
    head_count_kv: int
    shapes: dict[str, tuple[int, ...]]


@dataclass(frozen=True)
class ConvertedAdapter:
    """A GGUF LoRA adapter written by `convert_peft_adapter`."""

    path: Path
    architecture: str
    rank: int
    alpha: float
    weights: tuple[str, ...]  # the base GGUF's names of the adapted weights, e.g. blk.0.attn_q.weight


def read_base_model(path: Path) -> BaseModel:
    """Read the architecture, head counts and tensor shapes (numpy order: out, in) of the base GGUF `path`."""
    reader = gguf.GGUFReader(path)
    architecture = _field(reader, "general.architecture", path)
    if not isinstance(architecture, str):
        raise AdapterConversionError(f"{path} has no text general.architecture: is it a GGUF model?")
    shapes = {tensor.name: tuple(int(n) for n in reversed(tensor.shape)) for tensor in reader.tensors}
    head_count = _field(reader, f"{architecture}.attention.head_count", path)
    head_count_kv = reader.fields.get(f"{architecture}.attention.head_count_kv")
    return BaseModel(
        path=path,
        architecture=architecture,
        block_count=int(_field(reader, f"{architecture}.block_count", path)),
        head_count=int(head_count),
        head_count_kv=int(head_count_kv.contents()) if head_count_kv is not None else int(head_count),
        shapes=shapes,
    )


def convert_peft_adapter(adapter_dir: Path, base: BaseModel, out: Path) -> ConvertedAdapter:
    """Write the peft LoRA adapter in `adapter_dir` as a GGUF LoRA adapter for `base` to `out` (float32 tensors)."""
    config = read_adapter_config(adapter_dir)
    rank, alpha = _rank_and_alpha(config, adapter_dir)
    if base.architecture not in _ROPE_PERMUTED:
        raise AdapterConversionError(
            f"the base model {base.path} is a {base.architecture!r} model; converting adapters is supported for "
            f"{', '.join(sorted(_ROPE_PERMUTED))} models only"
        )
    pairs = _read_pairs(adapter_dir / ADAPTER_WEIGHTS)
    names = gguf.get_tensor_name_map(_arch_enum(base.architecture), base.block_count)
    writer_tensors: list[tuple[str, npt.NDArray[np.float32]]] = []
    weights: list[str] = []
    for module, (lora_a, lora_b) in sorted(pairs.items()):
        weight = names.get_name(f"{module}.weight", try_suffixes=(".weight",))
        if weight is None or weight not in base.shapes:
            raise AdapterConversionError(
                f"the adapter in {adapter_dir} changes {module}, which has no weight in the base model {base.path} "
                "(trained on another architecture? see base_model in its adapter_config.json)"
            )
        _check_shapes(weight, base.shapes[weight], lora_a, lora_b, rank, adapter_dir)
        if _ROPE_PERMUTED[base.architecture] and weight.endswith((".attn_q.weight", ".attn_k.weight")):
            heads = base.head_count if weight.endswith(".attn_q.weight") else base.head_count_kv
            lora_b = rope_permute_rows(lora_b, heads)
        writer_tensors += [(f"{weight}.lora_a", lora_a), (f"{weight}.lora_b", lora_b)]
        weights.append(weight)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")  # never leave a half-written adapter under the final name
    writer = gguf.GGUFWriter(partial, base.architecture)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
    writer.add_string("general.name", f"empathica LoRA from {adapter_dir.name}")
    for name, array in writer_tensors:
        writer.add_tensor(name, np.ascontiguousarray(array, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    partial.replace(out)
    return ConvertedAdapter(out, base.architecture, rank, alpha, tuple(weights))


def read_adapter_config(adapter_dir: Path) -> dict[str, Any]:
    """adapter_config.json of a peft adapter folder (AdapterConversionError if it is not one)."""
    config_path = adapter_dir / ADAPTER_CONFIG
    if not config_path.is_file() or not (adapter_dir / ADAPTER_WEIGHTS).is_file():
        raise AdapterConversionError(
            f"{adapter_dir} is not a peft LoRA adapter folder (needs {ADAPTER_CONFIG} and {ADAPTER_WEIGHTS}): pass "
            "the --out folder of `empathica finetune`, or a GGUF LoRA adapter file"
        )
    config: dict[str, Any] = json.loads(config_path.read_text(encoding="utf-8"))
    return config


def rope_permute_rows(rows: npt.NDArray[np.float32], heads: int) -> npt.NDArray[np.float32]:
    """Reorder the rows of a q/k projection (or a LoRA B of one) per head the way llama GGUFs store them.

    Hugging Face keeps each head's rotary pairs as two halves (all first elements, then all second); llama.cpp's
    GGUF interleaves them (first, second, first, second ...).
    """
    out_features = rows.shape[0]
    if out_features % (2 * heads):
        raise AdapterConversionError(f"{out_features} rows cannot be split into {heads} heads of rotary pairs")
    half = out_features // heads // 2
    return rows.reshape(heads, 2, half, *rows.shape[1:]).swapaxes(1, 2).reshape(rows.shape)


def cache_key(adapter_dir: Path, model: Path) -> str:
    """A short hash of the adapter's files, the base GGUF (path, size, modification time) and the converter version.

    The base is identified by its file's metadata, not its tensors: reading a GGUF's header takes seconds (its
    tokenizer arrays), which a cached adapter should not cost at every start.
    """
    digest = hashlib.sha256(CONVERTER_VERSION.encode())
    for name in (ADAPTER_CONFIG, ADAPTER_WEIGHTS):
        digest.update((adapter_dir / name).read_bytes())
    stat = model.stat()
    digest.update(json.dumps([str(model.resolve()), stat.st_size, stat.st_mtime_ns]).encode())
    return digest.hexdigest()[:16]


def check_gguf_adapter(path: Path, architecture: str | None = None) -> None:
    """Refuse a GGUF file that is not a LoRA adapter (for `architecture`, when given): llama.cpp would only log it."""
    reader = gguf.GGUFReader(path)
    kind = reader.fields.get("general.type")
    adapter_type = reader.fields.get(gguf.Keys.Adapter.TYPE)
    if kind is None or kind.contents() != "adapter" or adapter_type is None or adapter_type.contents() != "lora":
        raise AdapterConversionError(
            f"{path} is not a GGUF LoRA adapter (general.type 'adapter', adapter.type 'lora'): pass one, or the "
            "peft adapter folder of `empathica finetune` (converted automatically)"
        )
    found = _field(reader, "general.architecture", path)
    if architecture is not None and found != architecture:
        raise AdapterConversionError(
            f"{path} is a LoRA adapter for {found!r} models, but the LLM is a {architecture!r} model: use an "
            "adapter trained on that model"
        )


def _rank_and_alpha(config: dict[str, Any], adapter_dir: Path) -> tuple[int, float]:
    """peft's rank and the GGUF alpha that gives llama.cpp (alpha / rank) the same scaling as peft."""
    unsupported = [
        reason
        for reason, present in (
            (f"peft_type {config.get('peft_type')!r} (only LORA)", config.get("peft_type", "LORA") != "LORA"),
            ("use_dora", bool(config.get("use_dora"))),
            ("rank_pattern / alpha_pattern", bool(config.get("rank_pattern") or config.get("alpha_pattern"))),
            ("modules_to_save", bool(config.get("modules_to_save"))),
            (f"bias {config.get('bias')!r}", config.get("bias", "none") != "none"),
        )
        if present
    ]
    if unsupported:
        raise AdapterConversionError(
            f"the adapter in {adapter_dir} uses {', '.join(unsupported)}, which llama.cpp's LoRA format cannot "
            "express: train a plain LoRA (as `empathica finetune` does)"
        )
    rank = int(config["r"])
    alpha = float(config.get("lora_alpha", rank))
    if config.get("use_rslora"):
        alpha *= math.sqrt(rank)  # rsLoRA scales by alpha / sqrt(r); llama.cpp always divides by r
    return rank, alpha


def _read_pairs(weights: Path) -> dict[str, tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]]:
    """The (A, B) matrices of every adapted module in a peft safetensors file, keyed by module name."""
    parts: dict[str, dict[str, npt.NDArray[np.float32]]] = {}
    with gguf.utility.SafetensorsLocal(weights) as tensors:
        for key, tensor in tensors.items():
            match = _PEFT_KEY.match(key)
            if match is None:
                raise AdapterConversionError(
                    f"{weights} holds {key}, which is not a LoRA A or B matrix of a linear layer (embedding LoRA or "
                    "saved modules cannot be converted)"
                )
            parts.setdefault(match["module"], {})[match["part"]] = _to_float32(tensor, key)
    pairs = {}
    for module, found in parts.items():
        if set(found) != {"A", "B"}:
            raise AdapterConversionError(f"{weights} has only lora_{''.join(found)} for {module}; it is incomplete")
        pairs[module] = (found["A"], found["B"])
    if not pairs:
        raise AdapterConversionError(f"{weights} holds no LoRA matrices")
    return pairs


def _to_float32(tensor: Any, key: str) -> npt.NDArray[np.float32]:
    dtype = _SAFETENSORS_DTYPES.get(tensor.dtype)
    if dtype is None:
        raise AdapterConversionError(f"{key} is stored as {tensor.dtype}; only F32, F16 and BF16 are supported")
    raw = np.frombuffer(tensor.mmap_bytes().tobytes(), dtype=dtype)
    if tensor.dtype == "BF16":  # bfloat16 is the top half of a float32
        raw = (raw.astype(np.uint32) << 16).view(np.float32)
    return raw.astype(np.float32).reshape(tensor.shape)


def _check_shapes(
    weight: str,
    base_shape: tuple[int, ...],
    lora_a: npt.NDArray[np.float32],
    lora_b: npt.NDArray[np.float32],
    rank: int,
    adapter_dir: Path,
) -> None:
    out_features, in_features = base_shape
    if lora_a.shape != (rank, in_features) or lora_b.shape != (out_features, rank):
        raise AdapterConversionError(
            f"the adapter in {adapter_dir} does not fit the base model's {weight} {base_shape}: A is "
            f"{lora_a.shape}, B is {lora_b.shape} (rank {rank}); it was trained on another model"
        )


def _arch_enum(architecture: str) -> gguf.MODEL_ARCH:
    return next(arch for arch, name in gguf.MODEL_ARCH_NAMES.items() if name == architecture)


def _field(reader: gguf.GGUFReader, key: str, path: Path) -> Any:
    field = reader.fields.get(key)
    if field is None:
        raise AdapterConversionError(f"{path} lacks the GGUF metadata {key}: is it a llama.cpp model file?")
    return field.contents()


def gguf_adapter_for(adapter: Path, model: Path, cache_dir: Path) -> tuple[Path, ConvertedAdapter | None]:
    """The GGUF LoRA adapter to load on the base GGUF `model` for `adapter` (a GGUF adapter or a peft folder).

    A peft folder is converted once into `cache_dir` (keyed by the adapter's files and the base model's file); the
    second value is the conversion when this call made one, None when the file was given or cached. A GGUF
    adapter's architecture and shapes are left to llama.cpp to check against the model (it refuses a mismatch).
    """
    if adapter.is_file():
        check_gguf_adapter(adapter)
        return adapter, None
    if not adapter.is_dir():
        raise AdapterConversionError(
            f"the LoRA adapter {adapter} does not exist: pass the --out folder of `empathica finetune` or a GGUF "
            "LoRA adapter file"
        )
    read_adapter_config(adapter)
    target = cache_dir / f"{adapter.resolve().name}-{cache_key(adapter, model)}.gguf"
    if target.is_file():
        return target, None
    return target, convert_peft_adapter(adapter, read_base_model(model), target)
