"""Conversation memory: a window of recent turns (given to the LLM as chat history) plus a running summary.

The window is the store's last N turns; the summary carries what fell out of it (who the person is, what they
told us). The summary is refreshed every `every_turns` turns by the LLM with the `summary_update` template,
or extractively (the first sentence of each of the user's messages) when no model is available or it fails.
The summary goes into the per-turn user message, never the system prompt, so the prompt cache survives it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from agent.base import ChatMessage, Summarizer
from agent.prompts import PromptLibrary
from agent.sentences import SentenceSplitter, clean_for_speech

log = logging.getLogger(__name__)

_MAX_QUOTED_CHARS = 600  # of each message, in the summary prompt


class _Model(Protocol):
    def stream(
        self, messages: list[ChatMessage], max_tokens: int, temperature: float, json_schema: dict[str, Any] | None = ...
    ) -> Iterator[str]: ...


class SummaryMemory:
    """Keeps a session's running summary up to date; `model` None means extractive summaries only."""

    def __init__(
        self,
        model: _Model | None = None,
        prompts: PromptLibrary | None = None,
        every_turns: int = 4,
        max_tokens: int = 90,
        max_chars: int = 500,
    ) -> None:
        if every_turns < 1:
            raise ValueError(f"every_turns must be at least 1, got {every_turns}")
        self.model = model
        self.prompts = prompts or PromptLibrary()
        self.every_turns = every_turns
        self.max_tokens = max_tokens
        self.max_chars = max_chars
        self.prompts.load("summary_update")

    def due(self, turns_done: int, summarised_through: int) -> bool:
        """Whether `turns_done` stored turns, of which `summarised_through` are in the summary, call for an update."""
        return turns_done - summarised_through >= self.every_turns

    def update(self, summary: str, turns: Sequence[tuple[str, str]]) -> str:
        """The summary after `turns` (user text, reply text), oldest first, on top of `summary`."""
        if not turns:
            return summary
        if self.model is not None:
            try:
                return self._llm_update(summary, turns)
            except Exception:  # a failing model must not lose the memory: fall back, and say so in the log
                log.exception("LLM summary failed; using an extractive summary")
        return extractive_summary(summary, turns, self.max_chars)

    def _llm_update(self, summary: str, turns: Sequence[tuple[str, str]]) -> str:
        assert self.model is not None
        # Each side is cut to a few sentences' worth: one very long message must not overflow the summary prompt.
        listing = "\n".join(
            f"Them: {_limit(user, _MAX_QUOTED_CHARS)}\nYou: {_limit(reply, _MAX_QUOTED_CHARS)}" for user, reply in turns
        )
        prompt = self.prompts.render("summary_update", summary=summary or "(none)", turns=listing)
        text = "".join(self.model.stream([ChatMessage("user", prompt)], self.max_tokens, 0.2))
        text = clean_for_speech(text)
        if not text:
            raise ValueError("the model wrote an empty summary")
        return _limit(text, self.max_chars)


def fold_old_turns(
    memory: Summarizer, summary: str, through: int, turns: Sequence[tuple[str, str]], window: int
) -> tuple[str, int] | None:
    """Fold the turns that have left the history window into the running summary, when due.

    `turns` are all of a conversation's (user text, reply text) pairs, oldest first; `summary` covers the first
    `through` of them; the model sees the last `window`. Returns the new summary and how many turns it covers,
    or None when no update is due. The server (with its store) and in-memory conversations (eval) both use this.
    """
    old = len(turns) - window
    if old <= through or not memory.due(old, through):
        return None
    return memory.update(summary, turns[through:old]), old


def extractive_summary(summary: str, turns: Sequence[tuple[str, str]], max_chars: int = 500) -> str:
    """`summary` plus the first sentence of each user message, keeping the newest `max_chars` characters."""
    firsts = []
    for user, _reply in turns:
        splitter = SentenceSplitter()
        sentences = [*splitter.feed(user), *splitter.flush()]
        if sentences:
            firsts.append(sentences[0])
    return _limit(" ".join(part for part in (summary.strip(), *firsts) if part), max_chars, keep_end=True)


def _limit(text: str, max_chars: int, keep_end: bool = False) -> str:
    if len(text) <= max_chars:
        return text
    if keep_end:  # the oldest facts go first
        cut = text[-max_chars:]
        return cut[cut.find(" ") + 1 :] if " " in cut else cut
    cut = text[:max_chars]
    return cut[: cut.rfind(" ")] if " " in cut else cut
