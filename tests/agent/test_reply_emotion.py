import pytest

from agent.reply_emotion import choose_reply_emotion, empathic_target
from core.emotion import BASIC_EMOTIONS, EmotionState


@pytest.mark.parametrize("previous", [None, *BASIC_EMOTIONS])
@pytest.mark.parametrize("intensity", [0.3, 0.6, 1.0])
def test_grief_never_met_with_joy(previous: str | None, intensity: float):
    before = EmotionState.from_label(previous) if previous else None
    reply = choose_reply_emotion(EmotionState.from_label("sadness", intensity), before)
    assert reply.label in {"neutral", "sadness"}
    assert reply.vad.arousal <= 0.1  # soft, low arousal
    assert reply.vad.valence < 0.3


def test_strong_grief_met_with_compassion():
    assert choose_reply_emotion(EmotionState.from_label("sadness", 0.9)).label == "sadness"


@pytest.mark.parametrize("previous", [None, "neutral", "joy", "surprise"])
def test_shared_joy_met_with_joy(previous: str | None):
    before = EmotionState.from_label(previous) if previous else None
    assert choose_reply_emotion(EmotionState.from_label("joy", 0.9), before).label == "joy"


@pytest.mark.parametrize("user", ["anger", "fear"])
def test_anger_and_fear_met_with_calm(user: str):
    state = EmotionState.from_label(user, 0.9)
    reply = choose_reply_emotion(state)
    assert reply.label == "neutral"
    assert reply.vad.arousal < state.vad.arousal
    assert reply.vad.arousal <= 0.0


def test_surprise_met_with_interest():
    reply = choose_reply_emotion(EmotionState.from_label("surprise", 0.8))
    assert reply.label == "surprise"
    assert reply.vad.valence > 0


def test_neutral_stays_near_neutral():
    reply = choose_reply_emotion(EmotionState.from_label("neutral", 0.0))
    assert reply.label == "neutral"
    assert reply.intensity < 0.3


def test_step_is_bounded():
    previous = EmotionState.from_label("surprise", 1.0)
    user = EmotionState.from_label("neutral", 0.0)
    reply = choose_reply_emotion(user, previous, max_step=0.3)
    assert previous.vad.distance(reply.vad) == pytest.approx(0.3, abs=1e-3)
    assert reply.vad.distance(empathic_target(user).vad) < previous.vad.distance(empathic_target(user).vad)


@pytest.mark.parametrize("user", BASIC_EMOTIONS)
@pytest.mark.parametrize("previous", [None, *BASIC_EMOTIONS])
def test_label_always_basic(user: str, previous: str | None):
    before = EmotionState.from_label(previous) if previous else None
    assert choose_reply_emotion(EmotionState.from_label(user, 0.7), before).label in BASIC_EMOTIONS
