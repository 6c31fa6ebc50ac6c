import pytest

from agent.empathy.rules import allowed_reply_emotions, clamp_reply_emotion, is_appropriate
from core.emotion import VAD, EmotionState

GRIEF = EmotionState.from_label("sadness", 0.9)


def test_never_joy_at_grief_and_never_anger_disgust_or_fear():
    assert not is_appropriate(GRIEF, "joy")
    assert is_appropriate(GRIEF, "sadness")
    for user in ("anger", "fear", "joy", "neutral", "sadness", "surprise", "disgust"):
        allowed = allowed_reply_emotions(EmotionState.from_label(user, 0.8))
        assert allowed.isdisjoint({"anger", "disgust", "fear"})


def test_joy_is_shared_and_weak_emotions_count_as_neutral():
    assert is_appropriate(EmotionState.from_label("joy", 0.8), "joy")
    assert is_appropriate(EmotionState.from_label("sadness", 0.1), "joy")  # too weak to be grief


def test_a_negative_surprise_is_not_met_with_joy():
    shock = EmotionState.from_vad(VAD(-0.3, 0.7, -0.2))
    shock = EmotionState(vad=shock.vad, label="surprise", intensity=0.8, mixture=shock.mixture)
    assert not is_appropriate(shock, "joy")


@pytest.mark.parametrize(
    ("proposed", "chosen", "expected"),
    [("sadness", "neutral", "sadness"), ("joy", "sadness", "sadness"), ("joy", "joy", "neutral")],
)
def test_clamp_keeps_an_appropriate_choice_else_the_transition_emotion_else_calm(proposed, chosen, expected):
    assert clamp_reply_emotion(GRIEF, proposed, EmotionState.from_label(chosen, 0.5)) == expected


def test_strategy_suggestions_cycle_and_avoid_a_third_question():
    from agent.empathy.rules import suggest_strategy

    sad = EmotionState.from_label("sadness", 0.8)
    assert [suggest_strategy(sad, n, False) for n in range(4)] == [
        "emotional_reaction",
        "interpretation",
        "exploration",
        "emotional_reaction",
    ]
    assert suggest_strategy(sad, 2, True) == "interpretation"
    assert suggest_strategy(EmotionState.from_label("neutral", 0.0), 0, False) == "exploration"
