"""`empathica chat`: orchestration with a scripted model, and one real run with SmolLM2."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from agent.base import ChatMessage
from server.chat_command import run_chat
from server.cli import main
from server.config import load_config

PLAN = {
    "event": "their dog died",
    "user_emotion": "sadness",
    "cause": "losing a companion",
    "strategy": "emotional_reaction",
    "reply_emotion": "joy",
    "response": "I'm so sorry. I'm here.",
}


class JsonModel:
    def __init__(self) -> None:
        self.calls: list[list[ChatMessage]] = []

    def stream(
        self, messages: list[ChatMessage], max_tokens: int, temperature: float, json_schema: Any = None
    ) -> Iterator[str]:
        self.calls.append(messages)
        yield json.dumps(PLAN)


def test_chat_shows_emotions_reply_and_reasoning():
    model = JsonModel()
    out = io.StringIO()
    lines = ["My dog died yesterday and I'm heartbroken.", "", "I want to kill myself", "/quit", "never read"]
    assert run_chat(load_config(environ={}), lines, out, model=model) == 0
    text = out.getvalue()
    assert "[user sadness" in text and "| agent " in text
    assert "Mira: I'm so sorry." in text and "I'm here." in text
    assert "cause: losing a companion" in text and "strategy: emotional_reaction" in text
    assert "model said joy; clamped" in text
    assert "[safety: suicide" in text
    # The prompt-cache warm-up and one turn: the crisis message bypassed the model; nothing after /quit ran.
    assert len(model.calls) == 2


@pytest.mark.models
def test_empathica_chat_runs_with_a_real_model(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("I lost my job today.\n"))
    monkeypatch.setenv("EMPATHICA_LLM_THREADS", "2")
    assert main(["chat", "--model", "smollm2-135m", "--lens", "reality"]) == 0
    out = capsys.readouterr().out
    assert "[user " in out and "Mira: " in out and "[first sentence" in out
