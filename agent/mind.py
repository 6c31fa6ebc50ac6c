"""The text half of a turn, in one place: perceive -> smooth -> safety -> reply emotion -> chain of empathy -> plan.

Every path that answers a user runs this: the realtime server (server.turn.pipeline, which adds voice and face),
`empathica chat`, `empathica eval` and `empathica replay`. A turn has two steps so the server can tell the client
how the user seems and how the agent feels before the first word is generated:

1. `Mind.appraise` reads the user's words (with their previous utterances in view), smooths the reading across the
   conversation (one utterance is noisy evidence), screens the message for a crisis, and decides the agent's reply
   emotion with the persona's temperament (agent.transition over the rule table in agent.reply_emotion); a crisis
   gets the calm safety emotion instead.
2. `Mind.reply` starts the words: the scripted safety reply, the chain of empathy (a `Planner`), or a plain
   responder. Iterate the returned `Reply` for sentences as they are generated; afterwards `Reply.plan` holds the
   typed plan.

`Mind.turn` runs both steps synchronously for the text-only paths; `Conversation` carries the running context
(history, the previous emotions) from one turn to the next for callers that keep it in memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from agent.acknowledgement import Acknowledger
from agent.base import (
    ChatMessage,
    Perceiver,
    PlannedTurn,
    Planner,
    ReplyEmotionChooser,
    Responder,
    SafetyCheck,
    SafetyVerdictLike,
    Summarizer,
)
from agent.congruence import CongruenceCheck, Contradiction
from agent.empathy.schema import EmpathyPlan
from agent.memory import fold_old_turns
from agent.perception.fusion import fuse
from agent.perception.smoothing import smooth
from agent.safety import safety_emotion
from agent.sentences import split_sentences
from core.emotion import EmotionState, VoiceAffect

# The user's earlier utterances the perceiver sees next to the new one (a short "I'm fine." after grief).
PERCEPTION_CONTEXT_TURNS = 2
# A reply whose words contradict the user's state is generated once more before a scripted reply replaces it.
_REGENERATIONS = 1


@dataclass(frozen=True)
class SafetyPlan:
    """A crisis message: the scripted reply went out instead of the model's (see agent.safety)."""

    category: str
    matched: str
    response: str
    score: float | None = None
    source: str = "safety"

    def to_dict(self) -> dict[str, str]:
        """The stored and protocol form: what was matched, never the reply text (the reply is stored anyway)."""
        out = {"source": self.source, "category": self.category, "matched": self.matched}
        if self.score is not None:
            out["score"] = f"{self.score:.3f}"
        return out


@dataclass(frozen=True)
class FailedPlan:
    """A scripted line was voiced instead of the model's words: the model failed mid-turn (source "fallback",
    `reason` the error's type), or its words contradicted the turn (source "replaced", agent.congruence)."""

    reason: str
    source: str = "fallback"

    def to_dict(self) -> dict[str, str]:
        """The stored and protocol form."""
        return {"source": self.source, "reason": self.reason}


Plan = EmpathyPlan | SafetyPlan | FailedPlan
"""A turn's typed plan: the chain of empathy's (source "model" or its rule-based "fallback"), a safety event, or a
failed model. A plain responder (chain off) has no plan."""


@dataclass(frozen=True)
class TurnContext:
    """What the agent knows going into a turn: the conversation so far and its last emotions."""

    history: Sequence[ChatMessage] = ()
    previous_user: EmotionState | None = None  # the user's smoothed state after the last turn
    previous_agent: EmotionState | None = None  # the agent's emotion in the last turn
    summary: str = ""  # the running summary of turns older than the history (agent.memory)
    persona: str = ""  # the persona whose temperament shapes the agent's emotion

    def user_utterances(self, turns: int) -> list[str]:
        """The user's last `turns` messages, oldest first."""
        said = [m.content for m in self.history if m.role == "user"]
        return said[-turns:] if turns > 0 else []


@dataclass(frozen=True)
class Appraisal:
    """Step 1 of a turn: how the user seems and how the agent will feel in reply."""

    text: str
    perceived: EmotionState  # this utterance alone: the words, fused with the voice when there is one
    user: EmotionState  # smoothed across the conversation: what the agent answers
    agent: EmotionState  # the reply emotion: face, voice, and the target for the words
    safety: SafetyVerdictLike | None = None  # a crisis: the scripted reply goes out instead of the model's
    timings_ms: dict[str, float] = field(default_factory=dict)  # "perception", "safety"
    words: EmotionState | None = None  # the words' reading alone (differs from `perceived` when voiced)
    voice: VoiceAffect | None = None  # the voice's reading against the speaker's baseline (spoken turns)
    mismatch: bool = False  # words and voice disagree ("I'm fine" in a flat, tired voice)


Generation = Callable[[str], tuple[Iterator[str], PlannedTurn | None]]
"""Starts one model generation of a reply, told what was already said aloud: its sentences, and the chain's turn
(None for a plain responder)."""


@dataclass
class Reply:
    """Step 2 of a turn: iterate for the reply's sentences as they are generated; then read `plan`.

    With a congruence check (agent.congruence) every sentence is read back before it is yielded: a reply whose
    words contradict the user's state is generated once more if nothing was said yet, else (or when the second one
    contradicts too) the rest is a scripted reply that fits. `contradictions` records what was rejected.
    """

    source: str  # "safety" | "model" (the chain; its plan may say "fallback") | "plain" (chain off)
    generate: Generation | None = None  # None: the scripted `lines` (a safety reply)
    lines: Sequence[str] = ()
    opening: str = ""  # the first reaction (agent.acknowledgement), said before the model's words
    user: EmotionState | None = None  # whom the words must fit
    check: CongruenceCheck | None = None
    safety_plan: SafetyPlan | None = None
    planned: PlannedTurn | None = None  # the chain's turn of the generation that was spoken
    contradictions: list[Contradiction] = field(default_factory=list)
    replaced: bool = False  # the words were replaced by the scripted reply
    generations: int = 0
    max_sentences: int = 0  # the persona's sentence limit for the whole reply (0: none)

    def __iter__(self) -> Iterator[str]:
        if self.generate is None:
            yield from self.lines
            return
        spoken = 0
        said = ""
        if self.opening:
            contradiction = self._contradiction(self.opening)
            if contradiction is None:
                said, spoken = self.opening, 1
                yield self.opening  # the model starts when the next sentence is asked for
            else:
                self.contradictions.append(contradiction)
        for _ in range(1 + _REGENERATIONS):
            self.generations += 1
            sentences, self.planned = self.generate(said)
            contradiction = None
            try:
                for sentence in sentences:
                    contradiction = self._contradiction(sentence)
                    if contradiction is not None:
                        break
                    spoken += 1
                    yield sentence
            finally:
                close = getattr(sentences, "close", None)  # a generator: closing it stops the model
                if close is not None:
                    close()
            if contradiction is None:
                return
            self.contradictions.append(contradiction)
            if spoken > (1 if said else 0):  # the model's words cannot be unsaid: finish with the scripted reply
                break
        self.replaced = True
        assert self.check is not None and self.user is not None, "only a check finds contradictions"
        scripted = split_sentences(self.check.safe_reply(self.user))
        if self.max_sentences > 0:  # the scripted line finishes the reply within the persona's limit
            scripted = scripted[: max(0, self.max_sentences - spoken)]
        yield from scripted

    def _contradiction(self, sentence: str) -> Contradiction | None:
        if self.check is None or self.user is None:
            return None
        return self.check.contradiction(sentence, self.user)

    @property
    def plan(self) -> Plan | None:
        """The typed plan, once the sentences are out (None for a plain responder or an unfinished chain)."""
        if self.safety_plan is not None:
            return self.safety_plan
        if self.replaced:
            # Not a model failure: its plan was valid, its words contradicted the turn and were replaced.
            return FailedPlan(f"incongruent words ({self.contradictions[-1].label})", source="replaced")
        return self.planned.plan if self.planned is not None else None

    @property
    def attempts(self) -> int:
        """Model calls the reply needed (a chain's retries included); 0 without a model."""
        if self.generate is None:
            return 0
        chain_calls = self.planned.attempts if self.planned is not None else 1
        return self.generations - 1 + chain_calls


@dataclass
class TextTurn:
    """A whole text turn (Mind.turn): the appraisal, what was said, the plan, timings, and any model error."""

    appraisal: Appraisal
    sentences: list[str]
    plan: Plan | None
    source: str  # "safety" | "model" | "fallback" | "plain" | "error"
    attempts: int
    first_sentence_s: float
    total_s: float
    error: str = ""

    @property
    def reply(self) -> str:
        """The reply as one text."""
        return " ".join(s for s in self.sentences if s)


@dataclass
class Mind:
    """The agent's mind for one deployment; engines are shared by every conversation, the context is per call.

    `history_turns` is how many past exchanges the model sees (older ones live on in the summary).
    """

    perceive: Perceiver
    choose_reply_emotion: ReplyEmotionChooser
    safety: SafetyCheck | None = None
    history_turns: int = 8
    check_words: bool = True  # read each reply sentence back (agent.congruence) before it is spoken
    # The first reaction said at once while the chain reasons (agent.acknowledgement); None: the model speaks first.
    acknowledge: Acknowledger | None = None

    def __post_init__(self) -> None:
        self.congruence = CongruenceCheck(self.perceive)

    def appraise(self, text: str, context: TurnContext = TurnContext(), voice: VoiceAffect | None = None) -> Appraisal:
        """Step 1: perceive the user's emotion (words, and voice when spoken), smooth it, screen for a crisis,
        choose the reply emotion."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        words = self.perceive(text, context.user_utterances(PERCEPTION_CONTEXT_TURNS))
        fused = fuse(words, voice)
        perceived = fused.emotion
        timings["perception"] = _ms_since(started)
        user = smooth(context.previous_user, perceived)
        verdict = None
        if self.safety is not None:
            started = time.perf_counter()
            verdict = self.safety(text)
            timings["safety"] = _ms_since(started)
        if verdict is not None:
            agent = safety_emotion()
        else:
            agent = self.choose_reply_emotion(user, context.previous_agent, persona=context.persona)
        return Appraisal(text, perceived, user, agent, verdict, timings, words, voice, fused.mismatch)

    def reply(
        self, responder: Responder | Planner, appraisal: Appraisal, context: TurnContext = TurnContext()
    ) -> Reply:
        """Step 2: the reply's sentences, not yet started (iterating runs the model; closing it stops the model)."""
        verdict = appraisal.safety
        if verdict is not None:
            scripted = SafetyPlan(verdict.category, verdict.matched, verdict.response, verdict.score)
            return Reply("safety", lines=split_sentences(verdict.response), safety_plan=scripted)
        history = self.window(context.history)
        user, agent, text = appraisal.user, appraisal.agent, appraisal.text
        check = self.congruence if self.check_words else None
        if isinstance(responder, Planner):
            opening = self.acknowledge.pick(user, context.persona, history, text) if self.acknowledge else ""

            def plan(said: str) -> tuple[Iterator[str], PlannedTurn | None]:
                planned = responder.turn(text, user, agent, history, context.summary, appraisal.mismatch, said)
                return iter(planned), planned

            return Reply("model", plan, opening=opening, user=user, check=check, max_sentences=responder.max_sentences)
        plain = responder

        def reply(said: str) -> tuple[Iterator[str], PlannedTurn | None]:
            return plain.reply(text, user, agent, history), None

        return Reply("plain", reply, user=user, check=check, max_sentences=responder.max_sentences)

    def check_room(
        self, responder: Responder | Planner, appraisal: Appraisal, context: TurnContext = TurnContext()
    ) -> None:
        """Raise agent.prompt_budget.PromptTooLong when the user's message cannot fit the reply model's context
        even without history (the history itself is trimmed to fit); call it before telling the user a reply is
        coming. A safety reply needs no model, and a responder without a budget is never refused here."""
        if appraisal.safety is not None:
            return
        history = self.window(context.history)
        responder.check_room(
            appraisal.text, appraisal.user, appraisal.agent, history, context.summary, appraisal.mismatch
        )

    def turn(
        self,
        responder: Responder | Planner,
        text: str,
        context: TurnContext = TurnContext(),
        on_appraisal: Callable[[Appraisal], object] | None = None,
        on_sentence: Callable[[str], object] | None = None,
    ) -> TextTurn:
        """Both steps, synchronously; a failing model is recorded in `error`, not raised. The callbacks see the
        appraisal before the model starts and each sentence as it comes (for a terminal that shows them live)."""
        started = time.perf_counter()
        appraisal = self.appraise(text, context)
        if on_appraisal is not None:
            on_appraisal(appraisal)
        reply = self.reply(responder, appraisal, context)
        said: list[str] = []
        first: float | None = None
        error = ""
        try:
            self.check_room(responder, appraisal, context)
            for sentence in reply:
                first = first if first is not None else time.perf_counter() - started
                said.append(sentence.strip())
                if on_sentence is not None:
                    on_sentence(sentence.strip())
        except Exception as exc:  # a dead LLM server: the caller decides (chat says so, eval counts it)
            error = f"{type(exc).__name__}: {exc}"
        total = time.perf_counter() - started
        plan = None if error else reply.plan
        source = "error" if error else (plan.source if plan is not None else reply.source)
        return TextTurn(
            appraisal=appraisal,
            sentences=said,
            plan=plan,
            source=source,
            attempts=reply.attempts,
            first_sentence_s=first if first is not None else total,
            total_s=total,
            error=error,
        )

    def prime(self, responder: Responder | Planner, history: Sequence[ChatMessage]) -> None:
        """Warm the reply model's prompt cache with the history the next turn will see (agent.prompt_cache), so
        that turn processes only the user's new message. Call it while the user reads or types; raises what the
        model raises."""
        responder.warm_up(self.window(history))

    def window(self, history: Sequence[ChatMessage]) -> list[ChatMessage]:
        """The last `history_turns` exchanges of `history` (what the model sees)."""
        return list(history[-2 * self.history_turns :]) if self.history_turns > 0 else []


@dataclass
class Conversation:
    """The running context of a conversation held in memory (chat, eval); the server keeps its own in the store."""

    persona: str = ""
    memory: Summarizer | None = None  # keeps a running summary of what left the window, as the server does
    window: int = 8  # the exchanges the model sees (Mind.history_turns)
    history: list[ChatMessage] = field(default_factory=list)
    user: EmotionState | None = None
    agent: EmotionState | None = None
    summary: str = ""
    summarised_through: int = 0  # how many exchanges the summary covers

    def context(self) -> TurnContext:
        """The context for the next turn."""
        return TurnContext(tuple(self.history), self.user, self.agent, self.summary, self.persona)

    def add(self, user_text: str, turn: TextTurn) -> None:
        """Remember a finished turn: the exchange, the emotions the next turn starts from, and the summary."""
        self.history += [ChatMessage("user", user_text), ChatMessage("assistant", turn.reply)]
        self.user, self.agent = turn.appraisal.user, turn.appraisal.agent
        if self.memory is not None:
            pairs = [(u.content, a.content) for u, a in zip(self.history[::2], self.history[1::2], strict=True)]
            folded = fold_old_turns(self.memory, self.summary, self.summarised_through, pairs, self.window)
            if folded is not None:
                self.summary, self.summarised_through = folded


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0
