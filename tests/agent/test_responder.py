from collections.abc import Iterator

import pytest

from agent.base import ChatMessage
from agent.prompts import PromptLibrary
from agent.responder import Responder
from core.emotion import EmotionState

SAD = EmotionState.from_label("sadness", 1.0)
COMPASSION = EmotionState.from_label("sadness", 0.4)


class FakeModel:
    """Streams scripted pieces and records what it was asked; notes when the consumer closed the stream."""

    def __init__(self, pieces: list[str]) -> None:
        self.pieces = pieces
        self.calls: list[list[ChatMessage]] = []
        self.yielded = 0
        self.closed = False

    def stream(self, messages: list[ChatMessage], max_tokens: int, temperature: float) -> Iterator[str]:
        self.calls.append(list(messages))
        try:
            for piece in self.pieces:
                self.yielded += 1
                yield piece
        except GeneratorExit:
            self.closed = True
            raise


@pytest.fixture
def persona() -> str:
    return PromptLibrary().load("persona_default")


def test_sentences_come_out_as_they_complete(persona: str):
    model = FakeModel(["I'm so ", "sorry. ", "That sounds ", "really hard. ", "I'm here", "."])
    replies = Responder(model, persona).reply("My dog died.", SAD, COMPASSION, [])
    assert next(replies) == "I'm so sorry."
    assert model.yielded == 2  # the first sentence came out before the model wrote the rest
    assert list(replies) == ["That sounds really hard.", "I'm here."]


def test_prompt_has_stable_system_prompt_history_and_guidance(persona: str):
    model = FakeModel(["Okay."])
    responder = Responder(model, persona)
    history = [ChatMessage("user", "Hi"), ChatMessage("assistant", "Hello! How are you?")]
    list(responder.reply("My dog died.", SAD, COMPASSION, history))
    list(responder.reply("I got the job!", EmotionState.from_label("joy", 0.9), EmotionState.from_label("joy"), []))
    first, second = model.calls
    assert first[0] == second[0] == ChatMessage("system", persona)
    assert first[1:3] == history
    latest = first[-1]
    assert latest.role == "user"
    assert latest.content.startswith("My dog died.")
    assert "very sad" in latest.content
    assert "compassionate" in latest.content
    assert "happy" in second[-1].content
    assert "My dog" not in first[0].content and "sad" not in first[0].content


def test_history_window_starts_with_a_user_message(persona: str):
    model = FakeModel(["Okay."])
    history = [ChatMessage("user" if i % 2 == 0 else "assistant", f"m{i}") for i in range(10)]
    list(Responder(model, persona, max_history_messages=3).reply("Hi", SAD, COMPASSION, history))
    assert [m.content for m in model.calls[0][1:-1]] == ["m8", "m9"]


def test_unfinished_last_sentence_is_flushed(persona: str):
    model = FakeModel(["That is hard. ", "Tell me more"])
    assert list(Responder(model, persona).reply("x", SAD, COMPASSION, [])) == ["That is hard.", "Tell me more"]


@pytest.mark.parametrize("pieces", [[], ["  "], ["🙂", "**"]])
def test_fallback_when_model_says_nothing_usable(persona: str, pieces: list[str]):
    replies = list(Responder(FakeModel(pieces), persona).reply("x", SAD, COMPASSION, []))
    assert replies == [PromptLibrary().render("fallback_default")]


def test_closing_the_reply_closes_the_model_stream(persona: str):
    model = FakeModel(["One. ", "Two. ", "Three. ", "Four."])
    replies = Responder(model, persona).reply("x", SAD, COMPASSION, [])
    assert next(replies) == "One."
    replies.close()
    assert model.closed
    assert model.yielded < 4


def test_turn_message_is_what_reply_sends(persona: str):
    model = FakeModel(["Okay."])
    responder = Responder(model, persona)
    list(responder.reply("Hello", SAD, COMPASSION, []))
    assert model.calls[0][-1] == responder.turn_message("Hello", SAD, COMPASSION)


def test_stops_the_model_after_max_sentences(persona: str):
    model = FakeModel(["One. ", "Two. ", "Three. ", "Four. ", "Five."])
    replies = list(Responder(model, persona, max_sentences=2).reply("x", SAD, COMPASSION, []))
    assert replies == ["One.", "Two."]
    assert model.closed
    assert model.yielded == 2  # nothing was asked of the model after the second sentence


def test_a_word_limit_stops_before_the_sentence_that_would_pass_it(persona: str):
    model = FakeModel(["One two three. ", "Four five six seven. ", "Eight."])
    replies = list(Responder(model, persona, max_sentences=3, max_words=6).reply("x", SAD, COMPASSION, []))
    assert replies == ["One two three."] and model.closed
    flushed = FakeModel(["One two. Three four five"])
    assert list(Responder(flushed, persona, max_words=4).reply("x", SAD, COMPASSION, [])) == ["One two."]


def test_max_sentences_also_caps_the_flushed_rest(persona: str):
    model = FakeModel(["One. Two"])
    assert list(Responder(model, persona, max_sentences=1).reply("x", SAD, COMPASSION, [])) == ["One."]
