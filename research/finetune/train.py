"""The training loop: LoRA adapters on a frozen causal LM, AdamW, one batch of examples per step.

A plain torch loop rather than transformers' Trainer: a few dozen lines, no extra dependencies, and every step's
loss printed as it happens. Examples are shuffled (seeded) and cycled, so `steps` may exceed one pass.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from research.finetune.encoding import EncodedExample, collate
from research.finetune.lora import lora_config


@dataclass(frozen=True)
class TrainSettings:
    """The optimisation: steps, learning rate, LoRA rank and target modules, batch size, seed, CPU threads."""

    steps: int = 60
    lr: float = 2e-4
    rank: int = 8
    batch_size: int = 4
    seed: int = 7
    target_modules: str = ""  # "" = by architecture (research.finetune.lora); "all-linear" or "q_proj,v_proj"
    threads: int = 2
    max_grad_norm: float = 1.0
    eval_every: int = 10  # steps between held-out losses (also before the first step and after the last)


@dataclass
class StepLog:
    """One optimisation step: its 1-based number, the mean reply-token loss of its batch, and seconds taken."""

    step: int
    loss: float
    seconds: float


@dataclass
class ValidationLog:
    """The held-out loss after `step` steps (0: before training): mean cross-entropy over every reply token of the
    validation examples (`tokens` of them), with dropout off."""

    step: int
    loss: float
    tokens: int


@dataclass
class TrainResult:
    """The adapted model (a peft PeftModel), every step's loss and the held-out losses."""

    model: Any
    steps: list[StepLog] = field(default_factory=list)
    trainable_parameters: int = 0
    total_parameters: int = 0
    validation: list[ValidationLog] = field(default_factory=list)


def batches(examples: list[EncodedExample], batch_size: int, seed: int) -> Iterator[list[EncodedExample]]:
    """Endless batches: each pass over the examples in a fresh seeded order; a short last batch is filled from the
    next pass so every step sees `batch_size` examples."""
    rng = random.Random(seed)
    order: list[EncodedExample] = []
    while True:
        while len(order) < batch_size:
            fresh = list(examples)
            rng.shuffle(fresh)
            order += fresh
        batch, order = order[:batch_size], order[batch_size:]
        yield batch


def held_out_loss(model: Any, examples: list[EncodedExample], pad_id: int, batch_size: int) -> tuple[float, int]:
    """Mean reply-token cross-entropy of `model` over `examples` (no gradients, dropout off) and the token count."""
    import torch

    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    total, tokens = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(examples), batch_size):
            batch = {k: v.to(device) for k, v in collate(examples[start : start + batch_size], pad_id).items()}
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            # Token t predicts token t + 1; -100 labels (prompt, padding) are skipped, as in training.
            loss = torch.nn.functional.cross_entropy(
                logits[:, :-1].reshape(-1, logits.shape[-1]).float(),
                batch["labels"][:, 1:].reshape(-1),
                reduction="sum",
            )
            total += float(loss)
            tokens += int((batch["labels"][:, 1:] != -100).sum())
    if was_training:
        model.train()
    return (total / tokens if tokens else float("nan")), tokens


def train_lora(
    base: Any,
    examples: list[EncodedExample],
    pad_id: int,
    settings: TrainSettings,
    out: TextIO | None = None,
    validation: list[EncodedExample] | None = None,
) -> TrainResult:
    """Wrap `base` with LoRA adapters and train them for `settings.steps` steps, printing each step's loss; with
    `validation` examples, the held-out loss before training, every `settings.eval_every` steps and at the end."""
    import torch
    from peft import get_peft_model

    out = out or sys.stdout
    if not examples:
        raise ValueError("no training examples: the dialogues need turns with both `reply` and `reply_emotion`")
    if settings.steps < 1 or settings.batch_size < 1 or settings.lr <= 0:
        raise ValueError("--steps and --batch-size must be at least 1 and --lr positive")
    torch.manual_seed(settings.seed)
    torch.set_num_threads(settings.threads)
    config = lora_config(base.config.model_type, settings.rank, settings.target_modules)
    model = get_peft_model(base, config)
    trainable, total = model.get_nb_trainable_parameters()
    print(
        f"[finetune] LoRA rank {settings.rank} on {config.target_modules}: {trainable:,} of {total:,} "
        f"parameters trained",
        file=out,
        flush=True,
    )
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=settings.lr)
    device = next(model.parameters()).device
    model.train()
    result = TrainResult(model=model, trainable_parameters=trainable, total_parameters=total)
    stream = batches(examples, settings.batch_size, settings.seed)

    def evaluate(step: int) -> None:
        if not validation:
            return
        loss, tokens = held_out_loss(model, validation, pad_id, settings.batch_size)
        result.validation.append(ValidationLog(step=step, loss=round(loss, 5), tokens=tokens))
        print(f"[finetune] held-out loss after {step} steps: {loss:.4f} ({tokens} reply tokens)", file=out, flush=True)

    evaluate(0)
    for step in range(1, settings.steps + 1):
        start = time.perf_counter()
        batch = {key: value.to(device) for key, value in collate(next(stream), pad_id).items()}
        loss = model(**batch).loss  # mean cross-entropy over the reply tokens (prompt labels are -100)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, settings.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        log = StepLog(step=step, loss=round(float(loss.detach()), 5), seconds=round(time.perf_counter() - start, 3))
        result.steps.append(log)
        print(
            f"[finetune] step {step}/{settings.steps} loss {log.loss:.4f} ({log.seconds:.2f} s)", file=out, flush=True
        )
        if step == settings.steps or (settings.eval_every > 0 and step % settings.eval_every == 0):
            evaluate(step)
    model.eval()
    return result
