"""How the agent may feel in reply to the user: one table of reply rules, read by every path.

For each user emotion the table gives the empathic target (its label and VAD point), the reply labels that are
appropriate, and ceilings on valence and arousal: meet grief with calm warmth (a visible, soft sadness when the
grief is strong, never joy), share joy, meet anger, fear and disgust with calm and lower arousal, a pleasant
surprise with interest, a shock like fear. The agent never answers with anger, disgust or fear. A user emotion
below `MIN_INTENSITY` counts as neutral (weak text cues are noise).

Who reads it: `agent.transition` moves the agent's own emotion (face and voice) toward `empathic_target` under the
ceilings and falls back to the target when the result would be a forbidden label; `agent.empathy.chain` clamps the
reply emotion the model proposes with `clamp_reply_emotion`; research and benchmarks judge replies with
`is_appropriate`. So the rule a reply is generated under and the rule it is judged by are the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.emotion import VAD, EmotionState

# Below this intensity a perceived emotion is treated as neutral: weak text cues are noise.
MIN_INTENSITY = 0.2
# Grief this strong is met with visible compassion (a soft sadness) rather than plain calm.
COMPASSION_INTENSITY = 0.5
# The agent never shows these to a user, whatever the user feels.
NEVER = frozenset({"anger", "disgust", "fear"})

_CALM = frozenset({"neutral", "sadness"})  # calm, or compassion
_SHARE = frozenset({"joy", "surprise", "neutral"})
_OPEN = frozenset({"neutral", "joy", "surprise", "sadness"})  # nothing to answer: anything but the never-labels


@dataclass(frozen=True)
class ReplyRule:
    """How to answer one user emotion: the target's label and VAD point, the labels allowed for the reply,
    and ceilings on valence and arousal (no lingering cheer or agitation at grief)."""

    label: str
    vad: VAD
    allowed: frozenset[str]
    max_valence: float = 1.0
    max_arousal: float = 1.0


def effective_label(user: EmotionState) -> str:
    """The user's emotion as the rules read it: the label, or "neutral" where the reading is too weak to answer."""
    return user.label if user.intensity >= MIN_INTENSITY else "neutral"


def reply_rule(user: EmotionState) -> ReplyRule:
    """The row of the table for `user`: the empathic target, the allowed reply labels and the ceilings."""
    label = effective_label(user)
    i = user.intensity
    if label == "joy":
        # Share it, a little below their own intensity: the moment is theirs.
        return ReplyRule("joy", VAD(*(min(1.0, 0.4 + 0.5 * i) * x for x in VAD.of("joy").as_tuple())), _SHARE)
    if label == "sadness":
        # Soft, low arousal; slightly warm for mild sadness, gently sad (compassion) for grief.
        target = "sadness" if i >= COMPASSION_INTENSITY else "neutral"
        return ReplyRule(target, VAD(0.15 - 0.45 * i, -0.25, -0.1), _CALM, 0.2, 0.0)
    if label == "anger":
        # Calm and steady: lower arousal, not submissive, not cheerful.
        return ReplyRule("neutral", VAD(0.05, -0.2, 0.15), _CALM, 0.3, 0.1)
    if label == "fear":
        # Calm reassurance: positive, low arousal, a steady (dominant) stance; or compassion.
        return ReplyRule("neutral", VAD(0.25, -0.2, 0.3), _CALM, 0.5, 0.1)
    if label == "disgust":
        return ReplyRule("neutral", VAD(0.0, -0.1, 0.1), _CALM, 0.3, 0.1)
    if label == "surprise":
        if user.vad.valence < 0:  # a shock: meet it like fear, or share the surprise; never with joy
            return ReplyRule("neutral", VAD(0.2, -0.1, 0.25), _CALM | {"surprise"}, 0.5, 0.2)
        # Interest: the "interested" centre (0.64, 0.51, 0.17), softened.
        return ReplyRule("surprise", VAD(0.45, 0.4, 0.1), _SHARE)
    return ReplyRule("neutral", VAD(0.15, 0.05, 0.05), _OPEN)


def allowed_reply_emotions(user: EmotionState) -> frozenset[str]:
    """The reply emotion labels that are appropriate for `user` (never anger, disgust or fear)."""
    return reply_rule(user).allowed - NEVER


def is_appropriate(user: EmotionState, reply_label: str) -> bool:
    """Whether answering `user` with `reply_label` passes the rules."""
    return reply_label in allowed_reply_emotions(user)


def empathic_target(user: EmotionState) -> EmotionState:
    """The emotion that best answers `user`, before the persona's dynamics (agent.transition) move toward it."""
    rule = reply_rule(user)
    state = EmotionState.from_vad(rule.vad)
    return EmotionState(vad=state.vad, label=rule.label, intensity=state.intensity, mixture=state.mixture)


def clamp_reply_emotion(user: EmotionState, proposed: str, chosen: EmotionState) -> str:
    """The model's `proposed` label if appropriate, else the agent's `chosen` emotion's label if that is, else
    the calmest appropriate label (neutral where allowed)."""
    allowed = allowed_reply_emotions(user)
    if proposed in allowed:
        return proposed
    if chosen.label in allowed:
        return chosen.label
    return "neutral" if "neutral" in allowed else sorted(allowed)[0]
