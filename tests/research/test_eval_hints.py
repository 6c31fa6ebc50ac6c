"""The hints of the chain's prompt, read back from the message the model received."""

from __future__ import annotations

from agent.base import ChatMessage
from agent.empathy.chain import EmpathyChain
from agent.empathy.schema import STRATEGIES
from core.emotion import EmotionState
from research.eval.hints import HintParser, HintRecorder, template_pattern
from tests.server.fakes import PlanModel

PLAN = {
    "event": "e",
    "user_emotion": "sadness",
    "cause": "c",
    "strategy": "interpretation",
    "reply_emotion": "neutral",
    "response": "I hear you.",
}


def test_template_pattern_captures_named_placeholders():
    pattern = template_pattern("they seem $feeling ($label). Next: $$5 $other.", {"label": "[a-z]+"})
    match = pattern.fullmatch("they seem very sad (sadness). Next: $5 anything at all.")
    assert match is not None and match.group("label") == "sadness"


def test_hints_of_a_real_chain_turn_message():
    chain = EmpathyChain(PlanModel(PLAN), "You are Mira.", lens="cbt")
    asked = [
        ChatMessage("user", "a"),
        ChatMessage("assistant", "b?"),
        ChatMessage("user", "c"),
        ChatMessage("assistant", "d?"),
    ]
    turn = chain.turn(
        "I lost my job.",
        EmotionState.from_label("sadness", 0.8),
        EmotionState.from_label("neutral", 0.3),
        asked,
        summary="They talked about work.",
    )
    hints = HintParser().parse(turn.messages[-1].content, turn.schema)
    assert hints is not None
    assert (hints.told_user_emotion, hints.suggested_reply_emotion) == ("sadness", "neutral")
    # After two questions in a row exploration is neither suggested nor allowed.
    assert hints.suggested_strategy in ("emotional_reaction", "interpretation")
    assert hints.no_exploration and hints.allowed_strategies == ("emotional_reaction", "interpretation")


def test_the_recorder_keeps_only_chain_calls_and_passes_everything_through():
    model = PlanModel(PLAN)
    recorder = HintRecorder(model)
    chain = EmpathyChain(recorder, "You are Mira.", lens="cbt")
    said = list(
        chain.turn("Hello there.", EmotionState.from_label("joy", 0.9), EmotionState.from_label("joy", 0.7), [])
    )
    assert said == ["I hear you."]
    hints = recorder.take()
    assert hints is not None and hints.told_user_emotion == "joy" and hints.suggested_strategy in STRATEGIES
    assert recorder.take() is None  # taken once
    "".join(recorder.stream([ChatMessage("user", "Summarise.")], 10, 0.2))  # no schema: not a chain turn
    assert recorder.take() is None and len(model.calls) == 2
