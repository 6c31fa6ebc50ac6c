"""Every metric of the report, defined once over evaluated turns (docs/research.md gives each definition).

Each metric is a `stats.Measure`, so every one gets its n and a bootstrap interval the same way. Reply-emotion
fit is judged on what the user reads and sees (the reply's words through the text perceiver, and the agent's
emotion, which drives face and voice) against the emotion the reference reply was written with; the labels the
agent gives itself (the chain's clamped `reply_emotion`, its self-reported `strategy`) are shown only as what they
are: the model's own account, next to the hints its prompt gave it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from agent.empathy.schema import STRATEGIES
from core.emotion import BASIC_EMOTIONS, PALETTE_VAD, VAD
from research.eval.judge import REFERENCE_BASIC, corpus_bleu
from research.eval.metrics import distinct_n_rarefied, ngrams, tokens
from research.eval.runner import TurnResult
from research.eval.stats import Measure


def is_chain_turn(t: TurnResult) -> bool:
    """Whether the chain of empathy had to answer this turn: a model plan, or a fallback or error after the chain
    prompted the model (its plan or its prompt's hints are there). A plain responder's scripted fallback is not."""
    if t.source == "model":
        return True
    return t.source in ("fallback", "error") and (t.plan is not None or t.hints is not None)


_LABEL_INDEX = {label: i for i, label in enumerate(BASIC_EMOTIONS)}

# The rows of the headline table, in order: each shown for every variant and baseline.
HEADLINE: tuple[str, ...] = (
    "user_macro_f1",
    "words_emotion_match",
    "words_vad_distance",
    "face_emotion_match",
    "face_vad_distance",
    "embedding_similarity",
    "rouge_l",
    "bleu",
    "detected_emotional_reaction",
    "detected_interpretation",
    "detected_exploration",
    "dist2",
    "dist2_matched",
    "words_per_reply",
    "chain_valid",
    "turn_s",
)


def rate(name: str, label: str, group: str, flag: Callable[[TurnResult], bool | None], better: str = "") -> Measure:
    """A share of turns: `flag` says True/False, or None for a turn that does not count."""

    def extract(turn: TurnResult) -> np.ndarray | None:
        value = flag(turn)
        return None if value is None else np.array([1.0 if value else 0.0, 1.0])

    return Measure(name, label, group, extract, _ratio, additive=True, fmt="pct", better=better)


def mean(
    name: str, label: str, group: str, value: Callable[[TurnResult], float | None], fmt: str = "num", better: str = ""
) -> Measure:
    """A mean over turns: `value` gives the turn's number, or None for a turn that does not count."""

    def extract(turn: TurnResult) -> np.ndarray | None:
        v = value(turn)
        return None if v is None else np.array([float(v), 1.0])

    return Measure(name, label, group, extract, _ratio, additive=True, fmt=fmt, better=better)


def macro_f1(name: str, label: str, group: str, pair: Callable[[TurnResult], tuple[str, str] | None]) -> Measure:
    """Macro-F1 over the labels present in the gold labels or the predictions of the turns counted (a label
    that never occurs is no evidence either way); `pair` gives (gold, predicted) or None."""
    size = len(BASIC_EMOTIONS)

    def extract(turn: TurnResult) -> np.ndarray | None:
        labels = pair(turn)
        if labels is None or labels[0] not in _LABEL_INDEX or labels[1] not in _LABEL_INDEX:
            return None
        gold, guess = _LABEL_INDEX[labels[0]], _LABEL_INDEX[labels[1]]
        counts = np.zeros(3 * size)  # true positives, false positives, false negatives per label
        if gold == guess:
            counts[gold] = 1
        else:
            counts[size + guess] = 1
            counts[2 * size + gold] = 1
        return counts

    def combine(counts: np.ndarray) -> float | None:
        tp, fp, fn = counts[:size], counts[size : 2 * size], counts[2 * size :]
        present = (tp + fp + fn) > 0
        if not present.any():
            return None
        return float(np.mean((2 * tp / np.maximum(2 * tp + fp + fn, 1e-12))[present]))

    return Measure(name, label, group, extract, combine, additive=True, fmt="num", better="higher")


def per_label_f1(turns: list[TurnResult]) -> dict[str, float | None]:
    """F1 of each basic label for the per-utterance perception; None for a label absent from gold and predictions."""
    pairs = [(t.gold_user_emotion, t.perceived.label) for t in turns if t.gold_user_emotion is not None]
    scores: dict[str, float | None] = {}
    for label in BASIC_EMOTIONS:
        tp = sum(g == label and p == label for g, p in pairs)
        fp = sum(g != label and p == label for g, p in pairs)
        fn = sum(g == label and p != label for g, p in pairs)
        scores[label] = None if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)
    return scores


def build_measures(matched_sizes: dict[int, int] | None = None) -> list[Measure]:
    """Every measure of the report; `matched_sizes` gives, per n, the n-gram count at which the length-matched
    Dist-n is taken (the smallest of the report's variants, so every one can be measured at it)."""
    from sacrebleu.metrics import BLEU

    bleu = BLEU()
    sizes = matched_sizes or {}
    return [
        # How the user's emotion is read (gold: the dialogue's user_emotion).
        macro_f1("user_macro_f1", "user emotion macro-F1 (perceived, per utterance)", "user emotion", _perceived),
        rate("user_accuracy", "user emotion accuracy (per utterance)", "user emotion", _perceived_correct, "higher"),
        macro_f1(
            "user_macro_f1_smoothed",
            "user emotion macro-F1 (smoothed: what the agent answers)",
            "user emotion",
            _smoothed,
        ),
        macro_f1(
            "model_user_macro_f1",
            "user emotion macro-F1, the LLM's plan (after being told the perceived label)",
            "user emotion",
            _model_reading,
        ),
        rate(
            "model_repeats_told_user_emotion",
            "the LLM's user_emotion = the label its prompt gave it",
            "prompt hints",
            _repeats_told,
        ),
        # Reply-emotion fit: what the user reads and sees, against the reference reply's emotion.
        rate(
            "words_emotion_match",
            "reply words' emotion = reference emotion",
            "reply emotion fit",
            _words_match,
            "higher",
        ),
        mean(
            "words_vad_distance",
            "reply words' VAD distance to the reference emotion",
            "reply emotion fit",
            _words_distance,
            better="lower",
        ),
        rate(
            "face_emotion_match", "face/voice emotion = reference emotion", "reply emotion fit", _face_match, "higher"
        ),
        mean(
            "face_vad_distance",
            "face/voice VAD distance to the reference emotion",
            "reply emotion fit",
            _face_distance,
            better="lower",
        ),
        rate(
            "reference_words_match",
            "the perceiver reads the reference reply's own emotion (validity)",
            "reply emotion fit",
            _reference_words_match,
        ),
        rate(
            "model_reply_emotion_is_hint",
            "the LLM's proposed reply emotion = the one its prompt suggested",
            "prompt hints",
            _proposal_is_hint,
        ),
        rate(
            "model_reply_emotion_clamped",
            "the LLM's proposed reply emotion was changed by the clamp",
            "prompt hints",
            _clamped,
        ),
        # Strategies: read from the reply's words; the prompt's hint and the model's self-report beside them.
        *[
            rate(f"detected_{s}", f"{_name(s)}, in the reply's words (detector)", "strategy", _detected(s))
            for s in STRATEGIES
        ],
        *[rate(f"hinted_{s}", f"{_name(s)}, suggested by the prompt", "strategy", _hinted(s)) for s in STRATEGIES],
        *[
            rate(f"self_reported_{s}", f"{_name(s)}, the model's self-report", "strategy", _self_reported(s))
            for s in STRATEGIES
        ],
        rate(
            "model_strategy_is_hint",
            "the model's self-reported strategy = the prompt's suggestion",
            "prompt hints",
            _strategy_is_hint,
        ),
        rate(
            "self_report_confirmed",
            "the self-reported strategy is found in the reply's words",
            "strategy",
            _self_report_confirmed,
            "higher",
        ),
        rate("hint_followed", "the suggested strategy is found in the reply's words", "strategy", _hint_followed),
        # The chain of empathy's output.
        rate("chain_valid", "chain of empathy valid (schema-valid model plan)", "chain", _chain_valid, "higher"),
        rate(
            "chain_valid_first_attempt",
            "chain of empathy valid at the first attempt",
            "chain",
            _first_attempt,
            "higher",
        ),
        # Closeness to the reference reply.
        mean(
            "embedding_similarity",
            "embedding similarity to the reference reply (MiniLM cosine)",
            "reference",
            _judged("embedding_similarity"),
            better="higher",
        ),
        mean("rouge_l", "ROUGE-L F1 to the reference reply", "reference", _judged("rouge_l"), better="higher"),
        Measure(
            "bleu",
            "BLEU to the reference replies (sacrebleu, corpus)",
            "reference",
            _bleu_stats,
            lambda s: corpus_bleu(bleu, s),
            additive=True,
            fmt="bleu",
            better="higher",
        ),
        # Diversity and length.
        Measure("dist1", "Dist-1", "diversity", _grams(1), _distinct, better="higher", distinct_units=True),
        Measure("dist2", "Dist-2", "diversity", _grams(2), _distinct, better="higher", distinct_units=True),
        mean("words_per_reply", "words per reply", "diversity", _reply_words),
        *(
            Measure(
                f"dist{n}_matched",
                f"Dist-{n} at {size} {n}-grams (length-matched)",
                "diversity",
                _grams(n),
                _rarefied(size),
                better="higher",
                distinct_units=True,
            )
            for n, size in sorted(sizes.items())
        ),
        # Latency.
        mean(
            "first_sentence_s",
            "seconds to the first sentence (mean)",
            "latency",
            lambda t: t.first_sentence_s,
            fmt="s",
            better="lower",
        ),
        mean("turn_s", "seconds for the whole turn (mean)", "latency", lambda t: t.total_s, fmt="s", better="lower"),
    ]


def matched_sizes(replies_by_run: list[list[str]], orders: tuple[int, ...] = (1, 2)) -> dict[int, int]:
    """Per n, the smallest n-gram count among the runs' replies (one run: a variant under one seed): the size the
    length-matched Dist-n uses."""
    sizes = {}
    for n in orders:
        counts = [sum(len(ngrams(r, n)) for r in replies) for replies in replies_by_run if replies]
        if counts and min(counts) > 0:
            sizes[n] = min(counts)
    return sizes


# ------------------------------------------------------------------ what each turn contributes


def _ratio(s: np.ndarray) -> float | None:
    return float(s[0] / s[1]) if s[1] else None


def _name(strategy: str) -> str:
    return strategy.replace("_", " ")


def _perceived(t: TurnResult) -> tuple[str, str] | None:
    return (t.gold_user_emotion, t.perceived.label) if t.gold_user_emotion else None


def _perceived_correct(t: TurnResult) -> bool | None:
    return t.perceived.label == t.gold_user_emotion if t.gold_user_emotion else None


def _smoothed(t: TurnResult) -> tuple[str, str] | None:
    return (t.gold_user_emotion, t.user_emotion.label) if t.gold_user_emotion else None


def _model_plan(t: TurnResult) -> dict[str, str] | None:
    """The plan of a turn the model reasoned through in full (a compact or settled plan's emotions and strategy
    are the rules')."""
    return t.plan if t.source == "model" and t.plan and t.plan.get("reasoning", "full") == "full" else None


def _model_reading(t: TurnResult) -> tuple[str, str] | None:
    plan = _model_plan(t)
    return (t.gold_user_emotion, plan["user_emotion"]) if plan and t.gold_user_emotion else None


def _repeats_told(t: TurnResult) -> bool | None:
    plan = _model_plan(t)
    if plan is None or not t.hints or not t.hints.get("told_user_emotion"):
        return None
    return bool(plan["user_emotion"] == t.hints["told_user_emotion"])


def _reference_label(t: TurnResult) -> str | None:
    if not t.answered or not t.reference_reply_emotion:
        return None
    return REFERENCE_BASIC.get(t.reference_reply_emotion)


def _words(t: TurnResult) -> dict[str, Any] | None:
    return (t.judged or {}).get("words")


def _words_match(t: TurnResult) -> bool | None:
    gold, words = _reference_label(t), _words(t)
    return None if gold is None or words is None else bool(words["label"] == gold)


def _distance(vad: dict[str, float], label: str) -> float:
    return VAD(vad["valence"], vad["arousal"], vad["dominance"]).distance(VAD(*PALETTE_VAD[label]))


def _words_distance(t: TurnResult) -> float | None:
    words = _words(t)
    if _reference_label(t) is None or words is None:
        return None
    return _distance(words["vad"], t.reference_reply_emotion or "")


def _face_match(t: TurnResult) -> bool | None:
    gold = _reference_label(t)
    return None if gold is None else t.agent_emotion.label == gold


def _face_distance(t: TurnResult) -> float | None:
    if _reference_label(t) is None:
        return None
    return t.agent_emotion.vad.distance(VAD(*PALETTE_VAD[t.reference_reply_emotion or ""]))


def _reference_words_match(t: TurnResult) -> bool | None:
    read = (t.judged or {}).get("reference_words")
    gold = REFERENCE_BASIC.get(t.reference_reply_emotion or "")
    return None if read is None or gold is None or not t.answered else bool(read["label"] == gold)


def _proposal_is_hint(t: TurnResult) -> bool | None:
    plan = _model_plan(t)
    if plan is None or not t.hints or not t.hints.get("suggested_reply_emotion"):
        return None
    return bool((plan.get("llm_reply_emotion") or plan["reply_emotion"]) == t.hints["suggested_reply_emotion"])


def _clamped(t: TurnResult) -> bool | None:
    plan = _model_plan(t)
    if plan is None or not plan.get("llm_reply_emotion"):
        return None
    return bool(plan["llm_reply_emotion"] != plan["reply_emotion"])


def _detected_set(t: TurnResult) -> list[str] | None:
    if not t.answered or not t.reply.strip() or t.judged is None:
        return None
    return list(t.judged.get("strategies", []))


def _detected(strategy: str) -> Callable[[TurnResult], bool | None]:
    def flag(t: TurnResult) -> bool | None:
        found = _detected_set(t)
        return None if found is None else strategy in found

    return flag


def _hinted(strategy: str) -> Callable[[TurnResult], bool | None]:
    def flag(t: TurnResult) -> bool | None:
        hint = (t.hints or {}).get("suggested_strategy")
        return None if not hint or not t.answered else hint == strategy

    return flag


def _self_reported(strategy: str) -> Callable[[TurnResult], bool | None]:
    def flag(t: TurnResult) -> bool | None:
        plan = _model_plan(t)
        return None if plan is None else plan["strategy"] == strategy

    return flag


def _strategy_is_hint(t: TurnResult) -> bool | None:
    plan, hint = _model_plan(t), (t.hints or {}).get("suggested_strategy")
    return None if plan is None or not hint else plan["strategy"] == hint


def _self_report_confirmed(t: TurnResult) -> bool | None:
    plan, found = _model_plan(t), _detected_set(t)
    return None if plan is None or found is None else plan["strategy"] in found


def _hint_followed(t: TurnResult) -> bool | None:
    hint, found = (t.hints or {}).get("suggested_strategy"), _detected_set(t)
    return None if not hint or found is None else hint in found


def _chain_valid(t: TurnResult) -> bool | None:
    return t.source == "model" if is_chain_turn(t) else None


def _first_attempt(t: TurnResult) -> bool | None:
    return (t.source == "model" and t.attempts == 1) if is_chain_turn(t) else None


def _judged(key: str) -> Callable[[TurnResult], float | None]:
    def value(t: TurnResult) -> float | None:
        return (t.judged or {}).get(key) if t.answered else None

    return value


def _bleu_stats(t: TurnResult) -> np.ndarray | None:
    stats = (t.judged or {}).get("bleu_stats")
    return np.asarray(stats, dtype=np.float64) if stats and t.answered else None


Grams = tuple[int | None, list[tuple[str, ...]]]  # a reply's seed and n-grams


def _grams(n: int) -> Callable[[TurnResult], Grams | None]:
    def extract(t: TurnResult) -> Grams | None:
        return (t.seed, ngrams(t.reply, n)) if t.answered and t.reply.strip() else None

    return extract


def _per_seed(per_turn: list[Grams], score: Callable[[list[tuple[str, ...]]], float | None]) -> float | None:
    """Diversity within each seed's run, averaged over seeds: the same reply in two seeds' runs of a dialogue is
    not repetition within a conversation set."""
    by_seed: dict[int | None, list[tuple[str, ...]]] = {}
    for seed, grams in per_turn:
        by_seed.setdefault(seed, []).extend(grams)
    values = [v for v in (score(grams) for grams in by_seed.values()) if v is not None]
    return sum(values) / len(values) if values else None


def _distinct(per_turn: list[Grams]) -> float | None:
    return _per_seed(per_turn, lambda grams: len(set(grams)) / len(grams) if grams else None)


def _rarefied(size: int) -> Callable[[list[Grams]], float | None]:
    def combine(per_turn: list[Grams]) -> float | None:
        # A resample with fewer n-grams than `size` is measured at its own size (rarefaction cannot extrapolate).
        return _per_seed(per_turn, lambda grams: distinct_n_rarefied(grams, min(size, len(grams))) if grams else None)

    return combine


def _reply_words(t: TurnResult) -> float | None:
    return float(len(tokens(t.reply))) if t.answered else None
