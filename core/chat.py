"""One message of a conversation as a chat model reads it: shared by the agent (prompts) and the store (history)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class ChatMessage:
    """A system prompt, something the user said, or the assistant's reply."""

    role: Literal["system", "user", "assistant"]
    content: str
