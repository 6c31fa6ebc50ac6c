"""The load and soak benchmarks' arithmetic: percentiles, the memory verdict, and reading a process's RSS."""

from __future__ import annotations

import math
import os

from benchmarks.session_client import TurnSample, latency_table, percentile, rss_bytes
from benchmarks.soak import MB, memory_verdict


def test_percentile_nearest_rank() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert [percentile(values, q) for q in (0, 20, 50, 90, 100)] == [1.0, 1.0, 3.0, 5.0, 5.0]
    assert math.isnan(percentile([], 50))


def test_memory_verdict_compares_after_warm_up() -> None:
    warm_up = [(t, 300 * MB + t * MB) for t in range(0, 60, 10)]  # grows while warming up: not counted
    steady = [(60.0 + t, 400 * MB) for t in range(0, 600, 10)]
    growth, ok, text = memory_verdict(warm_up + steady, 60.0, 0.10)
    assert growth == 0.0 and ok and "400 MB" in text
    leaking = [(60.0 + t, 400 * MB + t * MB // 10) for t in range(0, 600, 10)]  # +60 MB over the run
    growth, ok, _ = memory_verdict(warm_up + leaking, 60.0, 0.10)
    assert 0.10 < growth < 0.16 and not ok


def test_memory_verdict_needs_samples() -> None:
    growth, ok, text = memory_verdict([(1.0, MB)], 60.0, 0.10)
    assert math.isnan(growth) and not ok and "not enough" in text


def test_rss_of_this_process() -> None:
    assert 10 * MB < rss_bytes(os.getpid()) < 64 * 1024 * MB


def test_latency_table_lists_both_measures() -> None:
    sample = TurnSample(0, 0.0, 1.5, 2.0, (), 2, 100)
    table = latency_table([sample, TurnSample(0, 0.0, None, None, ("busy: x",), 0, 0)])
    assert sample.ok and "first media" in table and "reply_end" in table
    assert table.splitlines()[1].split()[2:4] == ["1", "1500"]
