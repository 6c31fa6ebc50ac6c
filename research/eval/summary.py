"""From evaluated turns to the report's figures: one `EvalSummary` per variant (definitions: docs/research.md)."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from agent.reply_emotion import is_appropriate
from core.emotion import BASIC_EMOTIONS, PALETTE_VAD, VAD, EmotionState
from research.eval.metrics import (
    LatencyStats,
    confusion_matrix,
    distinct_n,
    f1_per_label,
    latency_stats,
    macro_f1,
    rate,
    strategy_mix,
)
from research.eval.runner import DialogueResult, TurnResult, Variant

CHAIN_SOURCES = frozenset({"model", "fallback", "error"})  # turns the chain of empathy had to answer


@dataclass
class EmotionScores:
    """User-emotion recognition against the gold labels: per utterance, smoothed, and the LLM's own reading."""

    labelled: int
    macro_f1: float | None  # perception of each utterance alone
    accuracy: float | None
    smoothed_macro_f1: float | None  # the smoothed state the agent answers
    model_macro_f1: float | None  # the chain's `user_emotion` field (model plans only)
    per_label_f1: dict[str, float]
    labels: list[str]
    confusion: list[list[int]]  # rows: gold, columns: perceived (per utterance), in `labels` order


@dataclass
class EvalSummary:
    """Every figure of one variant's run."""

    variant: str
    persona: str
    lens: str
    dialogues: int
    turns: int
    emotion: EmotionScores
    reply_emotion_appropriate: float | None  # the reply's emotion, judged for the gold (else perceived) emotion
    face_emotion_appropriate: float | None  # the transition's emotion (face and voice), judged the same way
    model_reply_emotion_appropriate: float | None  # as the model proposed it, before the clamp (model plans)
    reference_vad_distance: float | None  # mean VAD distance of the agent's emotion to the reference reply emotion
    chain_valid: float | None  # share of chain turns answered by a schema-valid model plan
    chain_valid_first_attempt: float | None
    fallbacks: int
    errors: int
    safety_turns: int
    strategy_counts: dict[str, int]
    strategy_mix: dict[str, float]
    dist1: float
    dist2: float
    reference_dist1: float | None
    reference_dist2: float | None
    mean_reply_words: float
    first_sentence_s: LatencyStats | None
    total_s: LatencyStats | None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return asdict(self)


def judged_state(turn: TurnResult) -> EmotionState:
    """The user emotion a reply is judged against: the gold label at full intensity, else the perceived state."""
    if turn.gold_user_emotion is not None:
        return EmotionState.from_label(turn.gold_user_emotion, 1.0)
    return turn.user_emotion


def summarize(results: list[DialogueResult], variant: Variant) -> EvalSummary:
    """The figures of one variant over its dialogues."""
    turns = [t for r in results for t in r.turns]
    answered = [t for t in turns if t.source not in ("safety", "error")]
    chain = [t for t in turns if t.source in CHAIN_SOURCES]
    model = [t for t in chain if t.source == "model" and t.plan is not None]
    references = [t.reference_reply for t in turns if t.reference_reply]
    strategies = [t.plan["strategy"] for t in model if t.plan]
    counts = {name: strategies.count(name) for name in strategy_mix([])}
    with_reference = [t for t in answered if t.reference_reply_emotion]
    notes = []
    if not chain and answered:
        notes.append("the chain of empathy was off (empathy.enabled = false): no plans, strategies or validity")
    return EvalSummary(
        variant=variant.key,
        persona=variant.persona,
        lens=variant.lens,
        dialogues=len(results),
        turns=len(turns),
        emotion=_emotion_scores(turns, model),
        reply_emotion_appropriate=rate(is_appropriate(judged_state(t), t.reply_emotion) for t in answered),
        face_emotion_appropriate=rate(is_appropriate(judged_state(t), t.agent_emotion.label) for t in answered),
        model_reply_emotion_appropriate=rate(
            is_appropriate(t.user_emotion, t.plan["llm_reply_emotion"] or t.plan["reply_emotion"])
            for t in model
            if t.plan
        ),
        reference_vad_distance=_mean(
            [t.agent_emotion.vad.distance(VAD(*PALETTE_VAD[t.reference_reply_emotion or ""])) for t in with_reference]
        ),
        chain_valid=rate(t.source == "model" for t in chain),
        chain_valid_first_attempt=rate(t.source == "model" and t.attempts == 1 for t in chain),
        fallbacks=sum(t.source == "fallback" for t in turns),
        errors=sum(t.source == "error" for t in turns),
        safety_turns=sum(t.source == "safety" for t in turns),
        strategy_counts=counts,
        strategy_mix=strategy_mix(strategies),
        dist1=distinct_n([t.reply for t in turns], 1),
        dist2=distinct_n([t.reply for t in turns], 2),
        reference_dist1=distinct_n(references, 1) if references else None,
        reference_dist2=distinct_n(references, 2) if references else None,
        mean_reply_words=_mean([len(t.reply.split()) for t in turns]) or 0.0,
        first_sentence_s=latency_stats([t.first_sentence_s for t in turns]),
        total_s=latency_stats([t.total_s for t in turns]),
        notes=notes,
    )


def _emotion_scores(turns: list[TurnResult], model: list[TurnResult]) -> EmotionScores:
    labelled = [t for t in turns if t.gold_user_emotion is not None]
    truth = [t.gold_user_emotion or "" for t in labelled]
    perceived = [t.perceived.label for t in labelled]
    labels = list(BASIC_EMOTIONS)
    model_labelled = [t for t in model if t.gold_user_emotion is not None and t.plan]
    return EmotionScores(
        labelled=len(labelled),
        macro_f1=_present_macro_f1(truth, perceived),
        accuracy=rate(t == p for t, p in zip(truth, perceived, strict=True)),
        smoothed_macro_f1=_present_macro_f1(truth, [t.user_emotion.label for t in labelled]),
        model_macro_f1=_present_macro_f1(
            [t.gold_user_emotion or "" for t in model_labelled],
            [(t.plan or {})["user_emotion"] for t in model_labelled],
        ),
        per_label_f1=f1_per_label(truth, perceived, labels) if labelled else {},
        labels=labels,
        confusion=confusion_matrix(truth, perceived, labels),
    )


def _present_macro_f1(truth: list[str], predicted: list[str]) -> float | None:
    """Macro-F1 over the labels that occur in the gold labels or the predictions (absent ones are no evidence)."""
    if not truth:
        return None
    present = [label for label in BASIC_EMOTIONS if label in truth or label in predicted]
    return macro_f1(truth, predicted, present)


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None
