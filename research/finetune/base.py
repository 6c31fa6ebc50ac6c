"""The base model `empathica finetune --base` trains on: a Hugging Face model, or the GGUF the embedded backend serves.

An adapter is only valid on the weights it was trained on. The embedded llama.cpp backend serves a GGUF (by
default `qwen2.5-coder-1.5b`, quantized), whose Hugging Face weights an offline machine does not have; so `--base`
also takes that GGUF, by model name (`empathica models install`) or path, and transformers de-quantizes it
(`gguf_file=`) into float32 weights to train on: the same weights llama.cpp applies the adapter to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.provision import ModelError, load_manifest, model_dir, sha256_file

GGUF_SUFFIX = ".gguf"


class BaseModelError(ValueError):
    """The base model cannot be found or read; the message says what to do."""


@dataclass(frozen=True)
class BaseModelSource:
    """Where the base model comes from: a GGUF file (`gguf`) or a Hugging Face folder / hub id (`hf`)."""

    argument: str
    gguf: Path | None = None
    hf: str = ""

    def describe(self) -> dict[str, Any]:
        """What empathica_finetune.json records: the argument, and for a GGUF its path, sha256 and architecture."""
        if self.gguf is None:
            return {"base_model": self.argument}
        import gguf

        field = gguf.GGUFReader(self.gguf).fields.get("general.architecture")
        return {
            "base_model": self.argument,
            "base_gguf": {
                "path": str(self.gguf),
                "sha256": sha256_file(self.gguf),
                "architecture": field.contents() if field is not None else None,
            },
        }


def resolve_base(argument: str) -> BaseModelSource:
    """`--base`: a .gguf path, an installed model name from core/models.toml, else a Hugging Face folder or hub id."""
    if argument.endswith(GGUF_SUFFIX):
        path = Path(argument).expanduser()
        if not path.is_file():
            raise BaseModelError(f"--base {argument}: no such GGUF file")
        return BaseModelSource(argument, gguf=path)
    if argument in load_manifest():
        try:
            path = model_dir(argument) / "model.gguf"
        except ModelError as error:
            raise BaseModelError(str(error)) from None
        if not path.is_file():
            raise BaseModelError(f"--base {argument} is not an LLM (it has no model.gguf); pass an LLM's name")
        return BaseModelSource(argument, gguf=path)
    return BaseModelSource(argument, hf=argument)


def load_gguf_causal_lm(path: Path, dtype: Any) -> tuple[Any, Any]:
    """The tokenizer and causal LM of a GGUF file, de-quantized by transformers (needs the gguf package)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(path.parent), path.name
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=dtype)
    except (OSError, ValueError, KeyError) as error:
        raise BaseModelError(
            f"transformers could not load {path} ({error}); its architecture may be one transformers cannot read "
            "from GGUF: pass the model's Hugging Face folder instead"
        ) from None
    return tokenizer, model
