"""Which reply emotions are appropriate for a user emotion, and the clamp applied to the model's choice.

Small models pick odd reply emotions (joy at a funeral). These rules are the check the `reply_emotion`
benchmark scores and the clamp the chain applies: the agent never answers with anger, disgust or fear; it
meets grief, anger and fear with calm or compassion (neutral / sadness), shares joy, and meets a pleasant
surprise with interest or joy. A user emotion below `MIN_INTENSITY` counts as neutral (weak cues are noise).
"""

from __future__ import annotations

from agent.empathy.schema import STRATEGIES
from core.emotion import EmotionState

MIN_INTENSITY = 0.2
_NEVER = frozenset({"anger", "disgust", "fear"})
_ALLOWED: dict[str, frozenset[str]] = {
    "joy": frozenset({"joy", "surprise", "neutral"}),
    "sadness": frozenset({"neutral", "sadness"}),
    "anger": frozenset({"neutral", "sadness"}),
    "fear": frozenset({"neutral", "sadness"}),
    "disgust": frozenset({"neutral", "sadness"}),
    "surprise": frozenset({"surprise", "joy", "neutral"}),
    "neutral": frozenset({"neutral", "joy", "surprise", "sadness"}),
}
_SHOCK = frozenset({"neutral", "sadness", "surprise"})  # a negative surprise: meet it like fear, or share it


def effective_label(user: EmotionState) -> str:
    """The user's emotion as the rules read it: weak emotions count as neutral."""
    return user.label if user.intensity >= MIN_INTENSITY else "neutral"


def allowed_reply_emotions(user: EmotionState) -> frozenset[str]:
    """The reply emotion labels that are appropriate for `user`."""
    label = effective_label(user)
    if label == "surprise" and user.vad.valence < 0:
        return _SHOCK
    return _ALLOWED.get(label, _ALLOWED["neutral"]) - _NEVER


def is_appropriate(user: EmotionState, reply_label: str) -> bool:
    """Whether answering `user` with `reply_label` passes the rules."""
    return reply_label in allowed_reply_emotions(user)


def clamp_reply_emotion(user: EmotionState, proposed: str, chosen: EmotionState) -> str:
    """The model's `proposed` label if appropriate, else the transition model's `chosen` label if that is, else
    the calmest appropriate label (neutral where allowed)."""
    allowed = allowed_reply_emotions(user)
    if proposed in allowed:
        return proposed
    if chosen.label in allowed:
        return chosen.label
    return "neutral" if "neutral" in allowed else sorted(allowed)[0]


def suggest_strategy(user: EmotionState, replies_so_far: int, asked_lately: bool) -> str:
    """A strategy to suggest to the model this turn, so that the mix stays balanced.

    Left alone, a small model sticks to one mechanism (Lee et al.: mostly questions without reasoning; with
    the chain, mostly emotional reactions). Suggest the cycle reaction -> interpretation -> exploration over
    a conversation, starting with a reaction to a strong emotion; a neutral message invites exploration; never
    suggest a question right after two questions.
    """
    neutral = effective_label(user) == "neutral"
    choice = "exploration" if neutral else STRATEGIES[replies_so_far % len(STRATEGIES)]
    if asked_lately and choice == "exploration":
        choice = "interpretation"
    return choice
