"""Run the agent's mind in text mode over scripted dialogues, turn by turn, as a server session would.

Per turn, as server.pipeline does: perceive the user's words, smooth the reading across the dialogue's turns
(agent.perception.smoothing), screen for crises (scripted reply), choose the agent's emotion with the persona's
transition from its previous one, then answer through the persona's responder (the chain of empathy, or the plain
responder) with the dialogue so far as history. No voice, no face: what is measured is what the agent perceives,
feels, reasons and says, and how long that takes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from agent.base import ChatMessage
from agent.perception.smoothing import smooth
from agent.safety import safety_emotion
from core.emotion import EmotionState
from research.dialogues import Dialogue


class ReplyEmotionChooser(Protocol):
    """The persona-weighted transition of the agent's emotion (agent.transition.PersonaTransition)."""

    def __call__(self, user: EmotionState, previous: EmotionState | None, persona: str = "") -> EmotionState: ...


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

    perceive: Callable[[str], EmotionState]
    choose_reply_emotion: ReplyEmotionChooser
    responder_for: Callable[[Variant], Any]
    safety: Callable[[str], Any] | None = None
    history_turns: int = 8  # as the server: the last N turns are the model's context


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
    result = DialogueResult(dialogue.id, dialogue.topic, variant)
    history: list[ChatMessage] = []
    user_state: EmotionState | None = None
    agent_state: EmotionState | None = None
    turns = dialogue.turns[:max_turns] if max_turns > 0 else dialogue.turns
    for index, spec in enumerate(turns):
        window = history[-2 * agent.history_turns :] if agent.history_turns > 0 else []
        turn = run_turn(agent, responder, variant, spec.user, window, user_state, agent_state)
        turn.index = index
        turn.gold_user_emotion = spec.user_emotion
        turn.reference_reply, turn.reference_reply_emotion = spec.reply, spec.reply_emotion
        result.turns.append(turn)
        history += [ChatMessage("user", spec.user), ChatMessage("assistant", turn.reply)]
        user_state, agent_state = turn.user_emotion, turn.agent_emotion
    return result


def run_turn(
    agent: TextAgent,
    responder: Any,
    variant: Variant,
    text: str,
    history: list[ChatMessage],
    previous_user: EmotionState | None,
    previous_agent: EmotionState | None,
) -> TurnResult:
    """One turn as server.pipeline runs it, without voice and face; a failing model is recorded, not raised."""
    started = time.perf_counter()
    perceived = agent.perceive(text)
    user = smooth(previous_user, perceived)
    verdict = agent.safety(text) if agent.safety is not None else None
    if verdict is not None:
        agent_emotion = safety_emotion()
    else:
        agent_emotion = agent.choose_reply_emotion(user, previous_agent, persona=variant.persona)
    planned = None
    if verdict is not None:
        sentences: Iterable[str] = [verdict.response]
        source = "safety"
    elif hasattr(responder, "turn"):  # the chain of empathy: its plan is read after the sentences
        planned = responder.turn(text, user, agent_emotion, list(history))
        sentences, source = planned, "model"
    else:
        sentences, source = responder.reply(text, user, agent_emotion, list(history)), "plain"
    said: list[str] = []
    first: float | None = None
    error = ""
    try:
        for sentence in sentences:
            first = first if first is not None else time.perf_counter() - started
            said.append(sentence.strip())
    except Exception as exc:  # a dead LLM server: keep evaluating, the report counts the errors
        error, source = f"{type(exc).__name__}: {exc}", "error"
    total = time.perf_counter() - started
    plan = planned.plan if planned is not None else None
    return TurnResult(
        index=0,
        user_text=text,
        perceived=perceived,
        user_emotion=user,
        agent_emotion=agent_emotion,
        reply=" ".join(s for s in said if s),
        source=plan.source if plan is not None and not error else source,
        first_sentence_s=first if first is not None else total,
        total_s=total,
        plan=plan.to_dict() if plan is not None and not error else None,
        attempts=getattr(planned, "attempts", 0),
        error=error,
    )


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
