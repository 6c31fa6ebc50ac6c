from agent.empathy.strategy import suggest_strategy
from core.emotion import EmotionState


def test_strategy_suggestions_cycle_and_avoid_a_third_question():
    sad = EmotionState.from_label("sadness", 0.8)
    assert [suggest_strategy(sad, n, False) for n in range(4)] == [
        "emotional_reaction",
        "interpretation",
        "exploration",
        "emotional_reaction",
    ]
    assert suggest_strategy(sad, 2, True) == "interpretation"
    assert suggest_strategy(EmotionState.from_label("neutral", 0.0), 0, False) == "exploration"
