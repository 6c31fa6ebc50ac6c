"""The crisis screen on the held-out test split: recall per category, false alarms, latency per message.

    python -m benchmarks.safety_screen [--runs 3] [--show-errors] [--goemotions DIR/dev.tsv [--sample 1000]]
        [--split tests/data/crisis_probe.jsonl]

Loads the screen as the server does (rules + MiniLM detector with the shipped weights), checks every message of
tests/data/crisis_test.jsonl (never used for fitting or for choosing the threshold) `--runs` times, and prints
recall per category, the false-alarm rate, how often the category was right, the rules-only figures for
comparison, and the median / 95th-percentile latency of one `check` call: wall time, and the process's CPU time
(which a busy, shared machine inflates far less than wall time), with the share spent in the shared MiniLM
encoder's lower layers (the rest is the detector's own fine-tuned layers and the rules).
`--split` measures another held-out set instead: tests/data/crisis_probe.jsonl holds 86 messages written later in
a longer, chat and Reddit style, none within a word overlap of 0.5 of a training or test line (docs/crisis_screen.md).
With `--goemotions` it also prints how many real Reddit comments (a seeded sample of a GoEmotions-format TSV; use
dev.tsv, which the fit never reads) the screen flags: everyday false alarms, which hand-written negatives miss.
"""

from __future__ import annotations

import argparse
import collections
import random
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from agent.perception.goemotions import read_goemotions_tsv
from agent.perception.minilm import MiniLmEncoder
from agent.safety import SafetyScreen, SemanticDetector, load_crisis_model
from agent.safety.evaluation import ScreenReport, evaluate
from agent.safety.examples import load_labelled
from agent.safety.verdict import CATEGORIES
from core.provision import model_dir

TEST_SPLIT = Path(__file__).resolve().parents[1] / "tests" / "data" / "crisis_test.jsonl"


class _TimedEncoder:
    """The MiniLM encoder with a stopwatch: how much of a check is the sentence encoder."""

    def __init__(self, encoder: MiniLmEncoder) -> None:
        self._encoder = encoder
        self.seconds = 0.0
        self.texts = 0

    @property
    def layers(self) -> int:
        return self._encoder.layers

    def token_states(self, text: str, layers: int | None = None) -> npt.NDArray[np.float32]:
        return self.token_states_many([text], layers)[0]

    def token_states_many(self, texts: Sequence[str], layers: int | None = None) -> list[npt.NDArray[np.float32]]:
        start = time.perf_counter()
        try:
            return self._encoder.token_states_many(texts, layers)
        finally:
            self.seconds += time.perf_counter() - start
            self.texts += len(texts)


def _p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


def _print(name: str, report: ScreenReport) -> None:
    recall = ", ".join(f"{c} {report.recall[c]:.1%} (n={report.counts[c]})" for c in CATEGORIES)
    print(f"{name}: recall {report.overall_recall:.1%} [{recall}]")
    print(
        f"{' ' * len(name)}  false alarms {report.false_alarms:.1%} (n={report.counts['none']}), "
        f"right category {report.right_category:.1%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="passes over the test split for the latency figures")
    parser.add_argument("--show-errors", action="store_true", help="list the misses and false alarms")
    parser.add_argument("--goemotions", type=Path, help="a GoEmotions-format TSV of real comments (dev.tsv)")
    parser.add_argument("--sample", type=int, default=1000, help="comments to check from --goemotions")
    parser.add_argument("--split", type=Path, default=TEST_SPLIT, help="the labelled messages to measure on")
    args = parser.parse_args()
    examples = load_labelled(args.split)
    encoder = MiniLmEncoder(model_dir("minilm-l6"))
    screen = SafetyScreen(detector=SemanticDetector(encoder, load_crisis_model()))
    rules_only = SafetyScreen()
    print(f"test split: {args.split.name}, {len(examples)} messages")
    _print("rules only", evaluate(rules_only.check, examples))
    report = evaluate(screen.check, examples)
    _print("rules + detector", report)
    timed = _TimedEncoder(encoder)
    timed_screen = SafetyScreen(detector=SemanticDetector(timed, load_crisis_model()))
    timed.seconds, timed.texts = 0.0, 0  # not the probe the detector makes when built
    latencies, cpu = [], []
    for _ in range(max(1, args.runs)):
        for example in examples:
            start, start_cpu = time.perf_counter(), time.process_time()
            timed_screen.check(example.text)
            latencies.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
    print(
        f"latency per message: median {statistics.median(latencies):.1f} ms, p95 {_p95(latencies):.1f} ms wall; "
        f"CPU time median {statistics.median(cpu):.1f} ms, p95 {_p95(cpu):.1f} ms ({len(latencies)} checks, "
        f"{args.runs} runs); {timed.seconds * 1000 / max(1.0, sum(latencies)):.0%} of the wall time in the shared "
        f"encoder's lower layers ({timed.texts} texts encoded)"
    )
    if args.goemotions is not None:
        _everyday(screen, args.goemotions, args.sample, args.show_errors)
    if args.show_errors:
        for example in report.missed:
            print(f"  missed [{example.label}/{example.kind}] {example.text}")
        for example, verdict in report.false_alarm_texts:
            print(
                f"  false alarm [{example.kind}] {example.text}  -> {verdict.category} {verdict.score:.2f} "
                f"({verdict.source}: {verdict.matched!r})"
            )


def _everyday(screen: SafetyScreen, path: Path, sample: int, show: bool) -> None:
    """How many of a seeded sample of real comments the screen flags (nearly all are no crisis)."""
    texts = [row.text for row in read_goemotions_tsv(path)]
    random.Random(0).shuffle(texts)
    flagged = [(text, verdict) for text in texts[:sample] if (verdict := screen.check(text)) is not None]
    categories = collections.Counter(verdict.category for _, verdict in flagged)
    print(
        f"real comments ({path.name}, {min(sample, len(texts))} sampled): {len(flagged)} flagged "
        f"({len(flagged) / max(1, min(sample, len(texts))):.1%}) {dict(categories)}"
    )
    if show:
        for text, verdict in flagged:
            print(f"  flagged comment -> {verdict.category} {verdict.score:.2f}: {text}")


if __name__ == "__main__":
    main()
