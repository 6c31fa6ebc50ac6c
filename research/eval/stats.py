"""Uncertainty: percentile bootstrap confidence intervals, resampling whole dialogues.

Turns of one dialogue are not independent (same topic, same history), so the unit of resampling is the
dialogue (a cluster bootstrap): each resample draws as many dialogues as there are, with replacement, and
recomputes the metric over all their turns (all seeds' turns of a dialogue travel together). Every variant of a
report is resampled with the same draws, so intervals of variants on the same dialogues are comparable.

A metric is a `Measure`: `extract` maps a turn to its contribution (None: the turn does not count), and
`combine` turns the contributions of a set of turns into the figure. An additive measure's contributions are
vectors that are summed (counts, sums, sufficient statistics), so resampling is a matrix sum and fast.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from research.eval.runner import TurnResult

DEFAULT_RESAMPLES = 1000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Measure:
    """One metric: a name (JSON key), a label (report row), its group, how to show it ("pct", "num", "s", "bleu")
    and which direction is better ("higher", "lower" or "")."""

    name: str
    label: str
    group: str
    extract: Callable[[TurnResult], Any]
    combine: Callable[[Any], float | None]
    additive: bool = False  # contributions are numpy vectors; `combine` receives their sum
    # A measure of repetition (Dist-n) counts a dialogue drawn twice once: its copy would only repeat itself.
    distinct_units: bool = False
    fmt: str = "num"
    better: str = ""


@dataclass(frozen=True)
class MetricValue:
    """A metric's point estimate, the turns it counts (n) in how many dialogues, and its 95 % interval; with the
    measure's label, group, display format and better direction, so a report is readable on its own."""

    value: float | None
    n: int
    dialogues: int
    low: float | None = None
    high: float | None = None
    label: str = ""
    group: str = ""
    fmt: str = "num"
    better: str = ""

    def overlaps(self, other: MetricValue) -> bool | None:
        """Whether the two intervals overlap (None when either is missing)."""
        if self.low is None or self.high is None or other.low is None or other.high is None:
            return None
        return bool(self.low <= other.high and other.low <= self.high)


def resample_indices(units: int, resamples: int, seed: int) -> np.ndarray:
    """The bootstrap draws: `resamples` rows of `units` indices drawn with replacement (seeded)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, units, size=(resamples, units)) if units else np.zeros((resamples, 0), dtype=int)


def evaluate(measure: Measure, units: Sequence[Sequence[TurnResult]], draws: np.ndarray | None) -> MetricValue:
    """The measure over all `units` (dialogues, each a list of turns) with its bootstrap interval under `draws`."""
    per_unit = [[c for c in (measure.extract(t) for t in unit) if c is not None] for unit in units]
    n = sum(len(c) for c in per_unit)
    present = sum(bool(c) for c in per_unit)
    if n == 0:
        return _described(measure, MetricValue(None, 0, 0))
    if measure.additive:
        width = len(np.atleast_1d(next(c for unit in per_unit for c in unit)))
        sums = np.array([np.sum(c, axis=0) if c else np.zeros(width) for c in per_unit], dtype=np.float64)
        value = measure.combine(sums.sum(axis=0))
        samples = [measure.combine(row) for row in sums[draws].sum(axis=1)] if draws is not None else []
    else:
        value = measure.combine(list(itertools.chain.from_iterable(per_unit)))
        rows = [dict.fromkeys(row) if measure.distinct_units else row for row in draws] if draws is not None else []
        samples = [measure.combine(list(itertools.chain.from_iterable(per_unit[i] for i in row))) for row in rows]
    low, high = percentile_interval([s for s in samples if s is not None and not math.isnan(s)])
    return _described(measure, MetricValue(value, n, present, low, high))


def _described(measure: Measure, value: MetricValue) -> MetricValue:
    return replace(value, label=measure.label, group=measure.group, fmt=measure.fmt, better=measure.better)


def percentile_interval(samples: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float | None, float | None]:
    """The central `confidence` interval of bootstrap samples (None, None without samples)."""
    if not samples:
        return None, None
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(np.asarray(samples, dtype=np.float64), [tail, 100 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class Spread:
    """A metric across repeated runs (seeds): each run's value, their mean, standard deviation, min and max."""

    values: list[float | None]
    mean: float | None
    sd: float | None
    min: float | None
    max: float | None


def spread(values: Sequence[float | None]) -> Spread:
    """The spread of per-seed values (those that are n/a are left out of the statistics, kept in `values`)."""
    known = [v for v in values if v is not None]
    if not known:
        return Spread(list(values), None, None, None, None)
    sd = statistics.stdev(known) if len(known) > 1 else 0.0
    return Spread(list(values), statistics.fmean(known), sd, min(known), max(known))
