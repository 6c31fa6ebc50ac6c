import pytest

from agent.perception import TextPerception, perceive_text
from core.emotion import BASIC_EMOTIONS


@pytest.fixture(scope="module")
def perception() -> TextPerception:
    return TextPerception()


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I'm so happy, I got the job!", "joy"),
        ("My dog died yesterday.", "sadness"),
        ("This is outrageous, I'm furious", "anger"),
        ("I'm scared about the surgery tomorrow.", "fear"),
        ("Wow, I did not expect that at all!", "surprise"),
        ("That smell is disgusting.", "disgust"),
        ("What time is it?", "neutral"),
        ("", "neutral"),
    ],
)
def test_clear_cases(perception: TextPerception, text: str, label: str):
    assert perception.perceive(text).label == label


def test_negated_joy_is_not_joy(perception: TextPerception):
    state = perception.perceive("I am not happy at all")
    assert state.label != "joy"
    assert state.vad.valence < 0


def test_negated_fear_is_not_fear(perception: TextPerception):
    assert perception.perceive("I'm not scared of it").label != "fear"


def test_exclamations_raise_arousal(perception: TextPerception):
    calm = perception.perceive("I got the job.")
    excited = perception.perceive("I got the job!!!")
    assert excited.vad.arousal > calm.vad.arousal


def test_intensifier_raises_intensity(perception: TextPerception):
    assert perception.perceive("I am so very sad").intensity >= perception.perceive("I am sad").intensity


def test_emoji_is_a_cue(perception: TextPerception):
    assert perception.perceive("today 😭").label == "sadness"


def test_result_is_a_valid_state():
    state = perceive_text("I'm so happy, I got the job!")
    assert state.label in BASIC_EMOTIONS
    assert 0.0 <= state.intensity <= 1.0
    assert abs(sum(state.mixture.values()) - 1.0) < 1e-3


def test_mixture_is_the_classifier_posterior_and_label_its_argmax(perception: TextPerception):
    state = perception.perceive("I'm terrified of the operation")
    assert state.label == max(state.mixture, key=state.mixture.__getitem__)
    assert set(state.mixture) == set(BASIC_EMOTIONS)


def test_hedges_soften_intensity(perception: TextPerception):
    assert perception.perceive("I'm a bit sad").intensity < perception.perceive("I'm sad").intensity


def test_custom_training_file(tmp_path):
    train = tmp_path / "train.jsonl"
    rows = ['{"text": "I am happy", "label": "joy"}', '{"text": "I am sad", "label": "sadness"}'] * 3
    train.write_text("\n".join(rows) + "\n")
    perception = TextPerception(training=train)
    assert perception.perceive("so happy").label == "joy"
    assert perception.perceive("so sad").label == "sadness"
