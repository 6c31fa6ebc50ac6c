"""The LoRA configuration: which linear layers get adapters, by model architecture."""

from __future__ import annotations

from typing import Any

ALL_LINEAR = "all-linear"  # peft's shorthand: every linear layer except the output head

# The attention projections of common architectures (config.json's model_type). Attention-only LoRA is the
# usual starting point for style and tone; pass --target-modules all-linear to adapt the MLPs too.
_ATTENTION: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        ("llama", "mistral", "mixtral", "qwen2", "qwen3", "qwen2_moe", "gemma", "gemma2", "gemma3_text", "olmo2"),
        ("q_proj", "k_proj", "v_proj", "o_proj"),
    ),
    "phi": ("q_proj", "k_proj", "v_proj", "dense"),
    "phi3": ("qkv_proj", "o_proj"),
    "gpt2": ("c_attn", "c_proj"),
    "gpt_neox": ("query_key_value", "dense"),
    "falcon": ("query_key_value", "dense"),
    "bloom": ("query_key_value", "dense"),
    "opt": ("q_proj", "k_proj", "v_proj", "out_proj"),
}


def target_modules(model_type: str, requested: str = "") -> list[str] | str:
    """The module names to adapt: `requested` (comma-separated, or "all-linear") else the architecture's default.

    An architecture not in the table gets "all-linear", which peft resolves for any model.
    """
    if requested.strip():
        if requested.strip() == ALL_LINEAR:
            return ALL_LINEAR
        return [name.strip() for name in requested.split(",") if name.strip()]
    return list(_ATTENTION.get(model_type, ())) or ALL_LINEAR


def lora_config(model_type: str, rank: int, requested_modules: str = "", dropout: float = 0.05) -> Any:
    """A peft LoraConfig for a causal LM; alpha = 2 x rank, a common choice that keeps the update scale steady."""
    from peft import LoraConfig, TaskType

    if rank < 1:
        raise ValueError(f"--rank must be at least 1, got {rank}")
    return LoraConfig(
        r=rank,
        lora_alpha=2 * rank,
        lora_dropout=dropout,
        target_modules=target_modules(model_type, requested_modules),
        task_type=TaskType.CAUSAL_LM,
        bias="none",
    )
