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

from agent.base import Perceiver, Planner, ReplyEmotionChooser, Responder, SafetyCheck, Summarizer
from agent.empathy.schema import EmpathyPlan
from agent.mind import Conversation, Mind
from core.emotion import EmotionState
from research.dialogues import Dialogue


@dataclass(frozen=True)
class Variant:
    """One configuration of the agent to evaluate: a persona (its display name) and a therapy lens."""

    persona: str
    lens: str

    @property
    def key(self) -> str:
        """A short name for tables and folders, e.g. "mira-cbt"."""
        return f"{self.persona.lower()}-{self.lens}"


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

    @property
    def mind(self) -> Mind:
        """The one text turn (agent.mind) over these parts."""
        return Mind(self.perceive, self.choose_reply_emotion, self.safety, self.history_turns)


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

    @property
    def reply_emotion(self) -> str:
        """The emotion the reply was written with: the chain's (clamped) reply emotion, else the agent's."""
        return self.plan["reply_emotion"] if self.plan else self.agent_emotion.label

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
        }


@dataclass
class DialogueResult:
    """Every turn of one dialogue under one variant."""

    dialogue_id: str
    topic: str
    variant: Variant
    turns: list[TurnResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"id": self.dialogue_id, "topic": self.topic, "turns": [t.to_dict() for t in self.turns]}


def run_dialogue(agent: TextAgent, dialogue: Dialogue, variant: Variant, max_turns: int = 0) -> DialogueResult:
    """Play `dialogue`'s user turns (the first `max_turns`; 0: all) against the agent as `variant`."""
    responder = agent.responder_for(variant)
    mind = agent.mind
    result = DialogueResult(dialogue.id, dialogue.topic, variant)
    conversation = Conversation(persona=variant.persona, memory=agent.memory, window=agent.history_turns)
    turns = dialogue.turns[:max_turns] if max_turns > 0 else dialogue.turns
    for index, spec in enumerate(turns):
        turn = mind.turn(responder, spec.user, conversation.context())
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
            )
        )
    return result


def run_variant(
    agent: TextAgent,
    dialogues: list[Dialogue],
    variant: Variant,
    max_turns: int = 0,
    progress: TextIO | None = None,
) -> list[DialogueResult]:
    """Every dialogue under one variant, printing one progress line per dialogue to `progress`."""
    results = []
    for number, dialogue in enumerate(dialogues, start=1):
        started = time.perf_counter()
        result = run_dialogue(agent, dialogue, variant, max_turns)
        results.append(result)
        if progress is not None:
            sources = ",".join(t.source for t in result.turns)
            print(
                f"[eval] {variant.key} {number}/{len(dialogues)} {dialogue.id}: {len(result.turns)} turns "
                f"in {time.perf_counter() - started:.1f} s ({sources})",
                file=progress,
                flush=True,
            )
    return results
