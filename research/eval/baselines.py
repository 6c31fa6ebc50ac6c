"""The baselines every report sets beside the agent: each keeps the agent's turn and strips away one part.

- always-neutral: perceives every message as neutral, feels neutral, and says the agent's own neutral line
  (the chain's rule-based fallback for a neutral message). What a metric gives for doing nothing.
- rules-only: the agent's perception, smoothing, safety screen and emotion transition, and the chain's
  rule-based fallback reply for the perceived emotion (prompts/empathy_fallback.txt): no LLM at all.
- no-chain: the agent with the same LLM answering through the plain responder (`empathy.enabled = false`).

All run through the same runner (agent.mind.Mind.turn), so safety turns, history and smoothing are identical.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any, cast

from agent.base import ChatMessage
from agent.empathy.chain import EmpathyChain
from agent.sentences import split_sentences
from core.emotion import NEUTRAL, EmotionState
from research.eval.runner import ALWAYS_NEUTRAL, NO_CHAIN, RULES_ONLY, TextAgent, Variant


class RuleReplies:
    """A responder that says the chain's rule-based fallback line for the user's (perceived) emotion."""

    def __init__(self, lens: str = "cbt") -> None:
        # Only the chain's phrase tables are used; it never calls a model here.
        self._chain = EmpathyChain(cast(Any, None), "rule-based replies", lens=lens)
        self.max_sentences = 0  # the lines are whole as written

    def reply(
        self, user_text: str, user_emotion: EmotionState, agent_emotion: EmotionState, history: list[ChatMessage]
    ) -> Iterator[str]:
        """The fallback line for `user_emotion`, sentence by sentence."""
        return iter(split_sentences(self._chain.fallback_plan(user_emotion, agent_emotion).response))

    def warm_up(self, history: Sequence[ChatMessage] = ()) -> None:
        """Nothing to load or cache: the lines are read when the responder is built."""

    def check_room(
        self,
        user_text: str,
        user_emotion: EmotionState,
        agent_emotion: EmotionState,
        history: list[ChatMessage],
        summary: str = "",
        mismatch: bool = False,
    ) -> None:
        """Never raises: the lines use no model context."""


def _neutral_perceiver(text: str, context: Any = ()) -> EmotionState:
    return NEUTRAL


def _neutral_chooser(user: EmotionState, previous: EmotionState | None, persona: str = "") -> EmotionState:
    return NEUTRAL


def baseline_agent(kind: str, agent: TextAgent, no_chain_responder: Any = None) -> TextAgent:
    """The TextAgent of baseline `kind` built from the agent's parts (safety and history are kept; the LLM's
    running summary only where the baseline has an LLM).

    `no_chain_responder(variant)` builds the plain LLM responder for the no-chain baseline.
    """
    rules = RuleReplies()
    if kind == ALWAYS_NEUTRAL:
        return replace(
            agent,
            perceive=_neutral_perceiver,
            choose_reply_emotion=_neutral_chooser,
            responder_for=lambda variant: rules,
            hints=None,
            memory=None,
        )
    if kind == RULES_ONLY:
        return replace(agent, responder_for=lambda variant: rules, hints=None, memory=None)
    if kind == NO_CHAIN:
        if no_chain_responder is None:
            raise ValueError("the no-chain baseline needs a plain responder for the LLM")
        return replace(agent, responder_for=no_chain_responder, hints=None)
    raise ValueError(f"unknown baseline {kind!r}; choose from {ALWAYS_NEUTRAL}, {RULES_ONLY}, {NO_CHAIN}")


def baseline_variants(kinds: list[str], persona: str, lens: str) -> list[Variant]:
    """The baseline variants for the first evaluated persona (and its lens, which only the no-chain one names)."""
    return [Variant(persona, lens, kind) for kind in kinds]
