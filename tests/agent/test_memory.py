from collections.abc import Iterator

import pytest

from agent.base import ChatMessage
from agent.memory import SummaryMemory, extractive_summary

TURNS = [("I'm Sam. My dog Rex died on Monday.", "I'm so sorry."), ("I live alone now. It's quiet.", "That's hard.")]


class FakeModel:
    def __init__(self, text: str = "Sam's dog Rex died; Sam lives alone.", fail: bool = False) -> None:
        self.text = text
        self.fail = fail
        self.prompts: list[str] = []

    def stream(
        self, messages: list[ChatMessage], max_tokens: int, temperature: float, json_schema=None
    ) -> Iterator[str]:
        self.prompts.append(messages[-1].content)
        if self.fail:
            raise RuntimeError("model down")
        yield from self.text.split(" ")[:1]
        yield " " + " ".join(self.text.split(" ")[1:])


def test_extractive_summary_keeps_the_first_sentence_of_each_user_message():
    assert extractive_summary("", TURNS) == "I'm Sam. I live alone now."
    assert extractive_summary("Earlier.", TURNS, max_chars=20) == "I live alone now."


def test_llm_summary_uses_the_template_with_the_previous_summary_and_turns():
    model = FakeModel()
    memory = SummaryMemory(model)
    assert memory.update("They like tea.", TURNS) == "Sam's dog Rex died; Sam lives alone."
    assert "They like tea." in model.prompts[0] and "Them: I live alone now." in model.prompts[0]


def test_a_failing_model_falls_back_to_an_extractive_summary():
    assert SummaryMemory(FakeModel(fail=True)).update("", TURNS) == "I'm Sam. I live alone now."
    assert SummaryMemory(None).update("x", []) == "x"


def test_updates_are_due_every_n_turns():
    memory = SummaryMemory(every_turns=3)
    assert not memory.due(2, 0) and memory.due(3, 0) and not memory.due(5, 3) and memory.due(6, 3)
    with pytest.raises(ValueError):
        SummaryMemory(every_turns=0)
