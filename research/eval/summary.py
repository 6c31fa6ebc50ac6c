"""From evaluated turns to the report's figures: one `EvalSummary` per variant (definitions: docs/research.md).

Every metric of research.eval.measures is computed over all the variant's turns (all seeds pooled) with its n
and a 95 % bootstrap interval over dialogues (research.eval.stats); with several seeds each metric's per-seed
values and their spread are kept too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from core.emotion import BASIC_EMOTIONS
from research.eval.measures import is_chain_turn, per_label_f1
from research.eval.metrics import LatencyStats, confusion_matrix, distinct_n, latency_stats
from research.eval.runner import DialogueResult, TurnResult, Variant
from research.eval.stats import Measure, MetricValue, Spread, evaluate, spread


@dataclass
class EvalSummary:
    """Every figure of one variant's run."""

    variant: str
    persona: str
    lens: str
    kind: str  # "agent" or a baseline (research.eval.runner.BASELINES)
    seeds: list[int | None]
    dialogues: int
    turns: int
    metrics: dict[str, MetricValue]
    per_label_f1: dict[str, float | None]  # None: the label is in neither the gold labels nor the predictions
    labels: list[str]
    confusion: list[list[int]]  # rows: gold, columns: perceived (per utterance), in `labels` order
    fallbacks: int
    errors: int
    safety_turns: int
    chain_turns: int
    first_sentence_s: LatencyStats | None
    total_s: LatencyStats | None
    reference_dist1: float | None
    reference_dist2: float | None
    seed_spread: dict[str, Spread] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def value(self, name: str) -> float | None:
        """A metric's point estimate (None: n/a or not measured)."""
        metric = self.metrics.get(name)
        return metric.value if metric is not None else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return asdict(self)


def dialogue_units(results: list[DialogueResult], order: list[str]) -> list[list[TurnResult]]:
    """The resampling units: per dialogue id in `order`, the turns of every seed's run of it."""
    by_id: dict[str, list[TurnResult]] = defaultdict(list)
    for result in results:
        by_id[result.dialogue_id] += result.turns
    return [by_id.get(dialogue_id, []) for dialogue_id in order]


def summarize(
    results: list[DialogueResult],
    variant: Variant,
    measures: list[Measure],
    order: list[str] | None = None,
    draws: np.ndarray | None = None,
) -> EvalSummary:
    """The figures of one variant over its dialogues (every seed's runs); `order` lists the dialogue ids in
    resampling order and `draws` the bootstrap draws over them (research.eval.stats.resample_indices)."""
    order = order if order is not None else list(dict.fromkeys(r.dialogue_id for r in results))
    units = dialogue_units(results, order)
    turns = [t for unit in units for t in unit]
    seeds = sorted({r.seed for r in results}, key=lambda s: (s is None, s or 0))
    metrics = {m.name: evaluate(m, units, draws) for m in measures}
    seed_spread = {}
    if len(seeds) > 1:
        for m in measures:
            per_seed = [evaluate(m, dialogue_units([r for r in results if r.seed == s], order), None) for s in seeds]
            seed_spread[m.name] = spread([v.value for v in per_seed])
    labelled = [t for t in turns if t.gold_user_emotion is not None]
    references = list(dict.fromkeys(t.reference_reply for t in turns if t.reference_reply))
    notes = []
    chain = [t for t in turns if is_chain_turn(t)]
    if not chain and any(t.answered for t in turns):
        notes.append("no chain of empathy here: plan, strategy self-report and validity figures are n/a")
    return EvalSummary(
        variant=variant.key,
        persona=variant.persona,
        lens=variant.lens,
        kind=variant.kind,
        seeds=seeds,
        dialogues=len([u for u in units if u]),
        turns=len(turns),
        metrics=metrics,
        per_label_f1=per_label_f1(turns),
        labels=list(BASIC_EMOTIONS),
        confusion=confusion_matrix(
            [t.gold_user_emotion or "" for t in labelled], [t.perceived.label for t in labelled], BASIC_EMOTIONS
        ),
        fallbacks=sum(t.source == "fallback" for t in turns),
        errors=sum(t.source == "error" for t in turns),
        safety_turns=sum(t.source == "safety" for t in turns),
        chain_turns=len(chain),
        first_sentence_s=latency_stats([t.first_sentence_s for t in turns]),
        total_s=latency_stats([t.total_s for t in turns]),
        reference_dist1=distinct_n(references, 1) if references else None,
        reference_dist2=distinct_n(references, 2) if references else None,
        seed_spread=seed_spread,
        notes=notes,
    )
