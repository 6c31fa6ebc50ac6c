"""The prompt's token budget: system prompt + history + this turn's message (with the memory summary) + the reply
must fit the model's context window.

History is capped by turns elsewhere; a few long turns (2,000 emoji are 6,000 tokens for some tokenizers) would
still overflow the context, and then every later turn of that conversation would fail the same way. So the prompt
is fitted here, before the model sees it: the oldest exchanges are dropped first, then the memory summary; a
message that cannot fit even alone raises `PromptTooLong`, whose text tells the user what to do.

Tokens are counted with the backend's own tokenizer where it has one (`count_tokens` on agent.llm backends), else
with `estimate_tokens`, an upper bound for the byte-level tokenizers of today's chat models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from agent.base import ChatMessage

# Chat templates wrap each message in role markers (<|im_start|>user\n ... <|im_end|>\n: about 5 tokens), and the
# prompt as a whole in a start token, a generation prompt and, for some templates, a preamble (Llama 3.1's date
# lines). Both are generous so that the budget is an upper bound (tests/agent/test_prompt_budget.py checks it).
MESSAGE_OVERHEAD = 8
PROMPT_OVERHEAD = 48
_COUNT_CACHE = 512  # texts whose counts are remembered: the history repeats from turn to turn


class PromptTooLong(ValueError):
    """One message cannot fit the model's context even without any history; the message says what to do."""

    def __init__(self, tokens: int, room: int, context_tokens: int) -> None:
        super().__init__(
            f"the message is too long for the reply model: it takes about {tokens} tokens, and the model's context "
            f"(llm.context_tokens = {context_tokens}) leaves room for {max(room, 0)} beside its instructions and "
            "its reply; send a shorter message"
        )
        self.tokens = tokens
        self.room = room


def estimate_tokens(text: str) -> int:
    """An upper bound on the tokens of `text` without a tokenizer: its UTF-8 bytes, plus one.

    Byte-level BPE (Qwen, Llama 3, SmolLM, GPT) never needs more than one token per byte, and SentencePiece with
    byte fallback at most one more for a word-start marker. English prose needs about a quarter of this.
    """
    return len(text.encode("utf-8", errors="replace")) + 1


@dataclass(frozen=True)
class PromptBudget:
    """Fits prompts into `context_tokens`, keeping `reply_tokens` free for the reply; `count` counts a text."""

    context_tokens: int
    count: Callable[[str], int]
    reply_tokens: int = 0

    @classmethod
    def for_model(cls, model: Any, reply_tokens: int) -> PromptBudget | None:
        """The budget of an agent.llm backend: its `context_tokens`, its `count_tokens` (or the estimate).

        None for a model that does not say how large its context is (test fakes).
        """
        context = getattr(model, "context_tokens", None)
        if not isinstance(context, int) or context <= 0:
            return None
        count = getattr(model, "count_tokens", None)
        return cls(
            context, lru_cache(maxsize=_COUNT_CACHE)(count if callable(count) else estimate_tokens), reply_tokens
        )

    @property
    def room(self) -> int:
        """Tokens the messages may take."""
        return self.context_tokens - self.reply_tokens - PROMPT_OVERHEAD

    def cost(self, message: ChatMessage) -> int:
        """Tokens `message` takes in the prompt, its role markers included."""
        return self.count(message.content) + MESSAGE_OVERHEAD

    def fit(
        self,
        system: ChatMessage,
        history: Sequence[ChatMessage],
        turn: ChatMessage,
        bare_turn: ChatMessage | None = None,
    ) -> list[ChatMessage]:
        """The prompt `[system, *recent history, turn]` within the budget.

        The newest exchanges of `history` are kept while they fit (so the oldest go first), starting on a user
        message. When `turn` does not fit even alone, `bare_turn` (the same message without the memory summary)
        is tried. Raises PromptTooLong when neither fits.
        """
        fixed = self.cost(system)
        room = self.room - fixed
        for candidate in (turn, bare_turn):
            if candidate is None:
                continue
            needed = self.cost(candidate)
            if needed <= room:
                return [system, *self._recent(history, room - needed), candidate]
        raise PromptTooLong(self.cost(bare_turn or turn), room, self.context_tokens)

    def _recent(self, history: Sequence[ChatMessage], room: int) -> list[ChatMessage]:
        kept: list[ChatMessage] = []
        used = 0
        for message in reversed(history):
            used += self.cost(message)
            if used > room:
                break
            kept.append(message)
        kept.reverse()
        while kept and kept[0].role != "user":  # a leading assistant turn confuses some chat templates
            kept.pop(0)
        return kept
