"""`empathica finetune DIALOGUES.jsonl --base MODEL --out ADAPTER`: train a LoRA adapter (docs/finetune.md)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from research.dialogues import DialogueError, load_dialogues
from research.finetune.train import TrainSettings

CONDITIONING_FORMAT = "responder-turn-note/v1"  # docs/finetune.md, research/finetune/examples.py


class FinetuneError(RuntimeError):
    """Fine-tuning cannot start or finish; the message says what to do (exit code 2)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `finetune` subcommand's arguments."""
    defaults = TrainSettings()
    parser.add_argument("dialogues", type=Path, help="a dialogue JSONL file, e.g. research/data/dialogues.jsonl")
    parser.add_argument(
        "--base",
        required=True,
        help="the base model: an installed LLM's name (e.g. qwen2.5-coder-1.5b, the default embedded model) or "
        "GGUF path, de-quantized to train on; or a local Hugging Face folder or a hub id",
    )
    parser.add_argument("--out", type=Path, required=True, help="the folder to write the adapter into")
    parser.add_argument("--steps", type=int, default=defaults.steps, help=f"optimiser steps (default {defaults.steps})")
    parser.add_argument("--lr", type=float, default=defaults.lr, help=f"learning rate (default {defaults.lr:g})")
    parser.add_argument("--rank", type=int, default=defaults.rank, help=f"LoRA rank (default {defaults.rank})")
    parser.add_argument(
        "--batch-size", type=int, default=defaults.batch_size, help=f"examples per step (default {defaults.batch_size})"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help=f"random seed (default {defaults.seed})")
    parser.add_argument(
        "--target-modules",
        default="",
        help='layers to adapt: comma-separated names or "all-linear" (default: the attention projections of the '
        "model's architecture)",
    )
    parser.add_argument(
        "--val-fraction",
        type=float,
        default=0.2,
        help="share of dialogues held out for the validation loss, split by dialogue with --seed (default 0.2)",
    )
    parser.add_argument(
        "--eval-every", type=int, default=defaults.eval_every, help="steps between held-out losses (default 10)"
    )
    parser.add_argument("--max-tokens", type=int, default=1024, help="longest example in tokens (default 1024)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (default: llm.threads)")


def run_finetune(config: Any, args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Train and save the adapter; the system prompt is the configured persona's (persona.prompt, persona.name)."""
    out = out or sys.stdout
    try:
        _finetune(config, args, out)
    except FinetuneError as error:
        print(f"empathica finetune: {error}", file=sys.stderr)
        return 2
    return 0


def _finetune(config: Any, args: argparse.Namespace, out: TextIO) -> None:
    import torch

    from agent.llm.transformers_chat import TransformersLlmError, load_causal_lm
    from agent.prompts import PromptError
    from core.provision import sha256_file
    from research.finetune.artifacts import check_out_dir, save_adapter
    from research.finetune.base import BaseModelError, load_gguf_causal_lm, resolve_base
    from research.finetune.encoding import encode_example
    from research.finetune.examples import USER_INTENSITY, EmotionConditioning, build_examples
    from research.finetune.split import split_dialogues
    from research.finetune.train import train_lora

    settings = TrainSettings(
        steps=args.steps,
        lr=args.lr,
        rank=args.rank,
        batch_size=args.batch_size,
        seed=args.seed,
        target_modules=args.target_modules,
        threads=args.threads or config.llm.threads,
        eval_every=args.eval_every,
    )
    try:
        base_source = resolve_base(str(args.base))
        check_out_dir(args.out)
        dialogues = load_dialogues(args.dialogues)
        train_dialogues, held_out = split_dialogues(dialogues, args.val_fraction, args.seed)
        conditioning = EmotionConditioning(config.persona.prompt, config.persona.name)
        examples = build_examples(train_dialogues, conditioning)
        validation = build_examples(held_out, conditioning)
    except (FileExistsError, DialogueError, PromptError, BaseModelError, ValueError) as error:
        raise FinetuneError(str(error)) from None
    if not examples:
        raise FinetuneError(f"{args.dialogues} has no turn with both `reply` and `reply_emotion` to learn from")
    print(
        f"[finetune] {len(examples)} replies from {len(train_dialogues)} dialogues to train on, {len(validation)} "
        f"from {len(held_out)} held out; loading {args.base}",
        file=out,
    )
    torch.set_num_threads(settings.threads)
    try:  # LoRA on CPU trains in float32
        if base_source.gguf is not None:
            tokenizer, base = load_gguf_causal_lm(base_source.gguf, dtype=torch.float32)
        else:
            tokenizer, base = load_causal_lm(base_source.hf, dtype=torch.float32)
    except (TransformersLlmError, BaseModelError) as error:
        raise FinetuneError(str(error)) from None
    try:
        encoded = [encode_example(tokenizer, example, args.max_tokens) for example in examples]
        encoded_validation = [encode_example(tokenizer, example, args.max_tokens) for example in validation]
    except ValueError as error:
        raise FinetuneError(str(error)) from None
    pad_id = next(i for i in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0) if i is not None)
    result = train_lora(base, encoded, pad_id, settings, out, validation=encoded_validation)
    metadata = {
        **base_source.describe(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "conditioning": {
            "format": CONDITIONING_FORMAT,
            "chat_format": "chat_template" if getattr(tokenizer, "chat_template", None) else "plain",
            "persona_prompt": conditioning.persona_prompt,
            "persona_name": config.persona.name,
            "turn_template": "turn_default",
            "feelings": "feelings_default",
            "user_intensity": USER_INTENSITY,
        },
        "dataset": {
            "path": str(args.dialogues),
            "sha256": sha256_file(args.dialogues),
            "dialogues": len(dialogues),
            "examples": len(examples),
            "reply_tokens": sum(e.reply_tokens for e in encoded),
            "validation_examples": len(validation),
        },
        "split": {
            "by": "dialogue",
            "validation_fraction": args.val_fraction,
            "seed": args.seed,
            "train_dialogues": [d.id for d in train_dialogues],
            "validation_dialogues": [d.id for d in held_out],
        },
    }
    held_out_jsonl = "".join(d.model_dump_json(exclude_defaults=True) + "\n" for d in held_out)
    save_adapter(result, args.out, settings, metadata, held_out_jsonl)
    first, last = result.steps[0].loss, result.steps[-1].loss
    held = (
        f"; held-out loss {result.validation[0].loss:.4f} -> {result.validation[-1].loss:.4f}"
        if result.validation
        else ""
    )
    print(f"[finetune] loss {first:.4f} -> {last:.4f}{held}; adapter saved in {args.out}", file=out)
