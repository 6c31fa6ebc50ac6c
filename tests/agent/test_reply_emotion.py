"""The one reply-rule table (agent.reply_emotion), and the agent's emotion as the server chooses it: the
persona-weighted transition (agent.transition.PersonaTransition) over that table."""

import pytest

from agent.personas import load_personas, persona_temperaments
from agent.reply_emotion import allowed_reply_emotions, clamp_reply_emotion, empathic_target, is_appropriate
from agent.transition import PersonaTransition
from core.emotion import BASIC_EMOTIONS, VAD, EmotionState

GRIEF = EmotionState.from_label("sadness", 0.9)
PERSONAS = load_personas()
CHOOSE = PersonaTransition(persona_temperaments(PERSONAS), default=PERSONAS["mira"].temperament)
NAMES = sorted(PERSONAS)


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


def test_every_target_is_allowed_by_its_own_rule():
    # The table is consistent: the emotion the agent moves toward is one the rules accept for that user.
    for label in BASIC_EMOTIONS:
        for intensity in (0.1, 0.3, 0.6, 1.0):
            user = EmotionState.from_label(label, intensity)
            assert is_appropriate(user, empathic_target(user).label), (label, intensity)


@pytest.mark.parametrize("persona", NAMES)
@pytest.mark.parametrize("previous", [None, *BASIC_EMOTIONS])
@pytest.mark.parametrize("intensity", [0.3, 0.6, 1.0])
def test_grief_never_met_with_joy(persona: str, previous: str | None, intensity: float):
    before = EmotionState.from_label(previous) if previous else None
    reply = CHOOSE(EmotionState.from_label("sadness", intensity), before, persona=persona)
    assert reply.label in {"neutral", "sadness"}
    assert reply.vad.arousal <= 0.1  # soft, low arousal
    assert reply.vad.valence < 0.3


@pytest.mark.parametrize("persona", NAMES)
def test_strong_grief_met_with_compassion(persona: str):
    # Over a run of grief the agent's face settles into a soft sadness, whatever its temperament.
    state = None
    for _ in range(4):
        state = CHOOSE(GRIEF, state, persona=persona)
    assert state is not None and state.label == "sadness"


@pytest.mark.parametrize("persona", NAMES)
@pytest.mark.parametrize("previous", [None, "neutral", "joy", "surprise"])
def test_shared_joy_met_with_joy(persona: str, previous: str | None):
    before = EmotionState.from_label(previous) if previous else None
    joy = EmotionState.from_label("joy", 0.9)
    first = CHOOSE(joy, before, persona=persona)
    if previous is not None:  # from a calm or happy mood the joy is shared at once
        assert first.label == "joy"
    assert CHOOSE(joy, first, persona=persona).label == "joy"  # from rest (Kai is reserved) by the second turn


@pytest.mark.parametrize("persona", NAMES)
@pytest.mark.parametrize("user", ["anger", "fear"])
def test_anger_and_fear_met_with_calm(persona: str, user: str):
    state = EmotionState.from_label(user, 0.9)
    reply = CHOOSE(state, None, persona=persona)
    assert reply.label == "neutral"
    assert reply.vad.arousal < state.vad.arousal
    assert reply.vad.arousal <= 0.1


@pytest.mark.parametrize("persona", NAMES)
def test_surprise_met_with_interest(persona: str):
    state = None
    for _ in range(3):
        state = CHOOSE(EmotionState.from_label("surprise", 0.8), state, persona=persona)
    assert state is not None and state.label in {"surprise", "joy"}
    assert state.vad.valence > 0


@pytest.mark.parametrize("persona", NAMES)
def test_neutral_stays_near_the_personas_temperament(persona: str):
    reply = CHOOSE(EmotionState.from_label("neutral", 0.0), None, persona=persona)
    assert reply.vad.distance(PERSONAS[persona].temperament) < 0.05


@pytest.mark.parametrize("persona", NAMES)
@pytest.mark.parametrize("user", BASIC_EMOTIONS)
@pytest.mark.parametrize("previous", [None, "joy", "neutral", "sadness", "surprise"])  # what the agent can show
def test_label_always_allowed(persona: str, user: str, previous: str | None):
    before = EmotionState.from_label(previous) if previous else None
    state = EmotionState.from_label(user, 0.7)
    reply = CHOOSE(state, before, persona=persona)
    assert reply.label in BASIC_EMOTIONS
    assert reply.label not in {"anger", "disgust", "fear"}
