"""The first reaction (agent.acknowledgement) and how the mind says it before the chain's words."""

from __future__ import annotations

import json

from agent.acknowledgement import MIN_CONFIDENCE, Acknowledger
from agent.base import ChatMessage
from agent.empathy.chain import EmpathyChain
from agent.mind import Mind
from core.emotion import EmotionState
from tests.server.fakes import PlanModel, sure_reading

SAD = sure_reading("sadness", 0.9)
PLAN = {
    "event": "a loss",
    "user_emotion": "sadness",
    "cause": "missing someone",
    "strategy": "interpretation",
    "reply_emotion": "sadness",
    "response": "Losing her must leave a big gap.",
}
GRIEF = "My grandmother died last night."


def test_it_fits_the_emotion_and_the_persona_and_rotates() -> None:
    ack = Acknowledger()
    first = ack.pick(SAD, "Mira", [], GRIEF)
    assert first == "Oh, I'm so sorry."
    assert ack.pick(SAD, "Kai", [], GRIEF) == "I'm sorry."  # Kai's own, shorter words
    history = [ChatMessage("user", "x"), ChatMessage("assistant", f"{first} More words.")]
    assert ack.pick(SAD, "Mira", history, GRIEF) != first  # not the one it just used
    assert ack.pick(sure_reading("joy", 0.9), "Sunny", [], "I got the job!") == "Oh, yay, that's amazing!"


def test_nothing_to_react_to_gets_no_acknowledgement() -> None:
    ack = Acknowledger()
    assert ack.pick(EmotionState.from_label("neutral", 0.0), "Mira", [], "The bus leaves at six.") == ""
    assert ack.pick(sure_reading("sadness", 0.9, intensity=0.1), "Mira", [], "meh") == ""  # too weak to be grief


def test_an_unsure_reading_is_not_named_aloud() -> None:
    ack = Acknowledger()
    floor = MIN_CONFIDENCE["anger"]
    said = "They cancelled my shift again without asking."
    assert ack.pick(sure_reading("anger", floor - 0.05), "Mira", [], said) == ""
    assert ack.pick(sure_reading("anger", floor + 0.05), "Mira", [], said) == "That sounds really frustrating."


def test_surprise_needs_a_surprise_cue_not_a_question() -> None:
    ack = Acknowledger()
    curious = sure_reading("surprise", 0.95)
    assert ack.pick(curious, "Mira", [], "Can you tell me a bit about yourself?") == ""
    assert ack.pick(curious, "Mira", [], "No way, my brother is moving to Japan?") == "Oh, wow!"


def _mind(**kwargs: object) -> Mind:
    return Mind(
        lambda text, context=(): SAD if "died" in text else EmotionState.from_label("neutral", 0.0),
        lambda user, previous, persona="": EmotionState.from_label("neutral", 0.2),
        acknowledge=Acknowledger(),
        **kwargs,  # type: ignore[arg-type]
    )


def test_the_mind_says_it_first_and_tells_the_chain() -> None:
    model = PlanModel(PLAN, piece=len(json.dumps(PLAN)))
    chain = EmpathyChain(model, "You are Mira.", lens="person_centred")
    turn = _mind(check_words=False).turn(chain, GRIEF)
    assert turn.sentences == ["Oh, I'm so sorry.", "Losing her must leave a big gap."]
    assert 'You have already said aloud: "Oh, I\'m so sorry."' in model.calls[0][-1].content
    assert turn.plan is not None and turn.plan.response == "Losing her must leave a big gap."


def test_no_first_reaction_on_a_crisis_or_a_neutral_message() -> None:
    model = PlanModel(PLAN, piece=len(json.dumps(PLAN)))
    chain = EmpathyChain(model, "You are Mira.", lens="person_centred")

    class Verdict:
        category, matched, response, score = "suicide", "end it", "Please call someone now.", None

    crisis = _mind(safety=lambda text: Verdict() if "end it" in text else None).turn(chain, "my dad died, i'll end it")
    assert crisis.sentences == ["Please call someone now."]
    neutral = _mind(check_words=False).turn(chain, "What's the weather like?")
    assert neutral.sentences == ["Losing her must leave a big gap."]
    assert "already said aloud" not in model.calls[-1][-1].content
