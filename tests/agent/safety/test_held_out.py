"""The crisis screen measured on the held-out split against its targets (a real measurement: it can fail).

tests/data/crisis_test.jsonl was written apart from the training examples (other situations and wordings) and is
never used for fitting or choosing the threshold. `python -m benchmarks.safety_screen` prints the same figures.
tests/data/crisis_probe.jsonl is a second, smaller held-out set in a longer, chat and Reddit style, where the
screen is weaker (`--split tests/data/crisis_probe.jsonl`); it is held to a floor under what was measured.
"""

import re
from pathlib import Path

import pytest

from agent.safety import CATEGORIES, SafetyScreen, SemanticDetector, load_crisis_model
from agent.safety.evaluation import ScreenReport, evaluate
from agent.safety.examples import load_labelled
from agent.safety.semantic import TRAINING_SET

TEST_SPLIT = Path(__file__).resolve().parents[2] / "data" / "crisis_test.jsonl"
PROBE = Path(__file__).resolve().parents[2] / "data" / "crisis_probe.jsonl"
EVERYDAY = Path(__file__).resolve().parents[2] / "data" / "everyday_messages.txt"
RECALL_TARGET = 0.97
FALSE_ALARM_TARGET = 0.05


def test_the_split_is_large_varied_and_apart_from_training():
    test, train = load_labelled(TEST_SPLIT), load_labelled(TRAINING_SET)
    assert len(test) + len(train) >= 300
    for split in (test, train):
        assert sum(e.label != "none" for e in split) >= 150
        assert all(sum(e.label == c for e in split) >= 35 for c in CATEGORIES)
        assert sum(e.label == "none" for e in split) >= 140
    normal = {" ".join(e.text.lower().split()) for e in train}
    assert not [e.text for e in test if " ".join(e.text.lower().split()) in normal]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def test_the_probe_is_apart_from_the_training_and_test_lines():
    """No probe message shares half its words with a training or test line (nor the other way round: a training
    line written later close to a probe message fails here, since the probe must stay unseen)."""
    probe = load_labelled(PROBE)
    assert len(probe) >= 80 and all(any(e.label == c for e in probe) for c in CATEGORIES)
    others = [_words(e.text) for e in load_labelled(TRAINING_SET) + load_labelled(TEST_SPLIT)]
    close = [e.text for e in probe if any(len(_words(e.text) & o) >= 0.5 * len(_words(e.text) | o) for o in others)]
    assert close == []


@pytest.fixture(scope="module")
def screen() -> SafetyScreen:
    from agent.perception.minilm import MiniLmEncoder
    from core.provision import model_dir

    return SafetyScreen(detector=SemanticDetector(MiniLmEncoder(model_dir("minilm-l6")), load_crisis_model()))


@pytest.fixture(scope="module")
def report(screen: SafetyScreen) -> ScreenReport:
    return evaluate(screen.check, load_labelled(TEST_SPLIT))


@pytest.mark.models
@pytest.mark.xfail(
    strict=True,
    reason="issue 13 targets not reached in every category: measured recall 97.1 % overall (suicide 96.1 %, self-harm "
    "94.7 %, abuse 100 %, medical 97.7 %) at 4.1 % false alarms; strict, so meeting them fails this marker and it "
    "must be removed",
)
def test_recall_and_false_alarms_on_the_held_out_split_meet_the_targets(report: ScreenReport):
    missed = [f"{e.label}: {e.text}" for e in report.missed]
    for category in CATEGORIES:
        assert report.recall[category] >= RECALL_TARGET, (category, report.recall, missed)
    assert report.false_alarms <= FALSE_ALARM_TARGET


@pytest.mark.models
def test_the_held_out_figures_do_not_fall_below_what_was_measured(report: ScreenReport):
    """A regression floor a little under the measured figures (see the xfail above for the targets)."""
    alarms = [e.text for e, _ in report.false_alarm_texts]
    assert report.overall_recall >= 0.95, ([f"{e.label}: {e.text}" for e in report.missed], report.recall)
    assert min(report.recall.values()) >= 0.92, report.recall
    assert report.false_alarms <= FALSE_ALARM_TARGET, alarms
    assert report.right_category >= 0.9


@pytest.mark.models
def test_the_probe_figures_do_not_fall_below_what_was_measured(screen: SafetyScreen):
    """A floor under the figures measured on the probe (2026-12-03: 89.1 % of its 55 crises caught, suicide 23 of
    28; 3 of its 31 hard negatives flagged). Short of issue 13's targets: indirect suicidal messages are missed."""
    report = evaluate(screen.check, load_labelled(PROBE))
    missed = [f"{e.label}: {e.text}" for e in report.missed]
    assert report.overall_recall >= 0.85, (missed, report.recall)
    assert report.false_alarms <= 0.13, [e.text for e, _ in report.false_alarm_texts]


@pytest.mark.models
def test_ordinary_chat_passes(screen: SafetyScreen):
    """Everyday messages, not written as hard negatives, held to the false-alarm target (at most 5 %: 2 of 40).

    Before the detector was fitted with real comments as negatives it flagged 24 % of real Reddit comments
    (benchmarks/safety_screen.py --goemotions); the shipped one flags 2 of these 40 lines."""
    lines = [line for line in EVERYDAY.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    assert len(lines) >= 40
    flagged = [line for line in lines if screen.check(line) is not None]
    assert len(flagged) <= FALSE_ALARM_TARGET * len(lines), flagged
