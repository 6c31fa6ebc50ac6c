"""agent.mind: the text half of a turn, with fakes for the parts (the paths that call it: tests/test_turn_paths.py)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from agent.base import ChatMessage
from agent.mind import Conversation, Mind, SafetyPlan, TurnContext
from agent.perception.smoothing import smooth
from core.emotion import EmotionState


class RecordingPerceiver:
    def __init__(self) -> None:
        self.seen: list[tuple[str, tuple[str, ...]]] = []

    def __call__(self, text: str, context: Sequence[str] = ()) -> EmotionState:
        self.seen.append((text, tuple(context)))
        return EmotionState.from_label("sadness" if "sad" in text else "joy", 0.6)


def choose(user: EmotionState, previous: EmotionState | None, persona: str = "") -> EmotionState:
    return EmotionState.from_label("neutral" if persona == "calm" else "sadness", 0.3)


@dataclass(frozen=True)
class Verdict:
    category: str = "suicide"
    matched: str = "end it"
    response: str = "I'm glad you told me. Please call someone now."
    score: float | None = 0.91


class Plain:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.histories: list[list[ChatMessage]] = []

    def reply(
        self, user_text: str, user_emotion: EmotionState, agent_emotion: EmotionState, history: list[ChatMessage]
    ) -> Iterator[str]:
        self.histories.append(history)
        if self.fail:
            raise ConnectionError("the LLM server is down")
        yield f"I hear you ({agent_emotion.label})."

    def warm_up(self) -> None:
        pass


def test_the_user_is_read_with_earlier_utterances_and_smoothed() -> None:
    perceive = RecordingPerceiver()
    mind = Mind(perceive, choose)
    conversation = Conversation(persona="calm")
    first = mind.turn(Plain(), "I am so sad", conversation.context())
    conversation.add("I am so sad", first)
    second = mind.turn(Plain(), "ok", conversation.context())
    assert perceive.seen == [("I am so sad", ()), ("ok", ("I am so sad",))]
    assert second.appraisal.user == smooth(first.appraisal.user, second.appraisal.perceived)
    assert second.appraisal.agent.label == "neutral"  # the persona reached the chooser
    assert second.source == "plain" and second.plan is None and second.reply == "I hear you (neutral)."


def test_a_crisis_gets_the_scripted_reply_and_a_safety_plan_without_the_model() -> None:
    responder = Plain()
    mind = Mind(RecordingPerceiver(), choose, safety=lambda text: Verdict() if "end it" in text else None)
    turn = mind.turn(responder, "I want to end it")
    assert turn.source == "safety" and responder.histories == []
    assert turn.plan == SafetyPlan("suicide", "end it", Verdict.response, 0.91)
    assert turn.plan.to_dict() == {"source": "safety", "category": "suicide", "matched": "end it", "score": "0.910"}
    assert turn.appraisal.agent.label == "neutral" and turn.reply == Verdict.response


def test_a_failing_model_is_recorded_not_raised() -> None:
    turn = Mind(RecordingPerceiver(), choose).turn(Plain(fail=True), "hello")
    assert turn.source == "error" and "the LLM server is down" in turn.error and turn.sentences == []


def test_the_model_sees_only_the_history_window() -> None:
    history = tuple(ChatMessage("user" if i % 2 == 0 else "assistant", f"m{i}") for i in range(10))
    responder = Plain()
    Mind(RecordingPerceiver(), choose, history_turns=2).turn(responder, "hi", TurnContext(history=history))
    assert [m.content for m in responder.histories[0]] == ["m6", "m7", "m8", "m9"]


def test_an_in_memory_conversation_keeps_a_running_summary_like_the_server() -> None:
    from agent.memory import SummaryMemory

    mind = Mind(RecordingPerceiver(), choose, history_turns=2)
    conversation = Conversation(memory=SummaryMemory(None, every_turns=2), window=2)
    for n in range(5):
        text = f"I am sad about thing {n}."
        conversation.add(text, mind.turn(Plain(), text, conversation.context()))
    # After four exchanges two had left the window: due (every 2), folded in (extractive); the fifth's one is not due.
    assert conversation.summarised_through == 2
    assert "thing 1" in conversation.summary and "thing 2" not in conversation.summary
