"""The interfaces of the agent's engines; backends are chosen by configuration."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


class ChatModel(Protocol):
    """A chat LLM that streams its reply as text pieces."""

    def stream(self, messages: list[ChatMessage], max_tokens: int, temperature: float) -> Iterator[str]:
        """Yield the reply to `messages` piece by piece; stops when the generator is closed."""
        ...
