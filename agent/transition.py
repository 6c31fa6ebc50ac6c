"""The agent's own emotion from turn to turn, shaped by its personality (Wen et al. 2021).

    E[t] = clip( E[t-1] + W ⊙ ΔE + λ (T - E[t-1]), -1, 1 ),   W = 1 + k·T

T is the persona's resting temperament (agent.personality), ΔE a bounded shift toward the empathic target for the
user's emotion (the one rule table, agent.reply_emotion: meet grief with calm warmth, share joy, meet anger and fear
with calm), and
λ a steady pull back toward temperament. When the user shows no clear emotion the target *is* the temperament:
with nothing to answer, the agent settles back into itself. W lets a persona's nature colour how far it moves:
a high-arousal (neurotic, agreeable) persona moves further in arousal, a pleasant one further in valence.
The reply rules' ceilings then clamp valence and arousal, and where the result would still read as an emotion
the rules forbid (joy at grief) the agent jumps to the target instead: incongruence is worse than a jump.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from agent.reply_emotion import allowed_reply_emotions, effective_label, empathic_target, reply_rule
from core.emotion import VAD, EmotionState

# Within this VAD distance of its empathic target the agent has arrived there and shows the target's label.
ARRIVED = 0.1


@dataclass(frozen=True)
class TransitionSettings:
    """k: personality weight in W = 1 + k·T; pull: λ; max_shift: the largest |ΔE| per turn in VAD space."""

    k: float = 0.5
    pull: float = 0.1
    max_shift: float = 0.6  # big enough to share joy within one turn

    def __post_init__(self) -> None:
        if not 0.0 <= self.pull <= 1.0:
            raise ValueError(f"pull (lambda) must be in [0, 1], got {self.pull}")
        if self.max_shift <= 0.0 or self.k < 0.0:
            raise ValueError("max_shift must be positive and k non-negative")


def resting_state(temperament: VAD) -> EmotionState:
    """The agent at rest: its temperament as an emotion state (the start of every conversation)."""
    return EmotionState.from_vad(temperament)


def transition(
    previous: EmotionState | None,
    user: EmotionState,
    temperament: VAD,
    settings: TransitionSettings = TransitionSettings(),
) -> EmotionState:
    """The agent's emotion for its next reply, from its previous one (None: at rest) and the user's emotion."""
    prev = (previous.vad if previous is not None else temperament).as_tuple()
    t = temperament.as_tuple()
    quiet = effective_label(user) == "neutral"
    rule = reply_rule(user)
    target_state = resting_state(temperament) if quiet else empathic_target(user)
    target = target_state.vad.as_tuple()

    delta = [g - p for g, p in zip(target, prev, strict=True)]
    size = math.hypot(*delta)
    if size > settings.max_shift:
        delta = [d * settings.max_shift / size for d in delta]
    weight = [1.0 + settings.k * x for x in t]
    moved = VAD(
        *(p + w * d + settings.pull * (tx - p) for p, w, d, tx in zip(prev, weight, delta, t, strict=True))
    ).clipped()
    if quiet:
        return EmotionState.from_vad(moved)
    moved = VAD(min(moved.valence, rule.max_valence), min(moved.arousal, rule.max_arousal), moved.dominance)
    state = EmotionState.from_vad(moved)
    if state.label not in allowed_reply_emotions(user):
        return target_state
    if moved.distance(target_state.vad) <= ARRIVED:
        # Arrived at the target: show the rule's label. Some targets are soft points whose nearest category
        # centre is neutral (compassion for grief is a gentle sadness, not the sadness centre).
        return EmotionState(vad=state.vad, label=target_state.label, intensity=state.intensity, mixture=state.mixture)
    return state


@dataclass(frozen=True)
class PersonaTransition:
    """The reply-emotion chooser a server uses: `transition` with the temperament of each session's persona.

    An unknown persona name (a client may send any) falls back to `default`, so a typo never breaks a turn.
    """

    temperaments: dict[str, VAD]  # lower-cased persona key or name -> temperament
    default: VAD
    settings: TransitionSettings = TransitionSettings()

    def __call__(self, user: EmotionState, previous: EmotionState | None, persona: str = "") -> EmotionState:
        temperament = self.temperaments.get(persona.strip().lower(), self.default)
        return transition(previous, user, temperament, self.settings)
