"""Every path runs the same text turn (agent.mind): the server's pipeline, `empathica chat`, `empathica eval` and
`empathica replay`, fed the same conversation with the same scripted model, reach the same emotions and plans."""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path

import pytest

from agent.perception import TextPerception
from cli.chat import run_chat
from compose.config import Config, load_config
from compose.engines import load_acknowledger, load_reply_emotion, load_safety, persona_spec, responder_loader
from research.dialogues import Dialogue, DialogueTurn
from research.eval.command import build_text_agent
from research.eval.runner import Variant, run_dialogue
from research.replay import run_replay
from server.protocol import ReplyEnd, ReplyStart, UserEmotionOut
from server.turn.pipeline import TurnInput
from storage.store import ConversationStore
from tests.server.fakes import PlanModel, RecordingSink, make_pipeline

PLAN = {
    "event": "a loss",
    "user_emotion": "sadness",
    "cause": "missing someone",
    "strategy": "interpretation",
    "reply_emotion": "joy",  # inappropriate for grief: every path must clamp it the same way
    "response": "That sounds really hard. I am here with you.",
}
CONVERSATION = [
    "My grandmother died last night and I am so sad and lonely.",
    "I'm fine.",
    "Honestly I am furious that nobody from work even called me!",
    "I want to kill myself",
]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    config = load_config(environ={})
    config.empathy.warm_up = False
    config.storage.database = str(tmp_path / "turns.db")
    return config


def _serve(config: Config) -> list[tuple[str, str, str | None, dict[str, str] | None]]:
    """The conversation through the server's pipeline, as a session drives it; (user, agent, reply source, plan)."""
    model = PlanModel(PLAN)
    spec = persona_spec(config, "mira")
    chain = responder_loader(config, model)((spec.name, spec.prompt, spec.lens))
    safety, _hook = load_safety(config)
    store = ConversationStore(config.storage.path)
    pipeline = make_pipeline(
        store,
        perceiver=TextPerception().perceive,
        choose_reply_emotion=load_reply_emotion(config),
        responder=chain,
        safety=safety,
        acknowledger=load_acknowledger(config),
    )
    seen = []
    user = agent = None
    for index, text in enumerate(CONVERSATION):
        sink = RecordingSink()
        turn = TurnInput(
            session_id="s1",
            turn_index=index,
            kind="text",
            input_end=0.0,
            text=text,
            history=store.history("s1", config.server.history_turns),
            previous_emotion=agent,
            previous_user_emotion=user,
            persona=spec.name,
        )
        outcome = asyncio.run(pipeline.run(turn, sink, asyncio.Event()))
        user, agent = outcome.user_emotion, outcome.agent_emotion
        perceived = next(m for m in sink.messages if isinstance(m, UserEmotionOut)).emotion
        chosen = next(m for m in sink.messages if isinstance(m, ReplyStart)).emotion
        end = next(m for m in sink.messages if isinstance(m, ReplyEnd))
        seen.append(
            (
                f"{perceived.label} {perceived.intensity:.2f}",
                f"{chosen.label} {chosen.intensity:.2f}",
                end.text,
                end.plan,
            )
        )
    store.close()
    return seen


def test_server_chat_eval_and_replay_reach_the_same_emotions_and_plans(config: Config, tmp_path: Path) -> None:
    served = _serve(config)
    # The server path itself: a first reaction opens the reply, whose settled plan keeps the emotions it voiced;
    # the next turn's whole chain proposes joy to sadness, which is clamped (every path clamps it the same way);
    # the crisis bypasses the model with its category.
    assert served[0][2].startswith(("Oh, I'm so sorry.", "That sounds so hard.", "Oh no, I'm sorry."))
    assert served[0][3] is not None and served[0][3]["reasoning"] == "settled"
    assert served[0][3]["reply_emotion"] in ("neutral", "sadness") and served[0][3]["llm_reply_emotion"] == ""
    assert served[0][3]["lens"] == "person_centred"
    assert served[1][3] is not None and served[1][3]["reasoning"] == "full"
    assert served[1][3]["llm_reply_emotion"] == "joy" and served[1][3]["reply_emotion"] in ("neutral", "sadness")
    assert served[3][3] is not None and served[3][3]["source"] == "safety"

    # empathica eval: the same user and agent emotions, the same chain plans.
    agent = build_text_agent(config, model=PlanModel(PLAN), perceive=TextPerception().perceive)
    dialogue = Dialogue(id="d", turns=[DialogueTurn(user=text) for text in CONVERSATION])
    evaluated = run_dialogue(agent, dialogue, Variant("Mira", "person_centred")).turns
    for (user, chosen, reply, plan), turn in zip(served, evaluated, strict=True):
        assert f"{turn.user_emotion.label} {turn.user_emotion.intensity:.2f}" == user
        assert f"{turn.agent_emotion.label} {turn.agent_emotion.intensity:.2f}" == chosen
        assert turn.reply == reply
        assert turn.plan == (plan if plan is not None and plan["source"] != "safety" else None)
    assert evaluated[3].source == "safety"

    # empathica chat: the same emotions per turn, and the same clamped reply emotion.
    out = io.StringIO()
    perceive = TextPerception().perceive
    assert run_chat(config, CONVERSATION, out, model=PlanModel(PLAN), perceive=perceive, persona="mira") == 0
    shown = re.findall(r"\[user (\w+ [\d.]+) \| agent (\w+ [\d.]+)\]", out.getvalue())
    assert shown == [(user, chosen) for user, chosen, _, _ in served]
    clamps = re.findall(r"reply emotion: (\w+) \(model said joy; clamped\)", out.getvalue())
    assert clamps == [plan["reply_emotion"] for _, _, _, plan in served if plan and plan.get("llm_reply_emotion")]

    # empathica replay of the stored session: nothing moved.
    replay_agent = build_text_agent(config, model=PlanModel(PLAN), perceive=TextPerception().perceive)
    assert run_replay(config, "s1", "mira", tmp_path / "replay", agent=replay_agent, progress=io.StringIO()) == 0
    replayed = json.loads((tmp_path / "replay" / "replay.json").read_text())["turns"]
    for turn in replayed:
        assert turn["replayed_user_emotion"] == turn["original_user_emotion"]
        assert turn["replayed_agent_emotion"] == turn["original_agent_emotion"]
        assert turn["replayed_source"] == turn["original_source"]
        assert turn["word_overlap"] == 1.0
