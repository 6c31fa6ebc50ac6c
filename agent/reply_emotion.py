"""The emotion the agent replies with: an empathic target for the user's emotion, reached in bounded steps.

DESIGN §5: meet sadness with calm warmth (compassionate softness when the grief is strong, never joy), share
joy, meet anger and fear with calm and lower arousal, surprise with interest; neutral stays near neutral. The
agent's emotion moves from its previous state toward that target by at most `max_step` in VAD space, so the
face and voice change smoothly across turns; where that smooth path would still show an emotion that is wrong
for the user's state (joy in the face of grief), it jumps to the target instead. The server uses the
personality-weighted transition (agent.transition: temperament pull, W = 1 + kT) on top of these targets.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.emotion import BASIC_EMOTIONS, VAD, EmotionState

# Below this intensity a perceived emotion is treated as neutral: weak text cues are noise.
_MIN_USER_INTENSITY = 0.2
# Grief this strong is met with visible compassion (a soft sadness) rather than plain calm.
_COMPASSION_INTENSITY = 0.5


@dataclass(frozen=True)
class ReplyRule:
    """How to answer one user emotion: the target's label and VAD point, the labels allowed on the way there,
    and ceilings on valence and arousal that clamp the way there (no lingering cheer or agitation at grief)."""

    label: str
    vad: VAD
    allowed: frozenset[str]
    max_valence: float = 1.0
    max_arousal: float = 1.0


def effective_label(user: EmotionState) -> str:
    """The user's label, or "neutral" where the reading is too weak to answer (weak text cues are noise)."""
    return user.label if user.intensity >= _MIN_USER_INTENSITY else "neutral"


def reply_rule(user: EmotionState) -> ReplyRule:
    """How to answer `user`: the empathic target, the labels allowed on the way there, and the ceilings."""
    label = effective_label(user)
    i = user.intensity
    if label == "joy":
        # Share it, a little below their own intensity: the moment is theirs.
        return ReplyRule(
            "joy",
            VAD(*(min(1.0, 0.4 + 0.5 * i) * x for x in VAD.of("joy").as_tuple())),
            frozenset({"joy", "surprise", "neutral"}),
        )
    if label == "sadness":
        # Soft, low arousal; slightly warm for mild sadness, gently sad (compassion) for grief.
        target_label = "sadness" if i >= _COMPASSION_INTENSITY else "neutral"
        return ReplyRule(target_label, VAD(0.15 - 0.45 * i, -0.25, -0.1), frozenset({"neutral", "sadness"}), 0.2, 0.0)
    if label == "anger":
        # Calm and steady: lower arousal, not submissive, not cheerful.
        return ReplyRule("neutral", VAD(0.05, -0.2, 0.15), frozenset({"neutral", "sadness"}), 0.3, 0.1)
    if label == "fear":
        # Calm reassurance: positive, low arousal, a steady (dominant) stance.
        return ReplyRule("neutral", VAD(0.25, -0.2, 0.3), frozenset({"neutral"}), 0.5, 0.1)
    if label == "disgust":
        return ReplyRule("neutral", VAD(0.0, -0.1, 0.1), frozenset({"neutral", "sadness"}), 0.3, 0.1)
    if label == "surprise":
        if user.vad.valence < 0:  # a shock: meet it like fear
            return ReplyRule("neutral", VAD(0.2, -0.1, 0.25), frozenset({"neutral"}), 0.5, 0.2)
        # Interest: the "interested" centre (0.64, 0.51, 0.17), softened.
        return ReplyRule("surprise", VAD(0.45, 0.4, 0.1), frozenset({"surprise", "joy", "neutral"}))
    return ReplyRule("neutral", VAD(0.15, 0.05, 0.05), frozenset(BASIC_EMOTIONS))


def empathic_target(user: EmotionState) -> EmotionState:
    """The emotion that best answers `user`, before any smoothing across turns."""
    rule = reply_rule(user)
    state = EmotionState.from_vad(rule.vad)
    return EmotionState(vad=state.vad, label=rule.label, intensity=state.intensity, mixture=state.mixture)


def choose_reply_emotion(
    user: EmotionState, previous: EmotionState | None = None, max_step: float = 0.6
) -> EmotionState:
    """The agent's emotion for its next reply: from `previous` toward the empathic target by at most `max_step`.

    Rule-based ceilings then clamp valence and arousal for negative user emotions (DESIGN §6).
    The label is always one of `core.emotion.BASIC_EMOTIONS` and one the rules allow for the user's emotion.
    """
    rule = reply_rule(user)
    target = empathic_target(user)
    if previous is None:
        return target
    distance = previous.vad.distance(target.vad)
    if distance <= max_step:
        return target
    fraction = max_step / distance
    stepped = VAD(
        *(p + fraction * (t - p) for p, t in zip(previous.vad.as_tuple(), target.vad.as_tuple(), strict=True))
    )
    # The clamps keep the target inside them, so clamping only moves the point closer to the target.
    stepped = VAD(min(stepped.valence, rule.max_valence), min(stepped.arousal, rule.max_arousal), stepped.dominance)
    state = EmotionState.from_vad(stepped)
    if state.label not in rule.allowed:
        # The smooth path still reads as the wrong emotion (e.g. joy at grief): incongruence is worse than a jump.
        return target
    return state
