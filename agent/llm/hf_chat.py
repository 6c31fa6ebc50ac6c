"""Chat messages to token ids for a Hugging Face tokenizer: one encoding shared by fine-tuning and inference.

A LoRA adapter only works as well as the prompt it sees matches the prompt it was trained on, so
`empathica finetune` (research/finetune) and the transformers backend (agent/llm/transformers_chat.py) both build
their token ids here.

With a chat template (`tokenizer.chat_template`, e.g. Qwen's or Llama's) the template renders the messages. A
tokenizer without one gets the plain format below, one block per message, the reply ending with the EOS token::

    <|system|>
    You are Empathica ...
    <|user|>
    I lost my job today. ...
    <|assistant|>
    I'm so sorry. ...</s>
"""

from __future__ import annotations

from typing import Any

from agent.base import ChatMessage

PLAIN_ASSISTANT = "<|assistant|>\n"


class ChatFormatError(ValueError):
    """The tokenizer cannot encode a chat; the message says what to do."""


def has_chat_template(tokenizer: Any) -> bool:
    """Whether the tokenizer brings its own chat template (else the plain format is used)."""
    return bool(getattr(tokenizer, "chat_template", None))


def plain_prompt(messages: list[ChatMessage]) -> str:
    """The plain-format text of `messages`, ending where the assistant's reply starts."""
    return "".join(f"<|{m.role}|>\n{m.content}\n" for m in messages) + PLAIN_ASSISTANT


def prompt_text(tokenizer: Any, messages: list[ChatMessage]) -> str:
    """The text the model reads before it writes its reply (chat template, else the plain format)."""
    if not has_chat_template(tokenizer):
        return plain_prompt(messages)
    return str(tokenizer.apply_chat_template(_dicts(messages), tokenize=False, add_generation_prompt=True))


def encode_prompt(tokenizer: Any, messages: list[ChatMessage]) -> list[int]:
    """Token ids of the prompt for `messages`, ready for the model to continue with the reply."""
    text = prompt_text(tokenizer, messages)
    # A chat template writes its own BOS token; the plain format gets the tokenizer's usual special tokens.
    return list(tokenizer(text, add_special_tokens=not has_chat_template(tokenizer))["input_ids"])


def encode_completion(tokenizer: Any, messages: list[ChatMessage], reply: str) -> list[int]:
    """Token ids of `reply` as the assistant's answer to `messages`, with the end-of-turn marker the model must learn.

    Encoded apart from the prompt (not as one string) so that the prompt's ids are exactly `encode_prompt`'s: the
    ids the model continues from at inference.
    """
    if has_chat_template(tokenizer):
        prompt = prompt_text(tokenizer, messages)
        full = str(
            tokenizer.apply_chat_template(
                _dicts([*messages, ChatMessage("assistant", reply)]), tokenize=False, add_generation_prompt=False
            )
        )
        if full.startswith(prompt):
            return list(tokenizer(full[len(prompt) :], add_special_tokens=False)["input_ids"])
        # A template that rewrites earlier turns once a reply follows (some strip reasoning blocks): fall back to
        # the reply text and the EOS token, which still teaches the model where to stop.
    if tokenizer.eos_token_id is None:
        raise ChatFormatError(
            "the tokenizer has no EOS token, so a reply cannot be taught to end; use a base model whose tokenizer "
            "defines eos_token (tokenizer_config.json) or add one"
        )
    return [*tokenizer(reply, add_special_tokens=False)["input_ids"], int(tokenizer.eos_token_id)]


def _dicts(messages: list[ChatMessage]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]
