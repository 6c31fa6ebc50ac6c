import itertools

import pytest

from agent.personality import BigFive, temperament
from agent.personas import load_personas, persona_temperaments
from agent.transition import PersonaTransition, TransitionSettings, resting_state, transition
from core.emotion import BASIC_EMOTIONS, VAD, EmotionState

PERSONAS = load_personas()
TEMPERAMENTS = {key: p.temperament for key, p in PERSONAS.items()}


def _run(temperament: VAD, users: list[EmotionState], start: EmotionState | None = None) -> list[EmotionState]:
    states, previous = [], start
    for user in users:
        previous = transition(previous, user, temperament)
        states.append(previous)
    return states


def test_formula_step_by_hand() -> None:
    # Neutral user: target = temperament, so E1 = E0 + (1 + kT)(T - E0) + λ(T - E0), with |T - E0| < max_shift.
    t = VAD(0.2, 0.0, 0.0)
    start = EmotionState.from_vad(VAD(0.0, 0.0, 0.0))
    s = TransitionSettings(k=0.5, pull=0.1, max_shift=1.0)
    got = transition(start, EmotionState.from_label("neutral", 0.0), t, s)
    assert got.vad.valence == pytest.approx(0.0 + (1 + 0.5 * 0.2) * 0.2 + 0.1 * 0.2)


def test_a_more_neurotic_persona_is_more_aroused() -> None:
    calm, anxious = temperament(BigFive(neuroticism=0.2)), temperament(BigFive(neuroticism=0.8))
    users = [EmotionState.from_label(label, 0.8) for label in ("fear", "sadness", "neutral", "joy", "anger")]
    for a, b in zip(_run(calm, users), _run(anxious, users), strict=True):
        assert b.vad.arousal >= a.vad.arousal
    assert resting_state(anxious).vad.arousal > resting_state(calm).vad.arousal


@pytest.mark.parametrize("key", sorted(TEMPERAMENTS))
@pytest.mark.parametrize("start_label", ["joy", "sadness", "anger", "fear"])
def test_with_a_neutral_user_the_agent_drifts_back_to_its_temperament(key: str, start_label: str) -> None:
    t = TEMPERAMENTS[key]
    states = _run(t, [EmotionState.from_label("neutral", 0.0)] * 30, start=EmotionState.from_label(start_label))
    distances = [s.vad.distance(t) for s in states]
    assert all(b <= a + 1e-9 for a, b in itertools.pairwise(distances))
    assert distances[-1] < 0.02


@pytest.mark.parametrize("key", sorted(TEMPERAMENTS))
@pytest.mark.parametrize("start_label", BASIC_EMOTIONS)
@pytest.mark.parametrize("grief", [0.3, 0.6, 1.0])
def test_grief_is_never_met_with_joy(key: str, start_label: str, grief: float) -> None:
    user = EmotionState.from_label("sadness", grief)
    previous: EmotionState | None = EmotionState.from_label(start_label)
    for _ in range(4):  # a run of sad turns, from any starting mood
        previous = transition(previous, user, TEMPERAMENTS[key])
        assert previous.label in {"neutral", "sadness"}
        assert previous.vad.valence <= 0.2 and previous.vad.arousal <= 0.0


@pytest.mark.parametrize("key", sorted(TEMPERAMENTS))
@pytest.mark.parametrize("start_label", ["neutral", "sadness", "joy"])
def test_shared_joy_is_met_with_joy(key: str, start_label: str) -> None:
    user = EmotionState.from_label("joy", 0.8)
    states = _run(TEMPERAMENTS[key], [user] * 3, start=EmotionState.from_label(start_label, 0.5))
    assert states[-1].label == "joy"
    if start_label != "sadness":  # from a calm or happy mood the joy is shared at once
        assert states[0].label == "joy"


@pytest.mark.parametrize("label", ["anger", "fear"])
def test_anger_and_fear_are_met_with_calm(label: str) -> None:
    for key, t in TEMPERAMENTS.items():
        state = transition(None, EmotionState.from_label(label, 0.9), t)
        assert state.label == "neutral", key
        assert state.vad.arousal <= 0.1


def test_personality_weight_colours_the_size_of_a_shift() -> None:
    # Same previous state and user; the cheerful, pleasant persona moves further up in valence toward shared joy.
    start = EmotionState.from_vad(VAD(0.0, 0.0, 0.0))
    user = EmotionState.from_label("joy", 0.9)
    low = transition(start, user, VAD(-0.3, 0.0, 0.0), TransitionSettings(pull=0.0))
    high = transition(start, user, VAD(0.6, 0.0, 0.0), TransitionSettings(pull=0.0))
    assert high.vad.valence > low.vad.valence


def test_persona_transition_uses_the_sessions_persona_and_falls_back() -> None:
    chooser = PersonaTransition(persona_temperaments(PERSONAS), default=TEMPERAMENTS["mira"])
    neutral = EmotionState.from_label("neutral", 0.0)
    sunny, kai = chooser(neutral, None, "Sunny"), chooser(neutral, None, "kai")
    assert sunny.vad.arousal > kai.vad.arousal
    assert chooser(neutral, None, "nobody").vad == chooser(neutral, None, "Mira").vad
