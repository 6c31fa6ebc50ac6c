"""Warming the reply model's prompt cache: which messages it processes (a recording model; the real engine's
cache is tested in tests/agent/test_embedded_llm.py)."""

from __future__ import annotations

from collections.abc import Iterator

from agent.base import ChatMessage
from agent.prompt_budget import PromptBudget
from agent.prompt_cache import recent_history, warm_prompt_cache
from tests.agent.test_prompt_budget import ContextModel

U1, A1, U2, A2 = (
    ChatMessage("user", "My cat is ill."),
    ChatMessage("assistant", "I'm sorry. What happened?"),
    ChatMessage("user", "He stopped eating."),
    ChatMessage("assistant", "That sounds worrying."),
)


class RecordingModel:
    def __init__(self) -> None:
        self.calls: list[tuple[list[ChatMessage], int]] = []

    def stream(self, messages: list[ChatMessage], max_tokens: int, temperature: float) -> Iterator[str]:
        self.calls.append((messages, max_tokens))
        yield "x"


def test_recent_history_keeps_the_last_messages_and_starts_on_the_user():
    history = [ChatMessage("system", "old prompt"), U1, A1, U2, A2]
    assert recent_history(history, 4) == [U1, A1, U2, A2]
    assert recent_history(history, 3) == [U2, A2]  # A1 would lead: dropped
    assert recent_history(history, 0) == []


def test_warming_processes_the_system_prompt_and_the_recent_history_for_one_token():
    model = RecordingModel()
    warm_prompt_cache(model, "You are Mira.", [U1, A1, U2, A2], max_messages=2)
    messages, max_tokens = model.calls[0]
    assert max_tokens == 1
    assert messages[:3] == [ChatMessage("system", "You are Mira."), U2, A2]
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]  # the next message's place


def test_warming_without_history_processes_the_system_prompt():
    model = RecordingModel()
    warm_prompt_cache(model, "You are Mira.")
    assert [m.role for m in model.calls[0][0]] == ["system", "user"]


def test_with_a_budget_the_history_is_fitted_to_the_context_like_a_turns():
    model = ContextModel(300)
    long = [ChatMessage("user", "\U0001f600" * 150), ChatMessage("assistant", "That is a lot of smiles.")]
    warm_prompt_cache(model, "You are Mira.", [*long, U2, A2], 8, PromptBudget.for_model(model, 64))
    assert model.prompts[0][1:3] == [U2, A2]  # the long, older exchange left first: the request fits
