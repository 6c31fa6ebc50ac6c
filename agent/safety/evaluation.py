"""Measure a crisis screen on labelled messages: recall per category, false alarms, category agreement."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from agent.safety.examples import LabelledText
from agent.safety.verdict import CATEGORIES, SafetyVerdict


@dataclass(frozen=True)
class ScreenReport:
    """How a screen did on a labelled set."""

    recall: dict[str, float]  # per category: share of its crisis messages flagged (any category)
    counts: dict[str, int]  # messages per label ("none" included)
    false_alarms: float  # share of "none" messages flagged
    right_category: float  # share of flagged crisis messages given their own category
    missed: list[LabelledText] = field(default_factory=list)
    false_alarm_texts: list[tuple[LabelledText, SafetyVerdict]] = field(default_factory=list)

    @property
    def overall_recall(self) -> float:
        flagged = sum(self.recall[c] * self.counts[c] for c in CATEGORIES)
        return flagged / max(1, sum(self.counts[c] for c in CATEGORIES))


def evaluate(check: Callable[[str], SafetyVerdict | None], examples: Sequence[LabelledText]) -> ScreenReport:
    """Run `check` on every example and tally the outcome."""
    hits = dict.fromkeys(CATEGORIES, 0)
    counts = dict.fromkeys(("none", *CATEGORIES), 0)
    right = flagged_crises = 0
    missed: list[LabelledText] = []
    alarms: list[tuple[LabelledText, SafetyVerdict]] = []
    for example in examples:
        verdict = check(example.text)
        counts[example.label] += 1
        if example.label == "none":
            if verdict is not None:
                alarms.append((example, verdict))
        elif verdict is None:
            missed.append(example)
        else:
            hits[example.label] += 1
            flagged_crises += 1
            right += verdict.category == example.label
    return ScreenReport(
        recall={c: hits[c] / counts[c] if counts[c] else 0.0 for c in CATEGORIES},
        counts=counts,
        false_alarms=len(alarms) / counts["none"] if counts["none"] else 0.0,
        right_category=right / flagged_crises if flagged_crises else 0.0,
        missed=missed,
        false_alarm_texts=alarms,
    )
