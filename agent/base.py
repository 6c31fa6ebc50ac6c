"""The interfaces of the agent's engines and parts, declared once; concrete ones are chosen by configuration.

Callers (agent.mind, the server, research) depend on these, never on a concrete class, so tests can hand in fakes
that a type checker holds to the same shapes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

from core.chat import ChatMessage as ChatMessage  # re-exported: the agent's callers name it agent.base.ChatMessage
from core.emotion import EmotionState


class ChatModel(Protocol):
    """A chat LLM that streams its reply as text pieces."""

    def stream(self, messages: list[ChatMessage], max_tokens: int, temperature: float) -> Iterator[str]:
        """Yield the reply to `messages` piece by piece; stops when the generator is closed."""
        ...


class CompletionFromStream:
    """Mixin for LLM backends: `complete` gathers what the backend's `stream` yields into one string."""

    def complete(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
    ) -> str:
        """The whole reply to `messages` as one string (e.g. a JSON document under `json_schema`)."""
        stream = self.stream  # type: ignore[attr-defined]  # provided by the backend class
        return "".join(stream(messages, max_tokens, temperature, json_schema))


class Perceiver(Protocol):
    """How the user feels, from what they said (agent.perception.text.TextPerceiver.perceive)."""

    def __call__(self, text: str, context: Sequence[str] = ()) -> EmotionState:
        """The emotion in `text`, read with the user's previous utterances `context` (oldest first) in view."""
        ...


class ReplyEmotionChooser(Protocol):
    """The agent's emotion for its reply (agent.transition.PersonaTransition)."""

    def __call__(self, user: EmotionState, previous: EmotionState | None, persona: str = "") -> EmotionState:
        """The reply emotion from the user's emotion, the agent's previous one and the session's persona."""
        ...


class Responder(Protocol):
    """Writes the reply to one user turn (agent.responder.Responder: the plain reply, without the chain)."""

    # The persona's sentence limit for a whole reply (0: none); a scripted ending (agent.mind.Reply) keeps to it.
    max_sentences: int

    def reply(
        self,
        user_text: str,
        user_emotion: EmotionState,
        agent_emotion: EmotionState,
        history: list[ChatMessage],
    ) -> Iterator[str]:
        """Yield the reply as complete sentences; closing the iterator stops the model."""
        ...

    def warm_up(self, history: Sequence[ChatMessage] = ()) -> None:
        """Process the fixed prompt prefix, and the recent `history` after it (the exchanges the next turn begins
        with), so the next turn finds them in the model's cache (agent.prompt_cache)."""
        ...

    def check_room(
        self,
        user_text: str,
        user_emotion: EmotionState,
        agent_emotion: EmotionState,
        history: list[ChatMessage],
        summary: str = "",
        mismatch: bool = False,
    ) -> None:
        """Raise agent.prompt_budget.PromptTooLong when this turn's message cannot fit the model's context (a
        responder without a budget never raises)."""
        ...


class PlannedTurn(Iterable[str], Protocol):
    """A reply that reasons first (agent.empathy.EmpathyTurn): iterate for sentences, then read `plan`."""

    @property
    def plan(self) -> Any:  # agent.empathy.schema.EmpathyPlan | None; Any avoids importing the chain here
        """The turn's plan once its sentences are out."""
        ...

    @property
    def attempts(self) -> int:
        """Model calls the turn needed."""
        ...


@runtime_checkable
class Planner(Responder, Protocol):
    """A responder that also exposes its reasoning per turn (agent.empathy.EmpathyChain)."""

    lens: str

    def turn(
        self,
        user_text: str,
        user_emotion: EmotionState,
        agent_emotion: EmotionState,
        history: list[ChatMessage],
        summary: str = "",
        mismatch: bool = False,
        already_said: str = "",
    ) -> PlannedTurn:
        """One turn, not yet started; `mismatch`: the user's words and voice disagree; `already_said`: what the
        agent has said aloud this turn already (its first reaction), which the reply must not repeat."""
        ...


class SafetyVerdictLike(Protocol):
    """Why a message bypasses the model (agent.safety.SafetyVerdict)."""

    @property
    def category(self) -> str: ...

    @property
    def matched(self) -> str: ...

    @property
    def response(self) -> str: ...

    @property
    def score(self) -> float | None: ...


class SafetyCheck(Protocol):
    """The crisis screen (agent.safety.SafetyScreen.check): a verdict when a message must bypass the model."""

    def __call__(self, text: str) -> SafetyVerdictLike | None: ...


class Summarizer(Protocol):
    """Keeps a running summary of the turns that left the history window (agent.memory.SummaryMemory)."""

    def due(self, turns_done: int, summarised_through: int) -> bool:
        """Whether the running summary needs an update."""
        ...

    def update(self, summary: str, turns: Sequence[tuple[str, str]]) -> str:
        """The summary after `turns` (user text, reply text)."""
        ...
