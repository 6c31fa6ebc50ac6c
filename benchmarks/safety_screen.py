"""The crisis screen on the held-out test split: recall per category, false alarms, latency per message.

    python -m benchmarks.safety_screen [--runs 3] [--show-errors]

Loads the screen as the server does (rules + MiniLM detector with the shipped weights), checks every message of
tests/data/crisis_test.jsonl (never used for fitting or for choosing the threshold) `--runs` times, and prints
recall per category, the false-alarm rate, how often the category was right, the rules-only figures for
comparison, and the median / 95th-percentile latency of one `check` call.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from agent.perception.minilm import MiniLmEncoder
from agent.safety import SafetyScreen, SemanticDetector, load_crisis_model
from agent.safety.evaluation import ScreenReport, evaluate
from agent.safety.fit import load_labelled
from agent.safety.verdict import CATEGORIES
from core.provision import model_dir

TEST_SPLIT = Path(__file__).resolve().parents[1] / "tests" / "data" / "crisis_test.jsonl"


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
    args = parser.parse_args()
    examples = load_labelled(TEST_SPLIT)
    encoder = MiniLmEncoder(model_dir("minilm-l6"))
    screen = SafetyScreen(detector=SemanticDetector(encoder, load_crisis_model()))
    rules_only = SafetyScreen()
    print(f"test split: {TEST_SPLIT.name}, {len(examples)} messages")
    _print("rules only", evaluate(rules_only.check, examples))
    report = evaluate(screen.check, examples)
    _print("rules + detector", report)
    latencies = []
    for _ in range(max(1, args.runs)):
        for example in examples:
            start = time.perf_counter()
            screen.check(example.text)
            latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(
        f"latency per message: median {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms "
        f"({len(latencies)} checks, {args.runs} runs)"
    )
    if args.show_errors:
        for example in report.missed:
            print(f"  missed [{example.label}/{example.kind}] {example.text}")
        for example, verdict in report.false_alarm_texts:
            print(
                f"  false alarm [{example.kind}] {example.text}  -> {verdict.category} {verdict.score:.2f} "
                f"({verdict.source}: {verdict.matched!r})"
            )


if __name__ == "__main__":
    main()
