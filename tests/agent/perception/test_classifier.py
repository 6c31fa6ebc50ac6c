import numpy as np
import pytest

from agent.perception.classifier import SoftmaxClassifier, load_examples


def test_separable_classes_are_learned_and_probabilities_sum_to_one():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(-2, 0.5, (20, 2)), rng.normal(2, 0.5, (20, 2))])
    y = ["a"] * 20 + ["b"] * 20
    clf = SoftmaxClassifier.fit(x, y, ["a", "b", "c"], l2=1.0)
    p = clf.predict_proba(np.array([[-2.0, -2.0], [2.0, 2.0]]))
    assert p.shape == (2, 3) and np.allclose(p.sum(1), 1.0)
    assert p[0].argmax() == 0 and p[1].argmax() == 1


def test_constant_features_and_unknown_labels():
    x = np.array([[1.0, 0.0], [1.0, 1.0]])
    clf = SoftmaxClassifier.fit(x, ["a", "b"], ["a", "b"])
    assert np.isfinite(clf.predict_proba(x)).all()
    with pytest.raises(ValueError, match="not among"):
        SoftmaxClassifier.fit(x, ["a", "z"], ["a", "b"])


def test_load_examples_reports_the_bad_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"text": "hi", "label": "neutral"}\n\n{"text": "oops"}\n')
    with pytest.raises(ValueError, match=r"x\.jsonl:3"):
        load_examples(path)


def test_shipped_dev_set_is_balanced_and_disjoint_from_the_test_set():
    from pathlib import Path

    from agent.perception import DEV_SET

    dev = load_examples(DEV_SET)
    test = load_examples(Path(__file__).resolve().parents[2] / "data" / "emotion_test.jsonl")
    counts = {label: sum(e.label == label for e in dev) for label in {e.label for e in dev}}
    assert len(counts) == 7 and len(set(counts.values())) == 1
    assert not {e.text.lower() for e in dev} & {e.text.lower() for e in test}
