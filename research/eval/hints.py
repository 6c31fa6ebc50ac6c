"""What the chain of empathy's prompt told the model each turn, read back from the prompt the model received.

The chain's per-turn note (prompts/empathy_turn.txt, prompts/empathy_notes.txt) tells the model how the user
seems (the perceived label), suggests a reply emotion and a strategy, and may forbid a question; the JSON schema
may also drop `exploration` from the strategy enum. A model that copies these hints looks perceptive and
balanced without being either, so eval records them and reports how often the model's plan repeats them.

`HintRecorder` wraps the chat model: every schema-constrained call (a chain turn) is parsed with patterns built
from the templates themselves, so a reworded template is followed without code changes here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from string import Template
from typing import Any

from agent.base import ChatMessage
from agent.prompts import PromptLibrary

_LABEL = r"[a-z_]+"


@dataclass(frozen=True)
class PromptHints:
    """The hints of one chain turn: the perceived user label the model was told, the suggested reply emotion and
    strategy, whether a question was discouraged, and the strategies the schema allowed."""

    told_user_emotion: str | None
    suggested_reply_emotion: str | None
    suggested_strategy: str | None
    no_exploration: bool
    allowed_strategies: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return asdict(self)


def template_pattern(template: str, groups: dict[str, str]) -> re.Pattern[str]:
    """A regex matching text rendered from `template`: each `$name` in `groups` becomes a named group with that
    pattern, any other placeholder matches anything (lazily)."""
    parts: list[str] = []
    last = 0
    for match in Template.pattern.finditer(template):
        parts.append(re.escape(template[last : match.start()]))
        name = match.group("named") or match.group("braced")
        if name is None:  # "$$" is a literal dollar sign
            parts.append(re.escape("$") if match.group("escaped") is not None else "")
        elif name in groups:
            parts.append(f"(?P<{name}>{groups[name]})")
        else:
            parts.append(".*?")
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts), re.DOTALL)


class HintParser:
    """Reads the hints out of a rendered chain turn message."""

    def __init__(self, prompts: PromptLibrary | None = None) -> None:
        prompts = prompts or PromptLibrary()
        self.turn = template_pattern(
            prompts.load("empathy_turn"),
            {"user_emotion": _LABEL, "reply_emotion": _LABEL, "strategy_note": ".*?"},
        )
        notes = prompts.phrases("empathy_notes")
        self.strategy = template_pattern(notes["strategy"], {"strategy": _LABEL})
        self.no_exploration = notes["no_exploration"]

    def parse(self, content: str, schema: dict[str, Any] | None = None) -> PromptHints | None:
        """The hints in one turn message (None when it is not a chain turn message)."""
        match = self.turn.fullmatch(content.strip())
        if match is None:
            return None
        note = match.group("strategy_note") or ""
        strategy = self.strategy.search(note)
        enum = ((schema or {}).get("properties", {}).get("strategy", {})).get("enum", [])
        return PromptHints(
            told_user_emotion=match.group("user_emotion"),
            suggested_reply_emotion=match.group("reply_emotion"),
            suggested_strategy=strategy.group("strategy") if strategy else None,
            no_exploration=self.no_exploration in note,
            allowed_strategies=tuple(enum),
        )


class HintRecorder:
    """A chat model wrapper that keeps the hints of the last chain call (schema-constrained) it passed on.

    Everything else (the memory's summary calls, the warm-up) goes through untouched. Call `take()` after a turn.
    """

    def __init__(self, model: Any, parser: HintParser | None = None) -> None:
        self.model = model
        self.parser = parser or HintParser()
        self._last: PromptHints | None = None

    def stream(
        self, messages: list[ChatMessage], max_tokens: int, temperature: float, json_schema: Any = None
    ) -> Iterator[str]:
        """The wrapped model's stream; a schema-constrained call has its last user message's hints recorded."""
        if json_schema is not None and messages and messages[-1].role == "user":
            self._last = self.parser.parse(messages[-1].content, json_schema)
        if json_schema is None:
            return self.model.stream(messages, max_tokens, temperature)
        return self.model.stream(messages, max_tokens, temperature, json_schema=json_schema)

    def complete(
        self, messages: list[ChatMessage], max_tokens: int, temperature: float, json_schema: Any = None
    ) -> str:
        """The whole reply as one string (agent.base.CompletionFromStream's contract)."""
        return "".join(self.stream(messages, max_tokens, temperature, json_schema))

    def take(self) -> PromptHints | None:
        """The hints recorded since the last take (None if no chain call was made: a safety or plain turn)."""
        hints, self._last = self._last, None
        return hints

    def __getattr__(self, name: str) -> Any:  # close(), seed, last_generation ... of the wrapped model
        return getattr(self.model, name)
