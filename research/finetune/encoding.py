"""Training examples to token ids, with the loss on the reply only.

The prompt ids are exactly what the transformers backend feeds the model at inference (agent.llm.hf_chat); their
labels are -100, which torch's cross-entropy ignores, so the adapter learns to write the reply, not the prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.llm.hf_chat import encode_completion, encode_prompt
from research.finetune.examples import ChatExample

IGNORE = -100  # the label torch.nn.functional.cross_entropy skips by default


@dataclass(frozen=True)
class EncodedExample:
    """Token ids of prompt + reply, and labels that are -100 on the prompt and the ids themselves on the reply."""

    input_ids: list[int]
    labels: list[int]

    @property
    def reply_tokens(self) -> int:
        return sum(label != IGNORE for label in self.labels)


def encode_example(tokenizer: Any, example: ChatExample, max_tokens: int) -> EncodedExample:
    """Encode one example; a prompt too long for `max_tokens` loses its oldest tokens, never the reply."""
    prompt = encode_prompt(tokenizer, example.messages)
    reply = encode_completion(tokenizer, example.messages, example.reply)
    if len(reply) >= max_tokens:
        raise ValueError(
            f"the reply of {example.dialogue_id} turn {example.turn + 1} has {len(reply)} tokens, not fewer than "
            f"--max-tokens {max_tokens}; raise --max-tokens or shorten the reply"
        )
    prompt = prompt[len(prompt) + len(reply) - max_tokens :] if len(prompt) + len(reply) > max_tokens else prompt
    return EncodedExample(input_ids=prompt + reply, labels=[IGNORE] * len(prompt) + reply)


def collate(batch: list[EncodedExample], pad_id: int) -> dict[str, Any]:
    """Right-pad a batch into tensors: input_ids, attention_mask (0 on padding) and labels (-100 on padding)."""
    import torch

    width = max(len(e.input_ids) for e in batch)
    ids = [e.input_ids + [pad_id] * (width - len(e.input_ids)) for e in batch]
    labels = [e.labels + [IGNORE] * (width - len(e.labels)) for e in batch]
    mask = [[1] * len(e.input_ids) + [0] * (width - len(e.input_ids)) for e in batch]
    return {"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask), "labels": torch.tensor(labels)}
