"""Run the agent's mind in text mode over scripted dialogues, turn by turn, as a server session would.

Each turn is `agent.mind.Mind.turn`, the same text turn the server runs before it adds voice and face: perceive the
user's words with their previous utterances in view, smooth the reading across the dialogue, screen for crises
(scripted reply), choose the agent's emotion with the persona's transition, then answer through the persona's
responder (the chain of empathy, or the plain responder) with the dialogue so far as history. What is measured is
what the agent perceives, feels, reasons and says, and how long that takes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from agent.acknowledgement import Acknowledger
from agent.base import Perceiver, Planner, ReplyEmotionChooser, Responder, SafetyCheck, Summarizer
from agent.empathy.schema import EmpathyPlan
from agent.mind import Conversation, Mind
from core.emotion import EmotionState
from research.dialogues import Dialogue
from research.eval.hints import HintRecorder

AGENT = "agent"
# The baselines every report sets beside the agent (docs/research.md): each strips away one part of it.
ALWAYS_NEUTRAL = "always-neutral"  # perceives nothing, feels neutral, says the neutral fallback line
RULES_ONLY = "rules-only"  # perception, transition and the rule-based fallback replies: no LLM at all
NO_CHAIN = "no-chain"  # the same LLM through the plain responder: no chain of empathy
BASELINES: tuple[str, ...] = (ALWAYS_NEUTRAL, RULES_ONLY, NO_CHAIN)
DETERMINISTIC = frozenset({ALWAYS_NEUTRAL, RULES_ONLY})  # no LLM: one run serves every seed


@dataclass(frozen=True)
class Variant:
    """One configuration to evaluate: a persona (its display name), a therapy lens, and what runs: the agent
    itself or one of the BASELINES."""

    persona: str
    lens: str
    kind: str = AGENT

    @property
    def key(self) -> str:
        """A short name for tables and folders, e.g. "mira-cbt", "mira-no-chain", "always-neutral"."""
        if self.kind == AGENT:
            return f"{self.persona.lower()}-{self.lens}"
        if self.kind == NO_CHAIN:
            return f"{self.persona.lower()}-{NO_CHAIN}"
        return self.kind

    @property
    def is_baseline(self) -> bool:
        return self.kind != AGENT


@dataclass
class TextAgent:
    """What a text turn needs; built once and shared by every variant (engines load once).

    `responder_for` returns the responder of a variant (the chain with the persona's prompt and the lens);
    it should cache, so each lens keeps its prompt prefix across dialogues.
    """

    perceive: Perceiver
    choose_reply_emotion: ReplyEmotionChooser
    responder_for: Callable[[Variant], Responder | Planner]
    safety: SafetyCheck | None = None
    history_turns: int = 8  # as the server: the last N turns are the model's context
    memory: Summarizer | None = None  # as the server: a running summary of the turns older than that
    acknowledger: Acknowledger | None = None  # as the server: the first reaction before the chain's words
    hints: HintRecorder | None = None  # the model wrapper that reads each chain prompt's hints (eval.hints)
    # The same LLM through the plain responder (no chain of empathy), for the no-chain baseline.
    plain_responder_for: Callable[[Variant], Responder] | None = None

    @property
    def mind(self) -> Mind:
        """The one text turn (agent.mind) over these parts."""
        return Mind(
            self.perceive, self.choose_reply_emotion, self.safety, self.history_turns, acknowledge=self.acknowledger
        )


@dataclass
class TurnResult:
    """One evaluated turn: the script's labels, what the agent perceived, felt, planned and said, and timings."""

    index: int
    user_text: str
    perceived: EmotionState  # this utterance alone
    user_emotion: EmotionState  # smoothed across the dialogue (what the agent answers)
    agent_emotion: EmotionState  # the transition's emotion (face and voice)
    reply: str
    source: str  # "model" | "fallback" (chain of empathy) | "safety" | "plain" (no chain) | "error"
    first_sentence_s: float
    total_s: float
    plan: dict[str, str] | None = None  # the chain-of-empathy plan (EmpathyPlan.to_dict())
    attempts: int = 0  # model calls the chain needed (2: the first output broke the schema)
    error: str = ""
    gold_user_emotion: str | None = None
    reference_reply: str | None = None
    reference_reply_emotion: str | None = None
    reference_strategy: str | None = None  # a dataset's own strategy label of the reference reply (ESConv)
    hints: dict[str, Any] | None = None  # what the chain's prompt suggested (eval.hints.PromptHints.to_dict())
    judged: dict[str, Any] | None = None  # what the user reads and sees, judged afterwards (eval.judge)
    seed: int | None = None  # the LLM seed of the run (None: a baseline without an LLM)

    @property
    def reply_emotion(self) -> str:
        """The label the reply was planned with: the chain's (clamped) reply emotion, else the agent's.

        A label the agent gave itself: reports judge the reply's words and face instead (eval.judge)."""
        return self.plan["reply_emotion"] if self.plan else self.agent_emotion.label

    @property
    def answered(self) -> bool:
        """Whether the agent itself answered (not the safety script, not a failed model)."""
        return self.source not in ("safety", "error")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (emotions as core.emotion.EmotionState.to_dict())."""
        return {
            "index": self.index,
            "user_text": self.user_text,
            "gold_user_emotion": self.gold_user_emotion,
            "perceived": self.perceived.to_dict(),
            "user_emotion": self.user_emotion.to_dict(),
            "agent_emotion": self.agent_emotion.to_dict(),
            "reply": self.reply,
            "reply_emotion": self.reply_emotion,
            "source": self.source,
            "plan": self.plan,
            "attempts": self.attempts,
            "error": self.error,
            "first_sentence_s": round(self.first_sentence_s, 3),
            "total_s": round(self.total_s, 3),
            "reference_reply": self.reference_reply,
            "reference_reply_emotion": self.reference_reply_emotion,
            "reference_strategy": self.reference_strategy,
            "hints": self.hints,
            "judged": self.judged,
        }


@dataclass
class DialogueResult:
    """Every turn of one dialogue under one variant."""

    dialogue_id: str
    topic: str
    variant: Variant
    turns: list[TurnResult] = field(default_factory=list)
    seed: int | None = None  # the LLM seed of this run (None: a baseline without an LLM)
    situation: str = ""  # the dataset's situation or prompt, when it has one (EmpatheticDialogues, ESConv)
    meta: dict[str, Any] = field(default_factory=dict)  # the dataset's other fields, kept as they were

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "id": self.dialogue_id,
            "topic": self.topic,
            "seed": self.seed,
            "situation": self.situation,
            "meta": self.meta,
            "turns": [t.to_dict() for t in self.turns],
        }


def run_dialogue(
    agent: TextAgent, dialogue: Dialogue, variant: Variant, max_turns: int = 0, seed: int | None = None
) -> DialogueResult:
    """Play `dialogue`'s user turns (the first `max_turns`; 0: all) against the agent as `variant`."""
    responder = agent.responder_for(variant)
    mind = agent.mind
    result = DialogueResult(
        dialogue.id, dialogue.topic, variant, seed=seed, situation=dialogue.situation, meta=dict(dialogue.meta)
    )
    if agent.hints is not None:
        agent.hints.take()  # nothing from an earlier call (the warm-up) counts as this dialogue's hints
    conversation = Conversation(persona=variant.persona, memory=agent.memory, window=agent.history_turns)
    turns = dialogue.turns[:max_turns] if max_turns > 0 else dialogue.turns
    for index, spec in enumerate(turns):
        turn = mind.turn(responder, spec.user, conversation.context())
        hints = agent.hints.take() if agent.hints is not None else None
        conversation.add(spec.user, turn)
        plan = turn.plan if isinstance(turn.plan, EmpathyPlan) else None  # the chain's reasoning, when it ran
        result.turns.append(
            TurnResult(
                index=index,
                user_text=spec.user,
                perceived=turn.appraisal.perceived,
                user_emotion=turn.appraisal.user,
                agent_emotion=turn.appraisal.agent,
                reply=turn.reply,
                source=turn.source,
                first_sentence_s=turn.first_sentence_s,
                total_s=turn.total_s,
                plan=plan.to_dict() if plan is not None else None,
                attempts=turn.attempts,
                error=turn.error,
                gold_user_emotion=spec.user_emotion,
                reference_reply=spec.reply,
                reference_reply_emotion=spec.reply_emotion,
                reference_strategy=spec.strategy,
                hints=hints.to_dict() if hints is not None else None,
                seed=seed,
            )
        )
        if agent.hints is not None:
            agent.hints.take()  # the memory's summary call after the turn is not the next turn's prompt
    return result


def run_variant(
    agent: TextAgent,
    dialogues: list[Dialogue],
    variant: Variant,
    max_turns: int = 0,
    progress: TextIO | None = None,
    seed: int | None = None,
) -> list[DialogueResult]:
    """Every dialogue under one variant, printing one progress line per dialogue to `progress`."""
    results = []
    for number, dialogue in enumerate(dialogues, start=1):
        started = time.perf_counter()
        result = run_dialogue(agent, dialogue, variant, max_turns, seed)
        results.append(result)
        if progress is not None:
            sources = ",".join(t.source for t in result.turns)
            print(
                f"[eval] {variant.key}{'' if seed is None else f' seed {seed}'} {number}/{len(dialogues)} "
                f"{dialogue.id}: {len(result.turns)} turns "
                f"in {time.perf_counter() - started:.1f} s ({sources})",
                file=progress,
                flush=True,
            )
    return results
