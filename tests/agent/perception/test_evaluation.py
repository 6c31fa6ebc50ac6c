from pathlib import Path

import pytest

from agent.perception.evaluation import (
    confusion_matrix,
    expected_calibration_error,
    f1_per_label,
    load_labelled,
    macro_f1,
    majority_label,
    plot_confusion,
    score_perceiver,
)
from core.emotion import BASIC_EMOTIONS, VAD, EmotionState

DATA = Path(__file__).parent / "data"


def test_macro_f1_weighs_labels_equally():
    truth = ["a", "a", "a", "b"]
    assert macro_f1(truth, ["a", "a", "a", "a"], ["a", "b"]) == pytest.approx((2 * 3 / (2 * 3 + 1)) / 2)
    assert macro_f1(truth, truth, ["a", "b"]) == 1.0


def test_f1_per_label_checks_lengths():
    with pytest.raises(ValueError):
        f1_per_label(["a"], [], ["a"])


def test_majority_ties_are_reproducible():
    assert majority_label(["b", "a", "b", "a"]) == "a"
    assert majority_label(["b", "b", "a"]) == "b"


def test_confusion_matrix_rows_are_truth():
    matrix = confusion_matrix(["a", "a", "b"], ["a", "b", "b"], ["a", "b"])
    assert matrix.tolist() == [[1, 1], [0, 1]]


def test_ece_is_zero_when_confidence_matches_accuracy_and_large_when_overconfident():
    # Four predictions at 0.75 confidence, three right: calibrated.
    assert expected_calibration_error([0.75] * 4, [True, True, True, False]) == pytest.approx(0.0)
    # Certain and always wrong: the worst case.
    assert expected_calibration_error([1.0, 1.0], [False, False]) == pytest.approx(1.0)
    # Two bins: 0.95 with 1/2 right (gap 0.45) and 0.15 with 1/2 right (gap 0.35), each half the rows.
    assert expected_calibration_error([0.95, 0.95, 0.15, 0.15], [True, False, True, False]) == pytest.approx(0.4)


def _fake_perceiver(text: str) -> EmotionState:
    """A stand-in reader for the scorer's plumbing: fear for spiders, joy for parcels, else neutral (p = 0.4)."""
    label = "fear" if "spider" in text else "joy" if "parcel" in text else "neutral"
    mixture = {k: 0.1 for k in BASIC_EMOTIONS}
    mixture[label] = 0.4
    return EmotionState(vad=VAD.of(label), label=label, intensity=0.5, mixture=mixture)


def test_scores_a_goemotions_tsv_leaving_out_multi_label_rows(tmp_path):
    rows = load_labelled(DATA / "tiny_goemotions.tsv")
    scores = score_perceiver(_fake_perceiver, rows)
    assert (scores.count, scores.skipped) == (6, 1)
    # Right: joy (parcel), neutral (umbrella), fear (spider); wrong: sadness, anger, surprise read as neutral.
    assert scores.accuracy == pytest.approx(3 / 6)
    assert scores.per_label_f1["fear"] == 1.0 and scores.per_label_f1["sadness"] == 0.0
    assert scores.per_label_f1["neutral"] == pytest.approx(2 / (2 + 3))
    assert scores.confusion.sum() == 6
    # Every prediction is made with confidence 0.4 and half are right.
    assert scores.ece == pytest.approx(0.1)
    assert "macro-F1" in scores.summary()
    png = plot_confusion(scores, tmp_path / "cm.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_scores_a_labelled_jsonl_and_rejects_unknown_labels(tmp_path):
    rows = load_labelled(DATA / "tiny_labelled.jsonl")
    assert score_perceiver(_fake_perceiver, rows).count == 4
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "hm", "label": "boredom"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="boredom"):
        load_labelled(bad)
