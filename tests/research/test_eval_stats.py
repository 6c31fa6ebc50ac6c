"""Bootstrap intervals over dialogues, and the spread over seeds."""

from __future__ import annotations

import numpy as np
import pytest

from core.emotion import EmotionState
from research.eval.measures import rate
from research.eval.runner import TurnResult
from research.eval.stats import MetricValue, evaluate, percentile_interval, resample_indices, spread

STATE = EmotionState.from_label("neutral", 0.0)


def turn(ok: bool | None) -> TurnResult:
    return TurnResult(0, "u", STATE, STATE, STATE, "r", "plain", 0.0, 0.0, error="" if ok is None else str(ok))


OK = rate("ok", "ok", "test", lambda t: None if t.error == "" else t.error == "True")


def test_the_point_estimate_pools_turns_and_the_interval_resamples_dialogues():
    units = [[turn(True), turn(True)], [turn(False)], [turn(True), turn(None)]]
    draws = resample_indices(len(units), 2000, 1)
    value = evaluate(OK, units, draws)
    assert value.value == pytest.approx(3 / 4) and value.n == 4 and value.dialogues == 3
    assert value.low is not None and value.high is not None
    assert 0.0 <= value.low <= 0.5 < value.value < value.high == 1.0


def test_the_draws_are_seeded_and_shared():
    assert np.array_equal(resample_indices(5, 10, 3), resample_indices(5, 10, 3))
    assert not np.array_equal(resample_indices(5, 10, 3), resample_indices(5, 10, 4))


def test_no_turn_counts_means_na_without_an_interval():
    value = evaluate(OK, [[turn(None)]], resample_indices(1, 10, 0))
    assert (value.value, value.n, value.low, value.high) == (None, 0, None, None)


def test_overlap():
    a = MetricValue(0.5, 10, 2, 0.4, 0.6)
    assert a.overlaps(MetricValue(0.7, 10, 2, 0.55, 0.8)) is True
    assert a.overlaps(MetricValue(0.9, 10, 2, 0.8, 1.0)) is False
    assert a.overlaps(MetricValue(None, 0, 0)) is None


def test_percentile_interval_and_spread():
    assert percentile_interval(list(range(101))) == pytest.approx((2.5, 97.5))
    assert percentile_interval([]) == (None, None)
    s = spread([0.5, None, 0.7])
    assert s.mean == pytest.approx(0.6) and s.sd == pytest.approx(0.1414, abs=1e-4) and (s.min, s.max) == (0.5, 0.7)
    assert spread([None]).mean is None


def test_a_repetition_measure_counts_a_dialogue_drawn_twice_once():
    from research.eval.stats import Measure

    def distinct_share(items: list[str]) -> float:
        return len(set(items)) / len(items)

    measure = Measure("d", "d", "test", lambda t: t.reply, distinct_share)
    once = Measure("d", "d", "test", lambda t: t.reply, distinct_share, distinct_units=True)
    units = [[TurnResult(0, "u", STATE, STATE, STATE, r, "plain", 0.0, 0.0)] for r in ("a", "b")]
    draws = np.array([[0, 0], [1, 1], [0, 1]])
    # Drawing dialogue 0 twice would make its reply look repeated (1/2); counted once it is as diverse as it is.
    assert evaluate(measure, units, draws).low == 0.5
    assert evaluate(once, units, draws).low == 1.0
