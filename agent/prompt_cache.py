"""Keeping the reply model's prompt cache one step ahead of the conversation.

A chat model on a small CPU processes a prompt at about 40 tokens a second, and a reply cannot start before its
prompt is processed. llama.cpp (and vLLM) keep the processed prefix of the last prompt, so only what is new is
processed. The system prompt is the same every turn; the previous exchange is not: it enters the prompt at the next
turn, and without help its tokens are processed then, while the user waits. Warming the cache with the history the
next turn will begin with, while the user is still reading or typing, leaves only their new message to process.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.base import ChatMessage, ChatModel
from agent.prompt_budget import PromptBudget

# Stands in for the next user message: the cache keeps everything before it, the real message replaces it.
PLACEHOLDER = "Hello."


def recent_history(history: Sequence[ChatMessage], max_messages: int) -> list[ChatMessage]:
    """The last `max_messages` messages of `history` the model sees, starting on a user message (a leading
    assistant turn confuses some chat templates); system messages are left out, and 0 means none."""
    if max_messages <= 0:
        return []
    recent = [m for m in history if m.role != "system"][-max_messages:]
    while recent and recent[0].role != "user":
        recent = recent[1:]
    return recent


def warm_prompt_cache(
    model: ChatModel,
    system_prompt: str,
    history: Sequence[ChatMessage] = (),
    max_messages: int = 0,
    budget: PromptBudget | None = None,
) -> None:
    """Have `model` process the system prompt and the recent `history` (one generated token, discarded), so the
    next turn's prompt, which begins with both, finds them in the cache.

    With a `budget` the history is fitted to the model's context as a turn's is (oldest exchanges out first).
    Raises what the model raises."""
    system, recent, message = (
        ChatMessage("system", system_prompt),
        recent_history(history, max_messages),
        ChatMessage("user", PLACEHOLDER),
    )
    messages = [system, *recent, message] if budget is None else budget.fit(system, recent, message)
    for _ in model.stream(messages, 1, 0.0):
        pass
