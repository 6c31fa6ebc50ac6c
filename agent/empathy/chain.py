"""The chain of empathy: one schema-constrained LLM call that reasons, then speaks, sentence by sentence.

The model writes a JSON object (agent.empathy.schema) whose last field, `response`, is the spoken reply. Its
string is decoded while it is generated (agent.empathy.json_stream) and split into sentences, so the voice
starts on the first sentence while the model writes the second. An output that breaks the schema before any
sentence was spoken is retried once, then answered by a rule-based fallback; the model's reply emotion is
clamped by the reply rules (agent.reply_emotion) (the face and voice use the transition model's emotion either way).
A message without a feeling to reason about (read as neutral, words and voice agreeing) gets a compact plan: the
model writes only what happened and the response, about half the tokens before it speaks. A turn that opened with
a first reaction gets a settled plan: what happened, why, and the response; the emotions the reaction already
voiced stay the rules' (agent.empathy.schema), and the response opens with the reaction, then "you" or a word the
user said (agent.empathy.opening), so that it goes on to what happened instead of reacting a second time.

Prompt cache: the system prompt (persona + therapy lens + the chain's instructions + a few fixed example answers
for the lens, prompts/empathy_examples_<lens>.txt) is fixed for the life of the chain; everything that changes per
turn (the perceived emotion, the suggested reply emotion and strategy, the memory summary) goes into the latest
user message.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from string import Template
from typing import Any, Protocol

from agent.base import ChatMessage
from agent.empathy.echo import as_theirs, echoes
from agent.empathy.json_stream import JsonFieldStream
from agent.empathy.lecture import LectureGuard
from agent.empathy.opening import opening_pattern
from agent.empathy.schema import (
    FIELDS,
    REASONING_FIELDS,
    STRATEGIES,
    EmpathyPlan,
    PlanError,
    check_fields,
    check_output,
    plan_schema,
)
from agent.empathy.strategy import suggest_strategy
from agent.feelings import FeelingWords
from agent.prompt_budget import PromptBudget
from agent.prompt_cache import recent_history, warm_prompt_cache
from agent.prompts import PromptLibrary
from agent.reply_emotion import allowed_reply_emotions, clamp_reply_emotion, effective_label
from agent.sentences import ReplyLength, SentenceSplitter, repeats, split_repeated_opening, split_sentences
from core.emotion import BASIC_EMOTIONS, EmotionState

LENSES: tuple[str, ...] = ("cbt", "dbt", "person_centred", "reality")


class StructuredChatModel(Protocol):
    """A chat model that can constrain its output to a JSON schema (both agent.llm backends can)."""

    def stream(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
    ) -> Iterator[str]:
        """Yield the reply piece by piece; closing the generator stops generation."""
        ...


@dataclass
class EmpathyTurn:
    """One turn of the chain: iterate it for the spoken sentences; afterwards `plan` holds the reasoning.

    `attempts` counts model calls; `errors` holds why rejected outputs were rejected (for logs and benchmarks);
    `schema_valid` is True when the model (not the fallback) produced the plan.
    """

    chain: EmpathyChain
    messages: list[ChatMessage]
    schema: dict[str, Any]
    user_emotion: EmotionState
    agent_emotion: EmotionState
    plan: EmpathyPlan | None = None
    attempts: int = 0
    errors: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    unsaid: list[str] = field(default_factory=list)  # lecturing sentences the guard kept from being spoken
    already_said: str = ""  # the first reaction, said before this reply
    repeated: list[str] = field(default_factory=list)  # sentences not spoken because they repeat `already_said`
    reasoning: str = "full"  # which plan the model writes (agent.empathy.schema.REASONING_FIELDS)
    user_text: str = ""  # what the user said this turn (a sentence retelling it as the agent's is not said)
    echoed: list[str] = field(default_factory=list)  # sentences not spoken because they speak as the user
    strategy: str = ""  # the rules' suggested strategy: a compact or settled plan's strategy

    def __post_init__(self) -> None:
        self._said = split_sentences(self.already_said)
        # The model's share of the persona's sentence limit: the first reaction counts, but the model says one.
        self._room = max(1, self.chain.max_sentences - len(self._said))

    @property
    def schema_valid(self) -> bool:
        return self.plan is not None and self.plan.source == "model"

    def __iter__(self) -> Iterator[str]:
        chain = self.chain
        for _ in range(1 + chain.retries):
            self.attempts += 1
            try:
                # PlanError is only raised before the first sentence is out, so a retry never repeats speech.
                yield from self._attempt([])
            except PlanError as error:
                self.errors.append(str(error))
                continue
            return
        self.plan = chain.fallback_plan(self.user_emotion, self.agent_emotion)
        chain.last_plan = self.plan
        yield from split_sentences(self.plan.response, self._room)

    def _admits(self, spoken: list[str], sentence: str) -> bool:
        """Whether `sentence` may follow the model's `spoken` ones: the first reaction counts toward the persona's
        limits (the listener hears one reply), but the model always says its first sentence."""
        return not spoken or self.chain.length.admits([*self._said, *spoken], sentence)

    def _without_repeated_opening(self, sentence: str) -> str:
        """`sentence` without an opening that says the first reaction again ("I'm sorry. I'm sorry, I understand
        ..." is heard as a stammer); the dropped opening is recorded in `repeated`."""
        opening, rest = split_repeated_opening(sentence, self._said)
        if opening:
            self.repeated.append(opening)
        return rest

    def _speakable(self, sentence: str) -> str:
        """`sentence` as it may be spoken, "" when it is held back: without an opening that repeats the first
        reaction, and with the user's things called theirs (agent.empathy.echo.as_theirs)."""
        sentence = self._without_repeated_opening(sentence)
        return "" if self._held_back(sentence) else as_theirs(sentence, self.user_text)

    def _held_back(self, sentence: str) -> bool:
        """Whether `sentence` is not spoken (and recorded why): a lecture, which the guard stops (the model's next
        sentence takes its place), a repeat of the first reaction, which small models copy from the prompt, or
        the user's own message retold in the first person (agent.empathy.echo)."""
        if self.chain.guard.lectures(sentence):
            self.unsaid.append(sentence)
            return True
        if echoes(sentence, self.user_text):
            self.echoed.append(sentence)
            return True
        if any(repeats(sentence, said) for said in self._said):
            self.repeated.append(sentence)
            return True
        return False

    def _attempt(self, spoken: list[str]) -> Iterator[str]:
        """One model call; raises PlanError (before speaking) when the output breaks the schema."""
        chain = self.chain
        fields = JsonFieldStream("response")
        splitter = SentenceSplitter()
        raw: list[str] = []
        self.raw = raw
        stream = chain.model.stream(self.messages, chain.max_tokens, chain.temperature, json_schema=self.schema)
        checked = capped = False
        try:
            for piece in stream:
                raw.append(piece)
                text = fields.feed(piece)
                if not checked and (fields.streaming or fields.done):
                    # Nothing is spoken from a broken plan.
                    check_fields(fields.values, require_response=False, fields=self._fields)
                    checked = True
                for sentence in filter(None, map(self._speakable, splitter.feed(text))):
                    if not self._admits(spoken, sentence):  # past the persona's word limit
                        capped = True
                        break
                    spoken.append(sentence)
                    yield sentence
                    if len(spoken) >= self._room:
                        capped = True
                        break
                if capped:
                    break  # closing the stream stops the model: no tokens are spent on unspoken sentences
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        # A response cut off by max_tokens ends mid-sentence: drop that fragment unless nothing else was said.
        if not capped and (fields.done or not spoken):
            full = False  # once a sentence is past the limit nothing after it is said; the rest is still recorded
            for sentence in filter(None, map(self._speakable, splitter.flush())):
                full = full or not self._admits(spoken, sentence)
                if not full:
                    spoken.append(sentence)
                    yield sentence
        if not checked:
            # The response never started: the output is not the schema's object (or was cut off before it).
            check_output("".join(raw), self._fields)  # raises PlanError with the reason
            raise PlanError("the response field is empty")
        if not spoken:
            raise PlanError("the response field has nothing speakable" + (" but a lecture" if self.unsaid else ""))
        values = fields.values
        if self.reasoning != "full":
            self.plan = EmpathyPlan(
                event=values["event"].strip(),
                user_emotion=effective_label(self.user_emotion),
                cause=values.get("cause", "").strip(),
                strategy=self.strategy,
                reply_emotion=self.agent_emotion.label,
                response=" ".join(spoken),
                source="model",
                lens=chain.lens,
                reasoning=self.reasoning,
            )
        else:
            proposed = values["reply_emotion"]
            self.plan = EmpathyPlan(
                event=values["event"].strip(),
                user_emotion=values["user_emotion"],
                cause=values["cause"].strip(),
                strategy=values["strategy"],
                reply_emotion=clamp_reply_emotion(self.user_emotion, proposed, self.agent_emotion),
                response=" ".join(spoken),
                source="model",
                llm_reply_emotion=proposed,
                lens=chain.lens,
            )
        chain.last_plan = self.plan

    @property
    def _fields(self) -> tuple[str, ...]:
        return REASONING_FIELDS[self.reasoning]


class EmpathyChain:
    """Answers a user turn through the chain of empathy; implements the pipeline's Responder interface.

    `persona` is the persona text, `lens` one of LENSES. The system prompt is built once here and never changes,
    so llama.cpp's prompt cache keeps it (and the conversation so far) across turns.
    """

    def __init__(
        self,
        model: StructuredChatModel,
        persona: str,
        lens: str = "cbt",
        prompts: PromptLibrary | None = None,
        max_tokens: int = 220,
        temperature: float = 0.6,
        max_sentences: int = 3,
        max_history_messages: int = 16,
        retries: int = 1,
        max_words: int = 0,
        budget: PromptBudget | None = None,
        compact_neutral: bool = True,
        settle_after_reaction: bool = True,
        open_with_detail: bool = True,
    ) -> None:
        """`max_tokens` bounds the whole JSON object (reasoning ~40 tokens + response); keep it generous enough
        that the response is not cut off. `max_sentences` is the persona's sentence limit: the prompt states it
        (prompts/sentence_limits.txt) and the reply stops there; `max_words` (0: none) stops it before a sentence
        that would take it past that many words (agent.sentences.ReplyLength). `budget` fits each prompt into the
        model's context (oldest history first); None: only `max_history_messages` bounds it. `compact_neutral`:
        a message without a feeling (read as neutral, words and voice agreeing) gets a compact plan
        (agent.empathy.schema), which halves the tokens before the first spoken sentence. `settle_after_reaction`:
        a turn that opened with a first reaction gets a settled plan (event, cause, response), the emotions being
        the ones the reaction already voiced. `open_with_detail`: after a first reaction the response's grammar
        starts with it and then with "you" or a word the user said (agent.empathy.opening)."""
        if lens not in LENSES:
            raise ValueError(f"unknown therapy lens {lens!r}; choose one of {', '.join(LENSES)}")
        if not persona.strip():
            raise ValueError("persona is empty: pass the persona text, e.g. prompts/persona_default.txt")
        self.model = model
        self.lens = lens
        self.prompts = prompts or PromptLibrary()
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.max_sentences = max_sentences
        self.length = ReplyLength(max_sentences, max_words)
        self.max_history_messages = max_history_messages
        self.retries = retries
        self.budget = budget
        self.compact_neutral = compact_neutral
        self.settle_after_reaction = settle_after_reaction
        self.open_with_detail = open_with_detail
        self.last_plan: EmpathyPlan | None = None
        self.guard = LectureGuard(self.prompts)
        # Read every template now: a missing file fails at start-up, not mid-conversation.
        self.system_prompt = self.prompts.render(
            "empathy_system",
            persona=persona.strip(),
            lens_name=self.prompts.phrase("lens_names", lens),
            lens=self.prompts.load(f"lens_{lens}"),
            sentence_limit=self.prompts.phrase("sentence_limits", str(max_sentences)),
            examples=self.prompts.load(f"empathy_examples_{lens}"),
        )
        self.prompts.load("empathy_turn")
        self._feelings = FeelingWords(self.prompts)
        self._notes = self.prompts.book("empathy_notes")
        self._fallback = self.prompts.book("empathy_fallback")

    def warm_up(self, history: Sequence[ChatMessage] = ()) -> None:
        """Process the system prompt and the recent `history` (agent.prompt_cache) so the next turn finds them in
        the prompt cache: on a small CPU that saves seconds on its reply. Raises what the model raises."""
        warm_prompt_cache(self.model, self.system_prompt, history, self.max_history_messages, self.budget)

    # ------------------------------------------------------------ the Responder interface

    def reply(
        self,
        user_text: str,
        user_emotion: EmotionState,
        agent_emotion: EmotionState,
        history: list[ChatMessage],
        summary: str = "",
    ) -> Iterator[str]:
        """Yield the reply's sentences as they are generated; `last_plan` holds the reasoning afterwards."""
        return iter(self.turn(user_text, user_emotion, agent_emotion, history, summary))

    def turn(
        self,
        user_text: str,
        user_emotion: EmotionState,
        agent_emotion: EmotionState,
        history: list[ChatMessage],
        summary: str = "",
        mismatch: bool = False,
        already_said: str = "",
    ) -> EmpathyTurn:
        """One turn, not yet started: iterate it for the sentences, then read its `plan`.

        `mismatch`: the user's words and voice disagree (agent.perception.fusion); the prompt then says so.
        `already_said`: what the agent said aloud before this reply (its first reaction); the model continues it,
        and a sentence of the model's that says it again is not spoken.
        """
        steer = _asked_lately(history)
        strategies = tuple(s for s in STRATEGIES if not (steer and s == "exploration"))
        replies = [m.content for m in history if m.role == "assistant"]
        strategy = suggest_strategy(user_emotion, self.lens, replies)
        system = ChatMessage("system", self.system_prompt)
        message = self.turn_message(
            user_text, user_emotion, agent_emotion, summary, mismatch, steer, strategy, already_said
        )
        if self.budget is None:
            messages = [system, *self._window(history), message]
        else:  # the summary is the first thing to go when the message itself is long
            bare = self.turn_message(
                user_text, user_emotion, agent_emotion, "", mismatch, steer, strategy, already_said
            )
            messages = self.budget.fit(system, self._window(history), message, bare if summary.strip() else None)
        # The model may only propose reply emotions the rules allow for this user (the clamp stays as a guard for
        # backends that do not enforce the schema).
        allowed = tuple(e for e in BASIC_EMOTIONS if e in allowed_reply_emotions(user_emotion))
        reasoning = self._reasoning(user_emotion, mismatch, already_said)
        opening = opening_pattern(already_said, user_text) if self.open_with_detail and already_said.strip() else ""
        schema = plan_schema(strategies, allowed, reasoning, opening)
        return EmpathyTurn(
            self,
            messages,
            schema,
            user_emotion,
            agent_emotion,
            already_said=already_said,
            reasoning=reasoning,
            user_text=user_text,
            strategy=strategy if strategy in strategies else strategies[0],
        )

    def _reasoning(self, user_emotion: EmotionState, mismatch: bool, already_said: str) -> str:
        """Which plan the model writes this turn (agent.empathy.schema)."""
        if self.compact_neutral and effective_label(user_emotion) == "neutral" and not mismatch:
            return "compact"
        if self.settle_after_reaction and already_said.strip():
            return "settled"
        return "full"

    def check_room(
        self,
        user_text: str,
        user_emotion: EmotionState,
        agent_emotion: EmotionState,
        history: list[ChatMessage],
        summary: str = "",
        mismatch: bool = False,
    ) -> None:
        """Raise PromptTooLong when this turn's message cannot fit the model's context (before anything is said)."""
        self.turn(user_text, user_emotion, agent_emotion, history, summary, mismatch)

    # ------------------------------------------------------------ prompt parts

    def turn_message(
        self,
        user_text: str,
        user_emotion: EmotionState,
        agent_emotion: EmotionState,
        summary: str = "",
        mismatch: bool = False,
        no_exploration: bool = False,
        strategy: str = "",
        already_said: str = "",
    ) -> ChatMessage:
        """The latest user message: their words, then the private per-turn note (with a suggested strategy, and
        what the agent already said aloud this turn)."""
        label = effective_label(user_emotion)
        content = self.prompts.render(
            "empathy_turn",
            user_text=user_text.strip(),
            user_feeling=self._feelings.user(label, user_emotion.intensity),
            user_emotion=label,
            reply_emotion=agent_emotion.label,
            reply_feeling=self._feelings.reply(agent_emotion.label),
            mismatch=" " + self._notes.phrase("mismatch") if mismatch else "",
            memory=" " + Template(self._notes.phrase("memory")).safe_substitute(summary=summary.strip())
            if summary.strip()
            else "",
            strategy_note=self._strategy_note(strategy, no_exploration) + self._said_note(already_said),
        )
        return ChatMessage("user", content)

    def _said_note(self, already_said: str) -> str:
        if not already_said.strip():
            return ""
        return " " + Template(self._notes.phrase("already_said")).safe_substitute(said=already_said.strip())

    def _strategy_note(self, strategy: str, no_exploration: bool) -> str:
        notes = []
        if strategy:
            notes.append(Template(self._notes.phrase("strategy")).safe_substitute(strategy=strategy))
        if no_exploration:
            notes.append(self._notes.phrase("no_exploration"))
        return "".join(" " + note for note in notes)

    def fallback_plan(self, user_emotion: EmotionState, agent_emotion: EmotionState) -> EmpathyPlan:
        """The rule-based plan used when the model failed twice: a short, safe reply for the user's emotion."""
        label = effective_label(user_emotion)
        return EmpathyPlan(
            event="unclear",
            user_emotion=label,
            cause="unknown",
            strategy="exploration" if label in ("neutral", "surprise") else "emotional_reaction",
            reply_emotion=clamp_reply_emotion(user_emotion, agent_emotion.label, agent_emotion),
            response=self._fallback.phrase(label),
            source="fallback",
            lens=self.lens,
        )

    def _window(self, history: list[ChatMessage]) -> list[ChatMessage]:
        return recent_history(history, self.max_history_messages)


def _asked_lately(history: list[ChatMessage], turns: int = 2) -> bool:
    """Whether each of the last `turns` replies asked a question (Lee et al.: small models over-ask)."""
    replies = [m.content for m in history if m.role == "assistant"][-turns:]
    return len(replies) == turns and all("?" in reply for reply in replies)


__all__ = ["FIELDS", "LENSES", "EmpathyChain", "EmpathyTurn", "StructuredChatModel"]
