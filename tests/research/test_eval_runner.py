"""The text-mode runner: a dialogue is played as a server session plays it (orchestration, scripted model)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from agent.perception import TextPerception
from agent.perception.smoothing import smooth
from core.emotion import EmotionState
from research.dialogues import Dialogue, DialogueTurn
from research.eval.runner import TextAgent, Variant, run_dialogue, run_variant

DIALOGUE = Dialogue(
    id="grief",
    topic="loss",
    turns=[
        DialogueTurn(user="My dog died this morning and I am so sad.", user_emotion="sadness", reply="I'm sorry."),
        DialogueTurn(user="The house is so quiet now.", user_emotion="sadness"),
        DialogueTurn(user="Thanks for listening, that helps.", user_emotion="neutral"),
    ],
)
MIRA = Variant("Mira", "person_centred")


def test_turns_carry_smoothed_emotion_history_and_the_plan(agent, plan_model):
    result = run_dialogue(agent, DIALOGUE, MIRA)
    assert [t.index for t in result.turns] == [0, 1, 2]
    first, second = result.turns[0], result.turns[1]
    # The user's state is smoothed across turns, as the server's pipeline does.
    perceive = TextPerception().perceive
    assert first.perceived == perceive(DIALOGUE.turns[0].user) and first.user_emotion == first.perceived
    # ... and each utterance is read with the user's previous ones in view.
    context = [DIALOGUE.turns[0].user]
    assert second.user_emotion == smooth(first.user_emotion, perceive(DIALOGUE.turns[1].user, context))
    # The model saw the dialogue so far (its own previous reply included) and the persona's lens.
    third_call = plan_model.calls[-1]
    assert "person-centred" in third_call[0].content.lower()
    assert [m.role for m in third_call[1:]] == ["user", "assistant", "user", "assistant", "user"]
    assert third_call[2].content == "That sounds really hard. I am here with you."
    # The plan is kept with the clamp applied: joy is not an answer to grief.
    assert first.source == "model" and first.attempts == 1 and first.plan is not None
    assert first.plan["llm_reply_emotion"] == "joy" and first.reply_emotion in ("neutral", "sadness")
    assert first.gold_user_emotion == "sadness" and first.reference_reply == "I'm sorry."
    assert first.reply == "That sounds really hard. I am here with you."
    assert 0 <= first.first_sentence_s <= first.total_s


def test_the_persona_and_previous_agent_emotion_reach_the_transition(agent):
    seen: list[tuple[EmotionState | None, str]] = []
    choose = agent.choose_reply_emotion

    def recording(user: EmotionState, previous: EmotionState | None, persona: str = "") -> EmotionState:
        seen.append((previous, persona))
        return choose(user, previous, persona=persona)

    agent.choose_reply_emotion = recording
    result = run_dialogue(agent, DIALOGUE, Variant("Kai", "reality"), max_turns=2)
    assert len(result.turns) == 2
    assert seen == [(None, "Kai"), (result.turns[0].agent_emotion, "Kai")]


def test_a_crisis_message_gets_the_scripted_reply(agent, plan_model):
    crisis = Dialogue(id="c", turns=[DialogueTurn(user="I feel like I'd be better off dead.")])
    turn = run_dialogue(agent, crisis, MIRA).turns[0]
    assert turn.source == "safety" and turn.plan is None
    assert "taking what you said seriously" in turn.reply
    assert len(plan_model.calls) == 1  # only the prompt-cache warm-up: the crisis message never reached the model


class BrokenModel:
    def stream(self, messages: Any, max_tokens: int, temperature: float, json_schema: Any = None) -> Iterator[str]:
        raise ConnectionError("the LLM server is down")
        yield ""


def test_a_failing_model_is_recorded_and_the_dialogue_goes_on(config):
    from research.eval.command import build_text_agent

    config.empathy.warm_up = False
    agent = build_text_agent(config, model=BrokenModel(), perceive=TextPerception().perceive)
    result = run_dialogue(agent, DIALOGUE, MIRA)
    assert [t.source for t in result.turns] == ["error"] * 3
    assert "the LLM server is down" in result.turns[0].error and result.turns[0].reply == ""


def test_a_plain_responder_has_no_plan():
    class Plain:
        max_sentences = 0

        def check_room(self, *args: Any, **kwargs: Any) -> None:
            pass  # no prompt budget

        def reply(self, text: str, user: EmotionState, agent: EmotionState, history: list[Any]) -> Iterator[str]:
            yield f"You said {len(history) // 2} things before."

    agent = TextAgent(
        perceive=TextPerception().perceive,
        choose_reply_emotion=lambda user, previous, persona="": EmotionState.from_label("neutral", 0.2),
        responder_for=lambda variant: Plain(),
        history_turns=1,  # only the last turn is context
    )
    result = run_dialogue(agent, DIALOGUE, MIRA)
    assert [t.source for t in result.turns] == ["plain"] * 3
    assert [t.reply for t in result.turns] == [f"You said {n} things before." for n in (0, 1, 1)]
    assert result.turns[2].reply_emotion == "neutral"


def test_run_variant_prints_a_line_per_dialogue(agent):
    progress = io.StringIO()
    results = run_variant(agent, [DIALOGUE, DIALOGUE.model_copy(update={"id": "again"})], MIRA, 1, progress)
    assert [len(r.turns) for r in results] == [1, 1]
    lines = progress.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith("[eval] mira-person_centred 2/2 again: 1 turns")
