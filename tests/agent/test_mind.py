"""agent.mind: the text half of a turn, with fakes for the parts (the paths that call it: tests/test_turn_paths.py)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from agent.base import ChatMessage
from agent.mind import Conversation, Mind, Reply, SafetyPlan, TurnContext
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
    max_sentences = 0  # no sentence limit

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

    def warm_up(self, history: Sequence[ChatMessage] = ()) -> None:
        pass

    def check_room(self, *args: object, **kwargs: object) -> None:
        pass  # no prompt budget


def test_the_user_is_read_with_earlier_utterances_and_smoothed() -> None:
    perceive = RecordingPerceiver()
    mind = Mind(perceive, choose, check_words=False)  # the perceiver sees only the user's words
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


class Scripted:
    """A plain responder that says each of `replies` in turn (one per generation)."""

    def __init__(self, *replies: list[str], max_sentences: int = 0) -> None:
        self.replies = list(replies)
        self.generations = 0
        self.max_sentences = max_sentences  # the persona's limit, as the real responders carry it (0: none)

    def reply(
        self, user_text: str, user_emotion: EmotionState, agent_emotion: EmotionState, history: list[ChatMessage]
    ) -> Iterator[str]:
        self.generations += 1
        yield from self.replies.pop(0)

    def warm_up(self, history: Sequence[ChatMessage] = ()) -> None:
        pass

    def check_room(self, *args: object, **kwargs: object) -> None:
        pass  # no prompt budget


def cheer_reader(text: str, context: Sequence[str] = ()) -> EmotionState:
    """Reads "Yay" as joy, "sad"/"sorry" as sadness, anything else as neutral (a stand-in text perceiver)."""
    label = "joy" if "Yay" in text else "sadness" if ("sad" in text or "sorry" in text) else "neutral"
    return EmotionState.from_label(label, 0.8)


def test_cheer_at_grief_is_regenerated_once_then_replaced_and_never_spoken() -> None:
    mind = Mind(cheer_reader, choose)
    once = Scripted(["Yay! Great news."], ["I am so sorry.", "I am here."])
    turn = mind.turn(once, "I am so sad, my cat died")
    assert turn.sentences == ["I am so sorry.", "I am here."] and once.generations == 2
    twice = Scripted(["Yay! Great news."], ["Yay, cheer up!"])
    turn = mind.turn(twice, "I am so sad, my cat died")
    assert not any("Yay" in s for s in turn.sentences) and twice.generations == 2
    assert turn.sentences == ["I'm so sorry you're going through this.", "I'm here with you."]  # the scripted line
    assert turn.plan is not None and turn.plan.to_dict() == {"source": "replaced", "reason": "incongruent words (joy)"}


def test_a_late_contradiction_stops_the_reply_without_a_second_generation() -> None:
    late = Scripted(["I am sorry.", "Yay, look on the bright side!", "More."])
    turn = Mind(cheer_reader, choose).turn(late, "I am so sad")
    assert turn.sentences[0] == "I am sorry." and late.generations == 1
    assert not any("Yay" in s or s == "More." for s in turn.sentences)


def test_naming_the_users_own_feeling_is_not_a_contradiction() -> None:
    def fear_reader(text: str, context: Sequence[str] = ()) -> EmotionState:
        return EmotionState.from_label("fear" if "scared" in text else "neutral", 0.9)

    said = Scripted(["That sounds really scary, feeling scared like that."])
    mind = Mind(fear_reader, lambda user, previous, persona="": EmotionState.from_label("neutral", 0.2))
    turn = mind.turn(said, "I am scared of the surgery")
    assert turn.sentences == ["That sounds really scary, feeling scared like that."] and said.generations == 1


def test_reflecting_a_negative_feeling_at_distress_passes_but_distress_at_joy_does_not() -> None:
    def reader(text: str, context: Sequence[str] = ()) -> EmotionState:
        label = "anger" if "frustrating" in text else "sadness" if "down" in text else "neutral"
        state = EmotionState.from_label(label, 0.9)
        return EmotionState(state.vad, label, 0.9, {label: 0.9, "neutral": 0.1})  # a clear reading

    calm = lambda user, previous, persona="": EmotionState.from_label("neutral", 0.2)  # noqa: E731
    mind = Mind(reader, calm)
    sad = Scripted(["That sounds so frustrating."])
    assert mind.turn(sad, "I feel so down after the exam").sentences == ["That sounds so frustrating."]

    def joyful(text: str, context: Sequence[str] = ()) -> EmotionState:
        return reader(text) if text.startswith("That") else EmotionState.from_label("joy", 0.9)

    happy = Scripted(["That sounds so frustrating."], ["That sounds so frustrating."])
    turn = Mind(joyful, calm).turn(happy, "I got the job!")
    assert "frustrating" not in " ".join(turn.sentences) and happy.generations == 2


def test_a_replacement_after_spoken_words_stays_within_the_sentence_limit() -> None:
    late = Scripted(["I am sorry.", "Yay, look on the bright side!"], max_sentences=2)
    turn = Mind(cheer_reader, choose).turn(late, "I am so sad")
    # One sentence was spoken, so only the first of the two scripted sentences fits.
    assert turn.sentences == ["I am sorry.", "I'm so sorry you're going through this."]
    unlimited = Scripted(["I am sorry.", "Yay, look on the bright side!"])
    assert len(Mind(cheer_reader, choose).turn(unlimited, "I am so sad").sentences) == 3
    short = Scripted(["Yay! Great news."], ["Yay, cheer up!"], max_sentences=1)
    turn = Mind(cheer_reader, choose).turn(short, "I am so sad")
    assert turn.sentences == ["I'm so sorry you're going through this."]


def test_the_model_starts_only_when_the_sentence_after_the_opening_is_asked_for() -> None:
    # A server holds between the two (server.turn.llm_stream's hold_after_first) so the first reaction's voice
    # and face get the CPU before the model's prompt processing does.
    events: list[str] = []

    def generate(said: str) -> tuple[Iterator[str], None]:
        events.append(f"model told {said!r}")
        return iter(["More."]), None

    sentences = iter(Reply("model", generate, opening="I'm sorry."))
    assert next(sentences) == "I'm sorry." and events == []
    assert next(sentences) == "More." and events == ['model told "I\'m sorry."']
