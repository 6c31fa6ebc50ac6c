"""Fitting the crisis detector: the threshold rule, the folds, and a small real fit that the product can load."""

import json
from pathlib import Path

import numpy as np
import pytest

from agent.safety import SafetyScreen, SemanticDetector, load_crisis_model
from agent.safety.examples import EVERYDAY_KIND, LabelledText
from agent.safety.semantic import LABELS
from core.provision import sha256_file
from research.crisis_model.noise import noisy
from research.crisis_model.train import (
    Copies,
    CrossValidation,
    choose_threshold,
    main,
    soft_targets,
    stratified_folds,
    training_rows,
    write_errors,
)


def test_the_threshold_is_the_lowest_within_the_false_alarm_budget():
    scores = np.array([0.9, 0.8, 0.3, 0.6, 0.2, 0.1])
    crisis = np.array([True, True, True, False, False, False])
    ruled = np.zeros(6, dtype=bool)
    assert choose_threshold(scores, crisis, ruled, 0.34) == pytest.approx(0.3)  # one of three negatives may pass
    assert choose_threshold(scores, crisis, ruled, 0.0) == pytest.approx(0.8)  # none may: above 0.6
    ruled[4] = True  # the rules already flag a negative: the detector's budget shrinks
    assert choose_threshold(scores, crisis, ruled, 0.34) == pytest.approx(0.8)


def test_folds_spread_every_label_and_hand_written_lines_are_repeated():
    y = np.array([0] * 10 + [1] * 5 + [2] * 5)
    folds = stratified_folds(y, 5)
    for k in range(5):
        assert sorted(y[folds == k].tolist()) == [0, 0, 1, 2]
    written = np.array([True, False, True, False])
    assert sorted(training_rows(np.arange(4), written, 3).tolist()) == [0, 0, 0, 1, 2, 2, 2, 3]
    twins = np.array([4, -1, 5, -1])  # rows of the noisy copies of lines 0 and 2
    assert sorted(training_rows(np.arange(4), written, 3, twins).tolist()) == [0, 1, 2, 3, 4, 4, 5, 5]
    assert sorted(training_rows(np.array([1, 2]), written, 2, twins).tolist()) == [1, 2, 5]  # a fold's rows only


def test_copies_label_their_rows_like_their_lines_and_are_trained_on_only_when_asked():
    y = np.array([2, 0, 1, 0])
    rows = np.array([4, -1, 5, 6])  # the copies of lines 0, 2 and 3 follow the four examples
    ruled = np.zeros(4, dtype=bool)
    assert Copies(rows, ruled, train=False).row_labels(y).tolist() == [2, 0, 1, 0, 2, 1, 0]
    assert Copies(rows, ruled, train=False).twins is None
    twins = Copies(rows, ruled, train=True).twins
    assert twins is not None and twins.tolist() == rows.tolist()


def test_noisy_copies_are_typed_in_a_hurry_and_reproducible():
    line = "I'm going to do it tonight because nobody would really miss me."
    copies = {noisy(line, seed) for seed in range(20)}
    assert len(copies) > 10 and line not in copies
    assert noisy(line, 3) == noisy(line, 3)
    assert any("gonna" in c and "tonite" in c for c in copies)
    assert any("'" not in c and c == c.lower() for c in copies)
    assert all(len(c.split()) >= len(line.split()) - 3 for c in copies)  # words swapped, never dropped


def test_soft_targets_keep_most_weight_on_the_label_and_sum_to_one():
    targets = soft_targets(np.array([0, 3]), 0.1)
    assert targets.shape == (2, len(LABELS))
    assert targets.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert targets[0, 0] == pytest.approx(0.9 + 0.1 / len(LABELS))
    assert targets[1, 3] == pytest.approx(0.9 + 0.1 / len(LABELS))
    assert targets[1, 0] == pytest.approx(0.1 / len(LABELS))
    assert soft_targets(np.array([2]), 0.0).tolist() == [np.eye(len(LABELS))[2].tolist()]


def test_bad_arguments_are_refused_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit):
        main(["--goemotions", str(tmp_path)])
    assert "train.tsv not found" in capsys.readouterr().err
    (tmp_path / "train.tsv").write_text("ok\t27\tid\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["--goemotions", str(tmp_path), "--folds", "1"])
    assert "at least 2" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--goemotions", str(tmp_path), "--errors-only"])
    assert "needs --errors" in capsys.readouterr().err


def test_the_errors_written_are_the_hand_written_lines_judged_wrong(tmp_path: Path):
    examples = [
        LabelledText("I can't do this anymore", "suicide", "passive"),  # missed
        LabelledText("I want to die", "suicide", "direct"),  # caught
        LabelledText("this traffic is killing me", "none", "idiom"),  # flagged: a false alarm
        LabelledText("lovely weather", "none", "everyday"),  # passed
        LabelledText("a real comment", "none", EVERYDAY_KIND),  # flagged, but not a hand-written line
    ]
    flagged = np.array([False, True, True, False, True])
    scores = np.array([0.4, 0.99, 0.98, 0.1, 0.97])
    report = CrossValidation(0.97, {}, 0.5, 1.0, scores, flagged)
    out = tmp_path / "errors.jsonl"
    assert write_errors(out, examples, report) == 2
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["text"], r["label"], r["score"]) for r in rows] == [
        ("this traffic is killing me", "none", 0.98),
        ("I can't do this anymore", "suicide", 0.4),
    ]


@pytest.mark.models
def test_a_small_fit_writes_a_model_the_screen_loads(tmp_path: Path):
    lines = [
        ("I want to end my life tonight", "suicide"),
        ("I'm going to kill myself", "suicide"),
        ("I cut my arms again last night", "self_harm"),
        ("I burned myself on purpose", "self_harm"),
        ("My husband hits me when he drinks", "abuse"),
        ("He locks me in my room", "abuse"),
        ("My dad collapsed and isn't breathing", "medical"),
        ("She took a whole bottle of pills", "medical"),
        ("This traffic is killing me", "none"),
        ("I had a lovely walk by the river", "none"),
        ("The exam was hard but fine", "none"),
        ("We watched a film about a war", "none"),
    ]
    data = tmp_path / "crisis.jsonl"
    data.write_text("".join(json.dumps({"text": t, "label": label}) + "\n" for t, label in lines), encoding="utf-8")
    goemotions = tmp_path / "goemotions"
    goemotions.mkdir()
    comments = ["What a game last night", "Thanks for the tips", "I love this recipe", "That's hilarious"]
    (goemotions / "train.tsv").write_text("".join(f"{c}\t27\tid{i}\n" for i, c in enumerate(comments)))
    out = tmp_path / "crisis_model.npz"
    argv = ["--goemotions", str(goemotions), "--data", str(data), "--out", str(out), "--everyday", "4"]
    argv += ["--top-layers", "1", "--epochs", "1", "--folds", "2", "--cache-dir", str(tmp_path / "cache"), "--noisy"]
    assert main(argv) == 0

    model = load_crisis_model(out, sha256=None)
    assert model.reader.labels == LABELS and model.reader.start_layer == 5 and len(model.reader.layers) == 1
    assert model.train_sha256 == sha256_file(data) and len(model.examples) == 8
    from agent.perception.minilm import MiniLmEncoder
    from core.provision import model_dir

    screen = SafetyScreen(detector=SemanticDetector(MiniLmEncoder(model_dir("minilm-l6")), model))
    reading = screen.read("I cut my arms again last night")
    assert reading is not None and reading.nearest == "I cut my arms again last night"
