"""Train the text-emotion model: `python -m research.emotion_model.train --goemotions DIR [--out FILE]`.

DIR holds GoEmotions' `train.tsv` (and optionally `dev.tsv`, scored at the end, never fitted on). The project's
hand-written lines join the training set, repeated, so the model also reads first-person, conversational sentences
well: agent/perception/data/emotion_dev.jsonl (feelings told in the first person) and emotion_dialogue.jsonl
(everyday talk, where a plain question is neutral: GoEmotions files curiosity under surprise). A seeded slice of
train.tsv is held out to fit the temperature.
Prints the elapsed time of each stage and the dev figures; writes the weights and their .sha256 beside them.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from agent.perception.classifier import load_examples
from agent.perception.emotion_model import WEIGHTS, EmotionModel, save_emotion_model, softmax
from agent.perception.evaluation import Scores, score
from agent.perception.goemotions import LabelledText, read_goemotions_tsv
from agent.perception.text import DEV_SET
from core.emotion import BASIC_EMOTIONS
from core.provision import model_dir
from research.emotion_model.features import encode_cached
from research.emotion_model.torch_minilm import TorchMiniLm
from research.emotion_model.training import TopModel, TrainSettings, fit_temperature, predict_logits, train_top

OWN_SETS = (DEV_SET, DEV_SET.with_name("emotion_dialogue.jsonl"))


def soft_targets(rows: list[LabelledText]) -> npt.NDArray[np.float32]:
    """One row per text: its basic emotions share probability 1 evenly."""
    y = np.zeros((len(rows), len(BASIC_EMOTIONS)), dtype=np.float32)
    for i, row in enumerate(rows):
        for label in row.labels:
            y[i, BASIC_EMOTIONS.index(label)] = 1.0 / len(row.labels)
    return y


def to_emotion_model(
    model: TopModel, minilm: TorchMiniLm, temperature: float, labels: tuple[str, ...] = BASIC_EMOTIONS
) -> EmotionModel:
    """The trained torch model as the numpy reader's weights (`labels`: its read-out's classes, in order)."""
    return EmotionModel(
        labels=labels,
        start_layer=model.start,
        layers=tuple(layer.to_numpy("") for layer in model.bert_layers()),
        head_weight=model.head.weight.detach().numpy().copy(),
        head_bias=model.head.bias.detach().numpy().copy(),
        temperature=temperature,
        heads=minilm.heads,
        eps=minilm.eps,
    )


def dev_scores(logits: npt.NDArray[np.float32], rows: list[LabelledText], temperature: float) -> Scores:
    """Scores on the rows with one basic label, the mixture being softmax(logits / temperature)."""
    keep = [i for i, r in enumerate(rows) if r.single is not None]
    p = softmax(logits[keep] / temperature)
    mixtures = [dict(zip(BASIC_EMOTIONS, (float(v) for v in row), strict=True)) for row in p]
    return score([str(rows[i].single) for i in keep], mixtures, skipped=len(rows) - len(keep))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goemotions", type=Path, required=True, help="folder with train.tsv (and dev.tsv)")
    parser.add_argument("--out", type=Path, default=WEIGHTS, help=f"weights file to write (default {WEIGHTS})")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/empathica-emotion-cache"))
    parser.add_argument("--top-layers", type=int, default=TrainSettings.top_layers)
    parser.add_argument("--epochs", type=int, default=TrainSettings.epochs)
    parser.add_argument("--lr", type=float, default=TrainSettings.lr)
    parser.add_argument(
        "--own", type=Path, action="append", help="hand-written JSONL set to train on (repeatable; default: both)"
    )
    parser.add_argument("--own-repeats", type=int, default=40, help="times each hand-written line is seen per epoch")
    parser.add_argument("--holdout", type=int, default=4000, help="train rows held out to fit the temperature")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    settings = TrainSettings(top_layers=args.top_layers, epochs=args.epochs, lr=args.lr, seed=args.seed)
    minilm_dir = model_dir("minilm-l6")
    minilm = TorchMiniLm(minilm_dir)
    train_rows = read_goemotions_tsv(args.goemotions / "train.tsv")
    own_rows = [LabelledText(e.text, (e.label,)) for path in args.own or OWN_SETS for e in load_examples(path)]
    rows = train_rows + own_rows
    cache_layer = len(minilm.layers) - settings.top_layers
    print(f"{len(train_rows)} GoEmotions train rows + {len(own_rows)} hand-written lines; caching layer {cache_layer}")
    tokenizer = minilm_dir / "tokenizer.json"
    encoded = encode_cached(minilm, tokenizer, [r.text for r in train_rows], cache_layer, args.cache_dir)
    encoded = encoded + encode_cached(minilm, tokenizer, [r.text for r in own_rows], cache_layer, args.cache_dir)
    print(f"lower-layer states: {time.perf_counter() - started:.0f} s")

    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(train_rows))
    held, fitted = order[: args.holdout], order[args.holdout :]
    own = np.arange(len(train_rows), len(rows))
    fit_rows = np.concatenate([fitted, *([own] * args.own_repeats)]).astype(np.int64)
    targets = soft_targets(rows)
    t0 = time.perf_counter()
    model = train_top(minilm, encoded, targets, fit_rows, settings)
    print(f"fine-tuning: {time.perf_counter() - t0:.0f} s ({len(fit_rows)} rows per epoch, {settings.epochs} epochs)")

    temperature = fit_temperature(predict_logits(minilm, model, encoded, held.tolist()), targets[held])
    weights = to_emotion_model(model, minilm, temperature)
    digest = save_emotion_model(weights, args.out, args.out.with_suffix(".sha256"))
    size = args.out.stat().st_size / 1e6
    print(f"temperature {temperature:.3f} (fitted on {len(held)} held-out train rows)")
    print(f"wrote {args.out} ({size:.1f} MB, sha256 {digest})")

    dev_path = args.goemotions / "dev.tsv"
    if dev_path.is_file():
        dev_rows = read_goemotions_tsv(dev_path)
        dev = encode_cached(
            minilm, minilm_dir / "tokenizer.json", [r.text for r in dev_rows], cache_layer, args.cache_dir
        )
        logits = predict_logits(minilm, model, dev)
        raw, calibrated = dev_scores(logits, dev_rows, 1.0), dev_scores(logits, dev_rows, temperature)
        print(f"GoEmotions dev (never fitted on), {calibrated.count} rows with one basic emotion:")
        print("  per-class F1: " + ", ".join(f"{k} {v:.3f}" for k, v in calibrated.per_label_f1.items()))
        print(f"  macro-F1 {calibrated.macro_f1:.3f}, accuracy {calibrated.accuracy:.3f}")
        print(f"  ECE {raw.ece:.3f} before calibration (T = 1), {calibrated.ece:.3f} after (T = {temperature:.3f})")
    print(f"total: {(time.perf_counter() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
