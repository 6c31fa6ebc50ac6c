"""Which empathy strategy the chain suggests to the model this turn (EPITOME's three mechanisms)."""

from __future__ import annotations

from agent.empathy.schema import STRATEGIES
from agent.reply_emotion import effective_label
from core.emotion import EmotionState


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
