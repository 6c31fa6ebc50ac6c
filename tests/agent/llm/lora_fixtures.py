"""Synthetic GGUF base models and peft LoRA adapters for the converter's tests (no downloads, a few KB each)."""

from __future__ import annotations

import json
from pathlib import Path

import gguf
import numpy as np
from safetensors.numpy import save_file

HIDDEN = 16
HEADS = 4
KV_HEADS = 2
BLOCKS = 2
PROJECTIONS = {"q_proj": "attn_q", "k_proj": "attn_k", "v_proj": "attn_v", "o_proj": "attn_output"}


def write_base_gguf(path: Path, architecture: str = "llama", hidden: int = HIDDEN) -> dict[str, tuple[int, int]]:
    """A weights-only GGUF of `architecture` with BLOCKS attention blocks; returns its weights' (out, in) shapes."""
    head_dim = hidden // HEADS
    shapes = {}
    for block in range(BLOCKS):
        shapes[f"blk.{block}.attn_q.weight"] = (hidden, hidden)
        shapes[f"blk.{block}.attn_k.weight"] = (KV_HEADS * head_dim, hidden)
        shapes[f"blk.{block}.attn_v.weight"] = (KV_HEADS * head_dim, hidden)
        shapes[f"blk.{block}.attn_output.weight"] = (hidden, hidden)
    writer = gguf.GGUFWriter(path, architecture)
    writer.add_block_count(BLOCKS)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    for name, shape in shapes.items():
        writer.add_tensor(name, np.zeros(shape, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return shapes


def peft_key(block: int, projection: str, part: str) -> str:
    """The key peft's save_pretrained gives LoRA matrix `part` (A or B) of a Llama/Qwen attention projection."""
    return f"base_model.model.model.layers.{block}.self_attn.{projection}.lora_{part}.weight"


def write_peft_adapter(
    folder: Path,
    shapes: dict[str, tuple[int, int]],
    projections: tuple[str, ...] = ("q_proj", "k_proj", "v_proj"),
    rank: int = 2,
    seed: int = 0,
    blocks: int = BLOCKS,
    scale: float = 0.1,
    **config: object,
) -> dict[str, np.ndarray]:
    """A peft LoRA adapter folder whose A and B matrices are seeded normal values (standard deviation `scale`);
    returns them by peft key.

    `shapes` are the base GGUF's (out, in) shapes by GGUF name (write_base_gguf); `config` overrides
    adapter_config.json entries.
    """
    rng = np.random.default_rng(seed)
    tensors = {}
    for block in range(blocks):
        for projection in projections:
            out_features, in_features = shapes[f"blk.{block}.{PROJECTIONS[projection]}.weight"]
            tensors[peft_key(block, projection, "A")] = rng.normal(0, scale, (rank, in_features)).astype(np.float32)
            tensors[peft_key(block, projection, "B")] = rng.normal(0, scale, (out_features, rank)).astype(np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    settings = {
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "r": rank,
        "lora_alpha": 2 * rank,
        "target_modules": list(projections),
        "bias": "none",
        **config,
    }
    (folder / "adapter_config.json").write_text(json.dumps(settings), encoding="utf-8")
    return tensors
