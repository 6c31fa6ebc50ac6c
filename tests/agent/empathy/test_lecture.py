"""The lecture guard: the chain does not speak a sentence that opens with an order or a moral."""

import json

import pytest

from agent.empathy.chain import EmpathyChain
from agent.empathy.lecture import LectureGuard
from agent.prompts import PromptLibrary
from tests.agent.empathy.test_chain import COMPASSION, GRIEF, PLAN, ScriptedModel


@pytest.mark.parametrize(
    "sentence",
    [
        "It's important to take care of yourself and your team.",
        "But remember, the journey matters as much as the end.",
        "You might want to talk to your colleague about this.",
        "So I think you should expect it back.",
        "You really need to work on your driving skills.",
        "We should always make sure toilets are clean.",
        "Consider how you can improve your work.",
        "It’s essential to rest.",
        "Just focus on your breathing and try to relax.",
        "Try to stay calm until the results come.",
    ],
)
def test_lecturing_openers_are_caught(sentence: str):
    assert LectureGuard().lectures(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "You must feel so proud!",
        "I remember how much that mattered to you.",
        "It's important to you, and that makes sense.",
        "Losing Biscuit is a huge loss.",
        "What would you like to happen next?",
        "You tried to stay calm, and that took courage.",
        "I'll try to keep up with you.",
    ],
)
def test_listening_sentences_pass(sentence: str):
    assert not LectureGuard().lectures(sentence)


def test_a_lecturing_sentence_is_not_spoken_and_the_next_takes_its_place():
    lecture = {**PLAN, "response": "I'm so sorry. It's important to remember the good times. She was family. Rest."}
    model = ScriptedModel([json.dumps(lecture)])
    turn = EmpathyChain(model, PromptLibrary().load("persona_default"), max_sentences=3).turn(
        "My dog died.", GRIEF, COMPASSION, []
    )
    assert list(turn) == ["I'm so sorry.", "She was family.", "Rest."]
    assert turn.unsaid == ["It's important to remember the good times."]
    assert turn.plan is not None and turn.plan.response == "I'm so sorry. She was family. Rest."


def test_a_reply_that_only_lectures_is_retried_then_answered_by_the_fallback():
    lecture = {**PLAN, "response": "You should get a new dog."}
    model = ScriptedModel([json.dumps(lecture)])
    turn = EmpathyChain(model, PromptLibrary().load("persona_default")).turn("My dog died.", GRIEF, COMPASSION, [])
    assert list(turn) == ["I'm so sorry you're going through this.", "I'm here with you."]
    assert turn.attempts == 2 and turn.plan is not None and turn.plan.source == "fallback"
