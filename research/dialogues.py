"""Scripted multi-turn dialogues in JSONL (docs/research.md): the input of `empathica eval` and `empathica finetune`.

One dialogue per line::

    {"id": "job-loss-1", "topic": "work",
     "turns": [{"user": "I lost my job today.", "user_emotion": "sadness",
                "reply": "I'm so sorry. That is a hard thing to hear on any day.", "reply_emotion": "sadness"}]}

`user_emotion` (one of core.emotion.BASIC_EMOTIONS) labels the user's message for the macro-F1; `reply` is a
reference reply written for the project and `reply_emotion` (a palette label, core.emotion.PALETTE_VAD) the emotion
it was written with: fine-tuning learns `reply` conditioned on `reply_emotion`. All labels are optional for eval.
Other corpora's fields are kept, not dropped: a dialogue's `situation` (the prompt it grew from) and `meta` (any
other field, as the corpus had it), a turn's `strategy` (the reference reply's strategy label, e.g. ESConv's) and
`meta`. The loaders of standard corpora (research.formats) fill them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.emotion import BASIC_EMOTIONS, PALETTE_VAD

EXAMPLE_DIALOGUES = Path(__file__).with_name("data") / "dialogues.jsonl"


class DialogueError(ValueError):
    """A dialogue file that cannot be used; the message names the file and line."""


class DialogueTurn(BaseModel):
    """One user message with its optional labels and reference reply."""

    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1)
    user_emotion: str | None = None
    reply: str | None = None
    reply_emotion: str | None = None
    strategy: str | None = None  # the reference reply's strategy, as the corpus names it
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("user_emotion")
    @classmethod
    def _basic(cls, value: str | None) -> str | None:
        if value is not None and value not in BASIC_EMOTIONS:
            raise ValueError(f"user_emotion must be one of {', '.join(BASIC_EMOTIONS)}")
        return value

    @field_validator("reply_emotion")
    @classmethod
    def _palette(cls, value: str | None) -> str | None:
        if value is not None and value not in PALETTE_VAD:
            raise ValueError(f"reply_emotion must be one of {', '.join(PALETTE_VAD)}")
        return value


class Dialogue(BaseModel):
    """A scripted conversation: the user's side, in order, with labels."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    topic: str = ""
    situation: str = ""
    meta: dict[str, Any] = Field(default_factory=dict)
    turns: list[DialogueTurn] = Field(min_length=1)


def load_dialogues(path: Path) -> list[Dialogue]:
    """Read a dialogue JSONL file; blank lines are skipped, ids must be unique."""
    return list(iter_dialogues(path))


def iter_dialogues(path: Path) -> Iterator[Dialogue]:
    """Yield the dialogues of a JSONL file, raising DialogueError with the line number on the first bad one."""
    if not path.is_file():
        raise DialogueError(f"{path}: no such dialogue file")
    seen: set[str] = set()
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                dialogue = Dialogue.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValidationError) as exc:
                raise DialogueError(f"{path}:{number}: {exc}") from None
            if dialogue.id in seen:
                raise DialogueError(f"{path}:{number}: duplicate dialogue id {dialogue.id!r}")
            seen.add(dialogue.id)
            yield dialogue
