"""Text-only emotion recognition on the held-out test set: macro-F1 of perception vs the majority baseline.

Rows: the live perceiver (MiniLM + the shipped GoEmotions-trained model, agent.perception.emotion_model; the
hand-written dev set is part of its training data), the start-up classifier it replaced (fitted on the dev set
shipped with the agent, agent/perception/data/emotion_dev.jsonl), the lexical cues alone and the majority label,
all scored on tests/data/emotion_test.jsonl, which no setting was tuned on. `--cv` prints the 5-fold cross-validated
dev score used to choose the classifier's settings (L2 strength, lexical gain), so the choice can be checked.
`--test tests/data/emotion_dialogue_test.jsonl` scores everyday talk instead (held out from the dialogue lines the
trained model learns from).

    OMP_WAIT_POLICY=PASSIVE python benchmarks/emotion_accuracy.py [--test FILE] [--cv] [--errors]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from agent.perception.classifier import Example, load_examples
from agent.perception.evaluation import f1_per_label, macro_f1, majority_label
from agent.perception.minilm import MiniLmEncoder
from agent.perception.text import DEV_SET, TextPerception, load_text_perception
from core.emotion import BASIC_EMOTIONS
from core.provision import model_dir

TEST_SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "emotion_test.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", type=Path, default=TEST_SET, help="labelled JSONL to score")
    parser.add_argument("--cv", action="store_true", help="also print 5-fold cross-validation on the dev set")
    parser.add_argument("--errors", action="store_true", help="list the misclassified test utterances")
    args = parser.parse_args()

    dev, test = load_examples(DEV_SET), load_examples(args.test)
    truth = [e.label for e in test]
    print(f"dev (training) set: {len(dev)} utterances; test set {args.test}: {len(test)} utterances")

    started = time.perf_counter()
    encoder = MiniLmEncoder(model_dir("minilm-l6"))
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    full = TextPerception(encoder)
    fit_s = time.perf_counter() - started
    lexical = TextPerception()
    live = load_text_perception(encoder)

    latencies = []
    predicted = []
    live_latencies = []
    live_predicted = []
    for example in test:
        t0 = time.perf_counter()
        predicted.append(full.perceive(example.text).label)
        latencies.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        live_predicted.append(live.perceive(example.text).label)
        live_latencies.append((time.perf_counter() - t0) * 1000)
    lexical_predicted = [lexical.perceive(e.text).label for e in test]
    majority = majority_label([e.label for e in dev])

    print(
        f"MiniLM load {load_s:.2f} s; embed dev set + fit classifier {fit_s:.2f} s; "
        f"perceive median {statistics.median(latencies):.1f} ms, max {max(latencies):.1f} ms per utterance "
        f"(trained model: median {statistics.median(live_latencies):.1f} ms, max {max(live_latencies):.1f} ms)"
    )
    rows = [
        ("text: trained model (live)", live_predicted),
        ("text: start-up classifier", predicted),
        ("text: lexical cues only", lexical_predicted),
        (f"majority baseline ({majority!r})", [majority] * len(test)),
    ]
    for name, labels in rows:
        accuracy = sum(t == p for t, p in zip(truth, labels, strict=True)) / len(truth)
        print(f"{name:<34} macro-F1 {macro_f1(truth, labels, BASIC_EMOTIONS):.3f}   accuracy {accuracy:.3f}")
    for name, labels in rows[:2]:
        per_label = f1_per_label(truth, labels, BASIC_EMOTIONS)
        print(f"per-label F1 ({name}): " + ", ".join(f"{k} {v:.2f}" for k, v in per_label.items()))
    if args.errors:
        for example, label in zip(test, live_predicted, strict=True):
            if label != example.label:
                print(f"  {example.label:>8} -> {label:<8} {example.text}")
    if args.cv:
        cross_validate(encoder, dev)


class _CachedEncoder:
    """Embeds each sentence once: cross-validation refits the classifier on the same sentences many times."""

    def __init__(self, encoder: MiniLmEncoder) -> None:
        self._encoder = encoder
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        for text in texts:
            if text not in self._cache:
                self._cache[text] = self._encoder.encode([text])[0]
        return np.stack([self._cache[t] for t in texts])


def cross_validate(encoder: MiniLmEncoder, dev: list[Example], folds: int = 5) -> None:
    """Stratified k-fold macro-F1 on the dev set for a small grid of settings (how the defaults were chosen)."""
    cached = _CachedEncoder(encoder)
    rng = random.Random(0)
    fold_of: dict[int, int] = {}
    for label in BASIC_EMOTIONS:
        indices = [i for i, e in enumerate(dev) if e.label == label]
        rng.shuffle(indices)
        fold_of.update({i: n % folds for n, i in enumerate(indices)})
    with tempfile.TemporaryDirectory() as tmp:
        for gain in (1.0, 3.0):
            for l2 in (30.0, 300.0, 1000.0):
                predicted = [""] * len(dev)
                for k in range(folds):
                    train = Path(tmp) / f"train{k}.jsonl"
                    train.write_text("".join(_line(e) for i, e in enumerate(dev) if fold_of[i] != k))
                    model = TextPerception(cached, training=train, l2=l2, lexical_gain=gain)
                    for i, e in enumerate(dev):
                        if fold_of[i] == k:
                            predicted[i] = model.perceive(e.text).label
                score = macro_f1([e.label for e in dev], predicted, BASIC_EMOTIONS)
                print(f"dev {folds}-fold CV: lexical gain {gain:g}, l2 {l2:g}: macro-F1 {score:.3f}")


def _line(example: Example) -> str:
    return json.dumps({"text": example.text, "label": example.label}) + "\n"


if __name__ == "__main__":
    main()
