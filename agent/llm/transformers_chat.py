"""A chat LLM run in-process by Hugging Face transformers (torch), optionally with a LoRA adapter from peft.

This is the backend for adapters trained by `empathica finetune` (docs/finetune.md): the prompt is encoded by
agent.llm.hf_chat exactly as in training. It runs on the CPU (or a GPU when torch sees one) and is much slower
than llama.cpp, so it is meant for trying an adapter; serve an adapter at speed with vLLM's LoRA support.

Generation is a plain token loop over the model's KV cache, so `stream()` yields text as each token is decoded
and closing the generator stops at the next token, with no worker thread. JSON-schema constrained decoding is not
available here: a request with `json_schema` (the chain of empathy) raises `TransformersLlmError` telling the
user to set `empathy.enabled = false`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.base import ChatMessage, CompletionFromStream
from agent.llm.hf_chat import ChatFormatError, encode_prompt


class TransformersLlmError(RuntimeError):
    """The model or adapter could not be loaded, or a request cannot be served; the message says what to do."""


@dataclass
class GenerationStats:
    """What one generation did: tokens generated, and why it ended ("stop", "length" or "cancelled")."""

    tokens: int = 0
    finish_reason: str = "cancelled"


class TransformersChatLlm(CompletionFromStream):
    """A causal LM in Hugging Face format (local folder or hub id) plus an optional peft LoRA adapter folder.

    Implements `agent.base.ChatModel`. One generation runs at a time; a second `stream()` waits for the first.
    """

    def __init__(
        self,
        model: str | Path,
        adapter: str | Path | None = None,
        threads: int = 2,
        context_tokens: int = 4096,
        seed: int = 7,
    ) -> None:
        """Load `model` (a folder with config.json, or a hub id when online) and, if given, the LoRA `adapter`."""
        import torch

        self.context_tokens = context_tokens
        self.seed = seed
        torch.set_num_threads(threads)
        self.tokenizer, base = load_causal_lm(model)
        self.adapter = Path(adapter) if adapter else None
        self.model = load_adapter(base, self.adapter) if self.adapter else base
        self.model.eval()
        self.stop_ids = _stop_ids(self.tokenizer, self.model)
        self._lock = threading.Lock()
        self._generation_count = itertools.count()
        self.last_generation: GenerationStats | None = None
        """Stats of the most recent generation (set when it ends, also when the consumer closes it early)."""

    def stream(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
    ) -> Iterator[str]:
        """Yield the reply to `messages` as it is decoded; `temperature` 0 picks the most likely token each step."""
        if json_schema is not None:
            raise TransformersLlmError(
                'llm.backend = "transformers" cannot constrain output to a JSON schema (the chain of empathy needs '
                'that): set empathy.enabled = false, or serve the model with vLLM and use llm.backend = "openai"'
            )
        try:
            prompt = encode_prompt(self.tokenizer, messages)
        except ChatFormatError as error:
            raise TransformersLlmError(str(error)) from None
        if len(prompt) >= self.context_tokens:
            raise TransformersLlmError(
                f"the prompt has {len(prompt)} tokens, more than llm.context_tokens = {self.context_tokens}; "
                "raise llm.context_tokens or lower server.history_turns"
            )
        max_tokens = min(max_tokens, self.context_tokens - len(prompt))
        return self._generate(prompt, max_tokens, temperature, self.seed + next(self._generation_count))

    def count_tokens(self, text: str) -> int:
        """How many tokens `text` is for this model, by its own tokenizer (no special tokens)."""
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def logits(self, messages: list[ChatMessage]) -> Any:
        """The next-token logits after the prompt for `messages` (a 1-D tensor): to compare base and adapter."""
        import torch

        with self._lock, torch.inference_mode():
            ids = torch.tensor([encode_prompt(self.tokenizer, messages)], device=self.model.device)
            return self.model(input_ids=ids).logits[0, -1].float().cpu()

    def close(self) -> None:
        """Drop the model once any running generation has stopped."""
        with self._lock:
            self.model = None

    def _generate(self, prompt: list[int], max_tokens: int, temperature: float, seed: int) -> Iterator[str]:
        import torch

        with self._lock:
            if self.model is None:
                raise TransformersLlmError("this TransformersChatLlm was closed; create a new one to generate again")
            generator = torch.Generator().manual_seed(seed)
            generated: list[int] = []
            said = ""
            stats = self.last_generation = GenerationStats()
            with torch.inference_mode():
                out = self.model(input_ids=torch.tensor([prompt], device=self.model.device), use_cache=True)
                for _ in range(max_tokens):
                    token = _pick(out.logits[0, -1].float().cpu(), temperature, generator)
                    if token in self.stop_ids:
                        stats.finish_reason = "stop"
                        break
                    generated.append(token)
                    stats.tokens = len(generated)
                    text = self.tokenizer.decode(generated, skip_special_tokens=True)
                    # A multi-byte character split across tokens decodes to U+FFFD until its last token arrives.
                    if len(text) > len(said) and not text.endswith("\ufffd"):
                        yield text[len(said) :]
                        said = text
                    if len(generated) == max_tokens:
                        stats.finish_reason = "length"
                        break
                    out = self.model(
                        input_ids=torch.tensor([[token]], device=self.model.device),
                        cache=out.cache,  # transformers 5 names the KV cache `cache` (was past_key_values)
                        use_cache=True,
                    )


def load_causal_lm(model: str | Path, dtype: Any = "auto") -> tuple[Any, Any]:
    """The tokenizer and causal LM of `model`: a local Hugging Face folder, or a hub id (downloaded when online).

    `dtype` "auto" keeps the checkpoint's precision (inference); training passes torch.float32.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = str(Path(model).expanduser()) if Path(model).expanduser().exists() else str(model)
    looks_local = source.startswith((".", "/", "~")) or Path(source).exists()
    if looks_local and not (Path(source) / "config.json").is_file():
        raise TransformersLlmError(
            f"{source} is not a Hugging Face model folder (no config.json): pass a folder saved with "
            "save_pretrained (config.json, tokenizer files, *.safetensors) or a hub id such as "
            "Qwen/Qwen2.5-0.5B-Instruct"
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        lm = AutoModelForCausalLM.from_pretrained(source, dtype=dtype)
    except OSError as error:
        if looks_local:
            raise TransformersLlmError(f"could not load the model in {source}: {error}") from None
        raise TransformersLlmError(
            f"could not load {source!r} from the Hugging Face hub ({str(error).splitlines()[0]}). Without internet "
            "access, download the model elsewhere (e.g. `hf download NAME --local-dir DIR`) and pass "
            "the local folder DIR instead"
        ) from None
    return tokenizer, lm


def load_adapter(base: Any, adapter: Path) -> Any:
    """`base` with the peft LoRA adapter in folder `adapter` (adapter_config.json + adapter_model.safetensors)."""
    from peft import PeftModel

    if not (adapter / "adapter_config.json").is_file():
        raise TransformersLlmError(
            f"{adapter} holds no LoRA adapter (no adapter_config.json): pass the --out folder of `empathica finetune`"
        )
    try:
        return PeftModel.from_pretrained(base, str(adapter))
    except (OSError, ValueError, RuntimeError) as error:
        raise TransformersLlmError(
            f"could not apply the adapter in {adapter} to this model ({error}); use the base model it was trained "
            "on (see base_model in its empathica_finetune.json)"
        ) from None


def _stop_ids(tokenizer: Any, model: Any) -> frozenset[int]:
    """Tokens that end a reply: the tokenizer's EOS and the generation config's (e.g. Qwen's <|im_end|>)."""
    ids: set[int] = set()
    for value in (tokenizer.eos_token_id, getattr(model.generation_config, "eos_token_id", None)):
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, list | tuple):
            ids.update(int(v) for v in value)
    return frozenset(ids)


def _pick(logits: Any, temperature: float, generator: Any) -> int:
    """The next token: the most likely one at temperature 0, else a sample from softmax(logits / temperature)."""
    import torch

    if temperature <= 0.0:
        return int(torch.argmax(logits))
    probabilities = torch.softmax(logits / temperature, dim=-1)
    return int(torch.multinomial(probabilities, 1, generator=generator))
