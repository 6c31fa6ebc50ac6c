"""`empathica chat`: orchestration with a scripted model, and one real run with SmolLM2."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

import pytest

from agent.perception import TextPerception
from cli.chat import run_chat
from cli.main import main
from compose.config import load_config
from core.emotion import EmotionState
from tests.server.fakes import PlanModel, sure_reading

PLAN = {
    "event": "their dog died",
    "user_emotion": "sadness",
    "cause": "losing a companion",
    "strategy": "emotional_reaction",
    "reply_emotion": "joy",
    "response": "I'm so sorry. I'm here.",
}


def plan_model() -> PlanModel:
    return PlanModel(PLAN, piece=len(json.dumps(PLAN)))


def test_chat_shows_emotions_reply_and_reasoning():
    model = plan_model()
    out = io.StringIO()
    lines = ["My dog died yesterday and I'm heartbroken.", "", "I want to kill myself", "/quit", "never read"]
    config = load_config(environ={"EMPATHICA_EMPATHY_ACKNOWLEDGE": "false"})  # the model's words come first here
    assert run_chat(config, lines, out, model=model, perceive=TextPerception().perceive) == 0
    text = out.getvalue()
    assert "[user sadness" in text and "| agent " in text
    assert "Mira: I'm so sorry." in text and "I'm here." in text
    assert "cause: losing a companion" in text and "strategy: emotional_reaction" in text
    assert "model said joy; clamped" in text
    assert "[safety: suicide" in text
    # The prompt-cache warm-up and one turn: the crisis message bypassed the model; nothing after /quit ran.
    assert len(model.calls) == 2


def test_chat_opens_with_a_first_reaction_the_model_is_told_about():
    model = plan_model()
    out = io.StringIO()

    def perceive(text: str, context: Sequence[str] = ()) -> EmotionState:
        return sure_reading("sadness")  # a first reaction needs a sure reading (agent.acknowledgement)

    assert run_chat(load_config(environ={}), ["My dog died yesterday and I'm heartbroken."], out, model, perceive) == 0
    reply_lines = [line for line in out.getvalue().splitlines() if line.startswith("Mira: ")]
    assert reply_lines and reply_lines[0] in ("Mira: Oh, I'm so sorry.", "Mira: That sounds so hard.",
                                               "Mira: Oh no, I'm sorry.")
    said = reply_lines[0].removeprefix("Mira: ")
    assert f'You have already said aloud: "{said}"' in model.calls[-1][-1].content


def test_chat_uses_the_personas_lens_unless_told_otherwise():
    config, perceive = load_config(environ={}), TextPerception().perceive
    kai, out = plan_model(), io.StringIO()
    assert run_chat(config, ["hello"], out, model=kai, perceive=perceive, persona="kai") == 0
    assert "Chatting with Kai (reality lens" in out.getvalue() and "Kai: I'm so sorry." in out.getvalue()
    assert "reality therapy" in kai.calls[0][0].content
    forced = plan_model()
    assert run_chat(config, ["hello"], io.StringIO(), model=forced, perceive=perceive, persona="Kai", lens="dbt") == 0
    assert "dialectical behaviour therapy" in forced.calls[0][0].content


@pytest.mark.models
def test_empathica_chat_uses_the_real_perception():
    out = io.StringIO()
    assert run_chat(load_config(environ={}), ["I am so happy today!"], out, model=plan_model()) == 0
    assert "[user joy" in out.getvalue()


@pytest.mark.models
def test_empathica_chat_runs_with_a_real_model(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("I lost my job today.\n"))
    monkeypatch.setenv("EMPATHICA_LLM_THREADS", "2")
    assert main(["chat", "--model", "smollm2-135m", "--persona", "Sunny", "--lens", "reality"]) == 0
    out = capsys.readouterr().out
    assert "[user " in out and "Sunny: " in out and "[first sentence" in out
