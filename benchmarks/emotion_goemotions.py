"""Text emotion perception on a labelled set: per-class F1, macro-F1, ECE, latency and a confusion-matrix PNG.

The set is a GoEmotions-format TSV (its rows mapped to the seven basic emotions; rows whose labels map to several
are left out) or a JSONL file of `{"text": ..., "label": ...}` lines. The perceiver is the live one (MiniLM + the
shipped trained model, loaded and hash-checked by agent.perception.text.load_text_perception); `--uncalibrated`
also scores it with temperature 1 to show what calibration does; `--start-up-classifier` scores the classifier
fitted at start-up on the hand-written lines instead (what the product used before the trained model).

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.emotion_goemotions --data /path/to/goemotions/dev.tsv \
        [--png confusion.png] [--limit N] [--uncalibrated] [--start-up-classifier]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from agent.perception.emotion_model import load_emotion_model
from agent.perception.evaluation import Scores, load_labelled, plot_confusion, score_perceiver
from agent.perception.minilm import MiniLmEncoder
from agent.perception.text import TextPerception
from core.emotion import EmotionState
from core.provision import model_dir


def timed(perceive: Callable[[str], EmotionState], latencies: list[float]) -> Callable[[str], EmotionState]:
    """`perceive`, recording each call's wall time in milliseconds."""

    def call(text: str) -> EmotionState:
        started = time.perf_counter()
        state = perceive(text)
        latencies.append((time.perf_counter() - started) * 1000)
        return state

    return call


def report(name: str, scores: Scores, latencies: list[float]) -> None:
    print(f"== {name}")
    print(scores.summary())
    if latencies:
        ordered = sorted(latencies)
        p90 = ordered[int(0.9 * (len(ordered) - 1))]
        print(f"perceive: median {statistics.median(ordered):.1f} ms, p90 {p90:.1f} ms per utterance")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="GoEmotions-format .tsv or labelled .jsonl")
    parser.add_argument("--png", type=Path, default=Path("emotion_confusion.png"), help="confusion-matrix image")
    parser.add_argument("--limit", type=int, default=0, help="score only the first N rows (0: all)")
    parser.add_argument("--uncalibrated", action="store_true", help="also score with temperature 1")
    parser.add_argument("--start-up-classifier", action="store_true", help="also score the start-up classifier")
    args = parser.parse_args()

    examples = load_labelled(args.data)
    if args.limit:
        examples = examples[: args.limit]
    started = time.perf_counter()
    encoder = MiniLmEncoder(model_dir("minilm-l6"))
    model = load_emotion_model()
    print(f"{args.data}: {len(examples)} rows; MiniLM + emotion model loaded in {time.perf_counter() - started:.2f} s")

    latencies: list[float] = []
    live = TextPerception(encoder, emotion_model=model)
    scores = score_perceiver(timed(live.perceive, latencies), examples)
    report(f"live perceiver (trained model, temperature {model.temperature:.3f})", scores, latencies)
    print(f"confusion matrix: {plot_confusion(scores, args.png, f'{args.data.name}: macro-F1 {scores.macro_f1:.3f}')}")
    if args.uncalibrated:
        raw = TextPerception(encoder, emotion_model=dataclasses.replace(model, temperature=1.0))
        report("same model, uncalibrated (temperature 1)", score_perceiver(raw.perceive, examples), [])
    if args.start_up_classifier:
        before = TextPerception(encoder)
        report("start-up classifier (hand-written lines)", score_perceiver(before.perceive, examples), [])


if __name__ == "__main__":
    main()
