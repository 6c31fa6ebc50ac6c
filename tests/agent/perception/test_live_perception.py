"""The live perceiver: MiniLM + the shipped GoEmotions-trained model, loaded the way the server loads it."""

import io
from pathlib import Path

import pytest

from agent.perception import TextPerception
from agent.perception.evaluation import load_labelled, score_perceiver
from compose.engines import EngineError, load_encoder, load_perception

pytestmark = pytest.mark.models
TEST_SET = Path(__file__).resolve().parents[2] / "data" / "emotion_test.jsonl"
DIALOGUE_TEST_SET = TEST_SET.with_name("emotion_dialogue_test.jsonl")


@pytest.fixture(scope="module")
def live() -> TextPerception:
    perception = load_perception(io.StringIO())
    assert isinstance(perception, TextPerception)
    return perception


def test_the_server_loader_uses_the_trained_model(live: TextPerception):
    assert live.uses_trained_model


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I'm so happy, I got the job!", "joy"),
        ("My dog died yesterday.", "sadness"),
        ("This is outrageous, I'm furious", "anger"),
        ("I'm scared about the surgery tomorrow.", "fear"),
        ("I've been lying awake all week and I can't stop worrying", "fear"),
        ("That smell is disgusting.", "disgust"),
        ("Wait, you're moving to Japan?!", "surprise"),
        ("What time is it?", "neutral"),
        ("", "neutral"),
    ],
)
def test_clear_cases(live: TextPerception, text: str, label: str):
    assert live.perceive(text).label == label


def test_negated_cues_are_not_read_as_the_cue(live: TextPerception):
    assert live.perceive("I'm not scared of it").label != "fear"
    unhappy = live.perceive("I am not happy at all")
    assert unhappy.label != "joy" and unhappy.vad.valence < 0


def test_im_fine_after_a_sad_turn_is_not_joy(live: TextPerception):
    before = ["My grandmother died last night and I can't stop crying."]
    after_grief = live.perceive("I'm fine.", before)
    assert after_grief.label != "joy"
    assert after_grief.mixture["sadness"] > live.perceive("I'm fine.").mixture["sadness"] + 0.2
    # Without that context, it is read on its own words.
    assert live.perceive("I'm fine.", []) == live.perceive("I'm fine.")


def test_held_out_own_set_is_read_at_least_as_well_as_by_the_start_up_classifier(live: TextPerception):
    # The start-up classifier this model replaces scores 0.754 here (benchmarks/emotion_accuracy.py).
    scores = score_perceiver(live.perceive, load_labelled(TEST_SET))
    assert scores.count >= 200
    assert scores.macro_f1 >= 0.72


def test_held_out_everyday_talk_is_read_well_and_plain_questions_as_neutral(live: TextPerception):
    # GoEmotions files curiosity under surprise, so a model trained on it alone read 16 of the 24 plain questions
    # at the top of this set as surprise (macro-F1 0.675, neutral F1 0.57); the hand-written dialogue lines it now
    # trains on (agent/perception/data/emotion_dialogue.jsonl, none of them in this set) teach otherwise.
    scores = score_perceiver(live.perceive, load_labelled(DIALOGUE_TEST_SET))
    assert scores.count == 100
    assert scores.macro_f1 >= 0.8
    assert scores.per_label_f1["neutral"] >= 0.75


def test_a_corrupted_model_stops_the_loader_with_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import agent.perception.emotion_model as emotion_model

    broken = tmp_path / "emotion_head.npz"
    broken.write_bytes(emotion_model.WEIGHTS.read_bytes()[:-10])
    # The loader reads the default paths: point them at the broken copy (checksum unchanged).
    monkeypatch.setattr("agent.perception.text.WEIGHTS", broken)
    with pytest.raises(EngineError, match=r"corrupt.*retrain"):
        load_perception(io.StringIO(), load_encoder(io.StringIO()))
