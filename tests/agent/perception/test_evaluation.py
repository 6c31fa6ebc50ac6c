import pytest

from agent.perception.evaluation import f1_per_label, macro_f1, majority_label


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
