"""Per-variant figures from hand-built turns, with hand-computed expectations."""

from __future__ import annotations

import math

import pytest

from core.emotion import PALETTE_VAD, EmotionState
from research.eval.measures import build_measures
from research.eval.runner import DialogueResult, TurnResult, Variant
from research.eval.stats import resample_indices
from research.eval.summary import EvalSummary, summarize

NEUTRAL = EmotionState.from_label("neutral", 0.0)
MIRA = Variant("Mira", "cbt")


def words(label: str) -> dict[str, object]:
    return EmotionState.from_label(label, 0.8).to_dict()


def turn(
    source: str,
    perceived: str,
    gold: str | None,
    plan: dict[str, str] | None = None,
    reply: str = "I hear you.",
    attempts: int = 1,
    reference_emotion: str | None = None,
    agent: EmotionState = NEUTRAL,
    read_as: str | None = None,
    strategies: tuple[str, ...] = (),
    hints: dict[str, object] | None = None,
    seed: int | None = None,
) -> TurnResult:
    state = EmotionState.from_label(perceived, 0.6)
    return TurnResult(
        index=0,
        user_text="...",
        perceived=state,
        user_emotion=state,
        agent_emotion=agent,
        reply=reply,
        source=source,
        first_sentence_s=1.0,
        total_s=2.0,
        plan=plan,
        attempts=attempts,
        gold_user_emotion=gold,
        reference_reply="A reference reply." if reference_emotion else None,
        reference_reply_emotion=reference_emotion,
        hints=hints,
        judged={"words": words(read_as) if read_as else None, "strategies": list(strategies)},
        seed=seed,
    )


def plan(strategy: str, user: str, reply: str, proposed: str = "", source: str = "model") -> dict[str, str]:
    return {
        "event": "e",
        "user_emotion": user,
        "cause": "c",
        "strategy": strategy,
        "reply_emotion": reply,
        "response": "r",
        "source": source,
        "llm_reply_emotion": proposed,
    }


def hints(user: str, reply: str, strategy: str) -> dict[str, object]:
    return {"told_user_emotion": user, "suggested_reply_emotion": reply, "suggested_strategy": strategy}


def summary(turns: list[TurnResult], resamples: int = 0) -> EvalSummary:
    draws = resample_indices(1, resamples, 0) if resamples else None
    return summarize([DialogueResult("d", "", MIRA, turns)], MIRA, build_measures(), ["d"], draws)


def test_user_emotion_chain_and_counts():
    turns = [
        turn("model", "sadness", "sadness", plan("emotional_reaction", "sadness", "neutral", proposed="joy")),
        turn("model", "neutral", "joy", plan("exploration", "joy", "sadness"), reply="I am here", attempts=2),
        turn("safety", "sadness", "sadness", reply="Please call someone"),
        turn("fallback", "neutral", None, plan("exploration", "neutral", "neutral", source="fallback"), attempts=2),
    ]
    s = summary(turns)
    assert (s.variant, s.dialogues, s.turns) == ("mira-cbt", 1, 4)
    # Gold sadness, joy, sadness vs perceived sadness, neutral, sadness: F1 sadness 1, joy 0, neutral 0.
    assert s.metrics["user_macro_f1"].value == pytest.approx(1 / 3) and s.metrics["user_macro_f1"].n == 3
    assert s.value("user_accuracy") == pytest.approx(2 / 3)
    assert s.value("model_user_macro_f1") == 1.0  # the model plans read sadness and joy, as the gold labels say
    assert s.confusion[s.labels.index("sadness")][s.labels.index("sadness")] == 2
    assert s.confusion[s.labels.index("joy")][s.labels.index("neutral")] == 1
    # Labels in neither the gold labels nor the predictions have no F1 at all (not 0.00).
    assert s.per_label_f1["sadness"] == 1.0 and s.per_label_f1["joy"] == 0.0 and s.per_label_f1["anger"] is None
    assert s.value("chain_valid") == pytest.approx(2 / 3) and s.value("chain_valid_first_attempt") == pytest.approx(
        1 / 3
    )
    assert (s.fallbacks, s.errors, s.safety_turns, s.chain_turns) == (1, 0, 1, 3)
    # The model's self-report: one reaction, one exploration, over the two model plans.
    assert s.value("self_reported_emotional_reaction") == 0.5 and s.value("self_reported_interpretation") == 0.0
    # The clamp changed joy to neutral in the one plan that recorded a proposal.
    assert s.value("model_reply_emotion_clamped") == 1.0 and s.metrics["model_reply_emotion_clamped"].n == 1
    assert s.total_s is not None and s.total_s.median == 2.0


def test_compact_and_settled_plans_count_as_valid_but_not_as_the_models_own_reading():
    compact = {**plan("exploration", "neutral", "neutral"), "cause": "", "reasoning": "compact"}
    settled = {**plan("exploration", "fear", "fear"), "reasoning": "settled"}
    turns = [
        turn("model", "sadness", "sadness", plan("emotional_reaction", "sadness", "neutral")),
        turn("model", "neutral", "neutral", compact),
        turn("model", "fear", "fear", settled),
    ]
    s = summary(turns)
    assert s.value("chain_valid") == 1.0  # all three were answered by the model
    # Their labels and strategies are the rules', not the model's self-report: only the full plan counts.
    assert s.metrics["self_reported_emotional_reaction"].n == 1 and s.value("self_reported_exploration") == 0.0
    assert s.metrics["model_user_macro_f1"].n == 1


def test_reply_emotion_fit_judges_the_words_and_the_face_never_the_clamped_label():
    calm = EmotionState.from_vad(EmotionState.from_label("joy", 0.5).vad)
    turns = [
        # The plan says "neutral" (after the clamp), but the words read as sadness: the words do not fit "calm".
        turn(
            "model",
            "sadness",
            "sadness",
            plan("interpretation", "sadness", "neutral"),
            reference_emotion="calm",
            read_as="sadness",
            agent=NEUTRAL,
        ),
        # Words read neutral: calm maps to neutral, a match; the face shows joy: no match.
        turn(
            "model",
            "joy",
            "joy",
            plan("emotional_reaction", "joy", "joy"),
            reference_emotion="calm",
            read_as="neutral",
            agent=calm,
        ),
        turn("safety", "sadness", "sadness", reference_emotion="calm", read_as="neutral"),  # not counted
    ]
    s = summary(turns)
    assert s.value("words_emotion_match") == 0.5 and s.metrics["words_emotion_match"].n == 2
    assert s.value("face_emotion_match") == 0.5
    face = [NEUTRAL.vad.as_tuple(), calm.vad.as_tuple()]
    mean_face = sum(math.dist(v, PALETTE_VAD["calm"]) for v in face) / 2
    assert s.value("face_vad_distance") == pytest.approx(mean_face)


def test_an_always_neutral_reply_no_longer_scores_full_marks():
    # The old rule check passed "neutral" for every user emotion; judged against the reference emotion it does not.
    turns = [
        turn("plain", "neutral", "joy", reference_emotion="joy", read_as="neutral"),
        turn("plain", "neutral", "sadness", reference_emotion="sadness", read_as="neutral"),
        turn("plain", "neutral", "neutral", reference_emotion="calm", read_as="neutral"),
    ]
    s = summary(turns)
    assert s.value("words_emotion_match") == pytest.approx(1 / 3)
    assert s.value("face_emotion_match") == pytest.approx(1 / 3)


def test_strategies_three_ways_and_the_hints():
    turns = [
        turn(
            "model",
            "sadness",
            "sadness",
            plan("exploration", "sadness", "neutral", proposed="neutral"),
            reply="I'm so sorry.",
            strategies=("emotional_reaction",),
            hints=hints("sadness", "neutral", "exploration"),
        ),
        turn(
            "model",
            "joy",
            "joy",
            plan("interpretation", "sadness", "joy", proposed="joy"),
            reply="What happened?",
            strategies=("exploration",),
            hints=hints("joy", "joy", "exploration"),
        ),
    ]
    s = summary(turns)
    assert s.value("detected_exploration") == 0.5 and s.value("detected_emotional_reaction") == 0.5
    assert s.value("hinted_exploration") == 1.0
    assert s.value("self_reported_exploration") == 0.5 and s.value("self_reported_interpretation") == 0.5
    assert s.value("model_strategy_is_hint") == 0.5
    assert s.value("self_report_confirmed") == 0.0  # neither self-report shows in the words
    assert s.value("hint_followed") == 0.5
    assert s.value("model_repeats_told_user_emotion") == 0.5  # sadness told and repeated; joy told, sadness said
    assert s.value("model_reply_emotion_is_hint") == 1.0


def test_without_the_chain_plan_figures_are_na_not_zero():
    s = summary([turn("plain", "sadness", "sadness", reply="I am sorry.", strategies=("emotional_reaction",))])
    for name in ("chain_valid", "self_reported_exploration", "hinted_exploration", "model_user_macro_f1"):
        assert s.value(name) is None and s.metrics[name].n == 0, name
    assert s.value("detected_emotional_reaction") == 1.0
    assert any("no chain of empathy" in note for note in s.notes)


def test_diversity_is_measured_within_each_seed():
    # The same two replies in two seeds' runs: within a seed nothing repeats, so Dist-1 stays 1.0.
    turns = [turn("plain", "joy", None, reply=r, seed=s) for s in (7, 8) for r in ("a b", "c d")]
    s = summary(turns)
    assert s.value("dist1") == 1.0 and s.value("words_per_reply") == 2.0


def test_intervals_and_n_come_with_every_metric():
    turns = [turn("plain", "sadness", "sadness", reference_emotion="sadness", read_as=r) for r in ("sadness", "joy")]
    s = summary(turns, resamples=50)
    metric = s.metrics["words_emotion_match"]
    # One dialogue: every resample is that dialogue, so the interval is the point.
    assert (metric.value, metric.low, metric.high, metric.n, metric.dialogues) == (0.5, 0.5, 0.5, 2, 1)
    assert metric.label and metric.fmt == "pct"


def test_an_empty_run_has_no_rates():
    s = summarize([], Variant("Kai", "reality"), build_measures())
    assert s.turns == 0 and s.value("words_emotion_match") is None and s.value("chain_valid") is None
    assert s.value("user_macro_f1") is None and s.total_s is None and s.value("dist1") is None


def test_a_plain_responders_scripted_fallback_is_not_a_chain_turn():
    # The plain responder may replace a reply with a scripted line (source "fallback", no plan): no chain ran.
    s = summary([turn("plain", "joy", "joy"), turn("fallback", "sadness", "sadness")])
    assert s.value("chain_valid") is None and s.chain_turns == 0
    # An error or a scripted fallback after the chain prompted the model (its hints were recorded) is a chain turn
    # that failed.
    for source in ("error", "fallback"):
        failed = turn(source, "joy", "joy", hints=hints("joy", "joy", "exploration"))
        ok = turn("model", "joy", "joy", plan("exploration", "joy", "joy"))
        assert summary([failed, ok]).value("chain_valid") == 0.5
