"""The interfaces of the agent's engines; backends are chosen by configuration."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


class ChatModel(Protocol):
    """A chat LLM that streams its reply as text pieces."""

    def stream(self, messages: list[ChatMessage], max_tokens: int, temperature: float) -> Iterator[str]:
        """Yield the reply to `messages` piece by piece; stops when the generator is closed."""
        ...


class CompletionFromStream:
    """Mixin for LLM backends: `complete` gathers what the backend's `stream` yields into one string."""

    def complete(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
    ) -> str:
        """The whole reply to `messages` as one string (e.g. a JSON document under `json_schema`)."""
        stream = self.stream  # type: ignore[attr-defined]  # provided by the backend class
        return "".join(stream(messages, max_tokens, temperature, json_schema))
