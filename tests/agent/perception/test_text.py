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


def test_context_weight_follows_shortness_and_how_emotional_the_context_was():
    from agent.perception.text import ContextBlend

    blend = ContextBlend(max_weight=0.6, short_words=4, long_words=10)
    sad = {"sadness": 0.9, "neutral": 0.1}
    assert blend.weight(2, sad) == pytest.approx(0.54)
    assert blend.weight(7, sad) == pytest.approx(0.27)  # halfway between 4 and 10 words
    assert blend.weight(12, sad) == 0.0  # a long utterance stands on its own words
    assert blend.weight(2, {"neutral": 1.0}) == 0.0  # a neutral context says nothing


def test_a_short_reply_after_a_sad_turn_leans_sad(perception: TextPerception):
    alone = perception.perceive("ok")
    after = perception.perceive("ok", ["I miss her so much, I cried all night"])
    assert alone.label != "sadness"
    assert after.label == "sadness" and after.mixture["sadness"] > alone.mixture["sadness"]


def test_the_most_recent_context_weighs_most(perception: TextPerception):
    sad_then_happy = perception.perceive("ok", ["I cried all night, so sad", "I'm so happy, I got the job!"])
    happy_then_sad = perception.perceive("ok", ["I'm so happy, I got the job!", "I cried all night, so sad"])
    assert sad_then_happy.mixture["joy"] > happy_then_sad.mixture["joy"]
    assert happy_then_sad.mixture["sadness"] > sad_then_happy.mixture["sadness"]


def test_context_does_not_move_a_long_clear_utterance(perception: TextPerception):
    text = "I am so happy today, I got the job I wanted and we are celebrating tonight with friends"
    assert perception.perceive(text, ["I cried all night, so sad"]) == perception.perceive(text)


def test_empty_context_lines_are_ignored(perception: TextPerception):
    assert perception.perceive("ok", ["", "  "]) == perception.perceive("ok")
