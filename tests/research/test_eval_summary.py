"""Per-variant figures from hand-built turns, with hand-computed expectations."""

from __future__ import annotations

import math

import pytest

from core.emotion import EmotionState
from research.eval.runner import DialogueResult, TurnResult, Variant
from research.eval.summary import judged_state, summarize

NEUTRAL = EmotionState.from_label("neutral", 0.0)


def turn(
    source: str,
    perceived: str,
    gold: str | None,
    plan: dict[str, str] | None = None,
    reply: str = "I hear you.",
    attempts: int = 1,
    reference_emotion: str | None = None,
) -> TurnResult:
    state = EmotionState.from_label(perceived, 0.6)
    return TurnResult(
        index=0,
        user_text="...",
        perceived=state,
        user_emotion=state,
        agent_emotion=NEUTRAL,
        reply=reply,
        source=source,
        first_sentence_s=1.0,
        total_s=2.0,
        plan=plan,
        attempts=attempts,
        gold_user_emotion=gold,
        reference_reply="A reference reply." if reference_emotion else None,
        reference_reply_emotion=reference_emotion,
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


def test_summary_figures():
    turns = [
        turn(
            "model",
            "sadness",
            "sadness",
            plan("emotional_reaction", "sadness", "neutral", proposed="joy"),
            reply="I am so sorry",
            reference_emotion="calm",
        ),
        turn("model", "neutral", "joy", plan("exploration", "joy", "sadness"), reply="I am here", attempts=2),
        turn("safety", "sadness", "sadness", reply="Please call someone"),
        turn("fallback", "neutral", None, plan("exploration", "neutral", "neutral", source="fallback"), attempts=2),
    ]
    s = summarize([DialogueResult("d", "", Variant("Mira", "cbt"), turns)], Variant("Mira", "cbt"))
    assert (s.variant, s.dialogues, s.turns) == ("mira-cbt", 1, 4)
    # Gold sadness, joy, sadness vs perceived sadness, neutral, sadness: F1 sadness 1, joy 0, neutral 0.
    assert s.emotion.labelled == 3
    assert s.emotion.macro_f1 == pytest.approx(1 / 3) and s.emotion.accuracy == pytest.approx(2 / 3)
    assert s.emotion.model_macro_f1 == 1.0  # the model plans read sadness and joy, as the gold labels say
    labels = s.emotion.labels
    assert s.emotion.confusion[labels.index("sadness")][labels.index("sadness")] == 2
    assert s.emotion.confusion[labels.index("joy")][labels.index("neutral")] == 1
    assert sum(map(sum, s.emotion.confusion)) == 3
    # Appropriateness (safety turn excluded): neutral for sadness ok, sadness for joy not, neutral for neutral ok.
    assert s.reply_emotion_appropriate == pytest.approx(2 / 3)
    assert s.face_emotion_appropriate == 1.0
    # As proposed, judged for the perceived state: joy at sadness no; sadness (no proposal, kept) at neutral yes.
    assert s.model_reply_emotion_appropriate == 0.5
    assert s.chain_valid == pytest.approx(2 / 3) and s.chain_valid_first_attempt == pytest.approx(1 / 3)
    assert (s.fallbacks, s.errors, s.safety_turns) == (1, 0, 1)
    assert s.strategy_mix == {"emotional_reaction": 0.5, "interpretation": 0.0, "exploration": 0.5}
    assert s.strategy_counts == {"emotional_reaction": 1, "interpretation": 0, "exploration": 1}
    assert s.reference_vad_distance == pytest.approx(math.dist((0, 0, 0), (0.79, -0.01, 0.33)))
    # Replies: "i am so sorry" "i am here" "please call someone" "i hear you" -> 13 words, 10 distinct.
    assert s.dist1 == pytest.approx(10 / 13)
    assert s.reference_dist1 == pytest.approx(1.0)
    assert s.total_s is not None and s.total_s.median == 2.0


def test_replies_are_judged_for_the_gold_emotion_when_there_is_one():
    assert judged_state(turn("model", "neutral", "anger")).label == "anger"
    assert judged_state(turn("model", "fear", None)).label == "fear"


def test_an_empty_run_has_no_rates():
    s = summarize([], Variant("Kai", "reality"))
    assert s.turns == 0 and s.reply_emotion_appropriate is None and s.chain_valid is None
    assert s.emotion.macro_f1 is None and s.total_s is None and s.dist1 == 0.0
