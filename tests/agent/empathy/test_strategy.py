"""The suggested strategy is chosen from the user's state, the lens and the recent replies; nothing rotates."""

import pytest

from agent.empathy.chain import LENSES
from agent.empathy.strategy import LENS_MOVES, STRONG, suggest_strategy
from core.emotion import EmotionState

CALM = EmotionState.from_label("neutral", 0.0)
GRIEF = EmotionState.from_label("sadness", 0.9)
MILD_ANGER = EmotionState.from_label("anger", 0.5)
JOY = EmotionState.from_label("joy", 0.8)
SURPRISE = EmotionState.from_label("surprise", 0.6)


def test_nothing_to_react_to_invites_them_to_say_more():
    assert suggest_strategy(CALM, "cbt") == "exploration"
    assert suggest_strategy(SURPRISE, "dbt") == "exploration"


@pytest.mark.parametrize("lens", LENSES)
def test_joy_and_strong_negative_feelings_are_met_first_in_every_lens(lens: str):
    assert suggest_strategy(JOY, lens) == "emotional_reaction"
    for label in ("sadness", "fear", "anger", "disgust"):
        strong = EmotionState.from_label(label, 1.0)
        assert strong.intensity >= STRONG and suggest_strategy(strong, lens) == "emotional_reaction"


def test_a_milder_negative_feeling_gets_the_lens_own_move():
    assert MILD_ANGER.intensity < STRONG
    moves = {lens: suggest_strategy(MILD_ANGER, lens) for lens in LENSES}
    assert moves == {
        "person_centred": "interpretation",
        "cbt": "interpretation",
        "dbt": "emotional_reaction",
        "reality": "exploration",
    }
    assert set(LENS_MOVES) == set(LENSES)


def test_after_a_question_they_have_answered_the_suggestion_is_not_another_question():
    asked = ["That sounds frustrating. What would you like to happen instead?"]
    assert suggest_strategy(MILD_ANGER, "reality", asked) == "interpretation"
    assert suggest_strategy(CALM, "cbt", asked) == "interpretation"
    told = ["That sounds frustrating."]
    assert suggest_strategy(MILD_ANGER, "reality", told) == "exploration"
    assert suggest_strategy(GRIEF, "cbt", asked) == "emotional_reaction"  # a reaction was never a question


def test_the_same_state_gets_the_same_suggestion_however_long_the_conversation():
    replies = ["I'm so sorry.", "That is a lot to carry.", "I'm here with you.", "It makes sense."]
    suggestions = {suggest_strategy(GRIEF, "person_centred", replies[:n]) for n in range(len(replies) + 1)}
    assert suggestions == {"emotional_reaction"}
