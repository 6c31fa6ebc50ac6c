"""The baselines: the agent's turn with one part stripped away, run through the same runner."""

from __future__ import annotations

from research.dialogues import Dialogue, DialogueTurn
from research.eval.baselines import RuleReplies, baseline_agent
from research.eval.runner import ALWAYS_NEUTRAL, NO_CHAIN, RULES_ONLY, Variant, run_dialogue

DIALOGUE = Dialogue(
    id="d",
    turns=[
        DialogueTurn(user="My dog died this morning and I am so sad.", user_emotion="sadness"),
        DialogueTurn(user="I feel like I'd be better off dead."),
    ],
)
MIRA = Variant("Mira", "person_centred")


def test_always_neutral_perceives_feels_and_says_nothing_in_particular(agent, plan_model):
    calls = len(plan_model.calls)
    result = run_dialogue(baseline_agent(ALWAYS_NEUTRAL, agent), DIALOGUE, Variant("Mira", "cbt", ALWAYS_NEUTRAL))
    first, crisis = result.turns
    assert first.perceived.label == "neutral" and first.agent_emotion.label == "neutral"
    assert first.reply == "I'm here and listening. Tell me more whenever you like." and first.source == "plain"
    assert crisis.source == "safety"  # the same safety screen as the agent
    assert len(plan_model.calls) == calls  # no LLM


def test_rules_only_reads_the_user_and_answers_with_the_rule_based_line(agent, plan_model):
    calls = len(plan_model.calls)
    result = run_dialogue(baseline_agent(RULES_ONLY, agent), DIALOGUE, Variant("Mira", "cbt", RULES_ONLY))
    first = result.turns[0]
    assert first.perceived.label == "sadness"
    assert first.reply == "I'm so sorry you're going through this. I'm here with you."
    assert first.plan is None and len(plan_model.calls) == calls


def test_no_chain_answers_through_the_plain_responder_on_the_same_model(agent, plan_model):
    result = run_dialogue(baseline_agent(NO_CHAIN, agent, agent.plain_responder_for), DIALOGUE, MIRA)
    first = result.turns[0]
    assert first.source == "plain" and first.plan is None and first.hints is None
    assert plan_model.calls[-1][-1].role == "user" and "reply with" in plan_model.calls[-1][-1].content.lower()


def test_rule_replies_follow_the_perceived_emotion():
    from core.emotion import EmotionState

    rules = RuleReplies()
    joy = EmotionState.from_label("joy", 0.9)
    assert list(rules.reply("I passed!", joy, joy, [])) == ["That's wonderful to hear.", "I'm really glad for you."]
