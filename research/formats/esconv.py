"""ESConv (Liu et al. 2021): its JSON file, a list of support conversations.

Each conversation has `emotion_type`, `problem_type`, `experience_type`, `situation` and `dialog`, a list of
`{"speaker": "seeker" | "supporter", "content", "annotation": {"strategy": ...}}`. Consecutive seeker messages
form one user turn; the supporter messages that follow are its reference reply, and their strategies (ESConv's
eight, e.g. "Question", "Reflection of feelings") its `strategy` ("; "-joined when several). Supporter messages
before the seeker's first are kept in `meta.opening`. `emotion_type` is mapped to a basic emotion
(research/data/mappings/esconv.toml) and labels the first user turn.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from research.dialogues import Dialogue, DialogueError, DialogueTurn

_SEEKER = frozenset({"seeker", "usr", "user"})


def load(path: Path) -> list[Dialogue]:
    """The conversations of an ESConv JSON file, in file order (ids "esconv-1", "esconv-2", ...)."""
    from research.formats import mapping

    basic = mapping("esconv")
    try:
        sessions = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DialogueError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(sessions, list):
        raise DialogueError(f"{path}: an ESConv file is a JSON list of conversations")
    dialogues = []
    for number, session in enumerate(sessions, start=1):
        if not isinstance(session, dict) or not isinstance(session.get("dialog"), list):
            raise DialogueError(f"{path}: conversation {number} has no `dialog` list")
        turns = _turns(session["dialog"], basic.get(str(session.get("emotion_type", "")).strip().lower()))
        if not turns:
            raise DialogueError(f"{path}: conversation {number} has no seeker message")
        opening = [m.get("content", "").strip() for m in _opening(session["dialog"])]
        meta = {k: v for k, v in session.items() if k not in ("dialog", "situation")}
        if opening:
            meta["opening"] = opening
        dialogues.append(
            Dialogue(
                id=f"esconv-{number}",
                topic=str(session.get("problem_type", "")),
                situation=str(session.get("situation", "")).strip(),
                meta=meta,
                turns=turns,
            )
        )
    return dialogues


def _opening(dialog: list[dict[str, Any]]) -> list[dict[str, Any]]:
    first = next((i for i, m in enumerate(dialog) if m.get("speaker") in _SEEKER), len(dialog))
    return dialog[:first]


def _turns(dialog: list[dict[str, Any]], emotion: str | None) -> list[DialogueTurn]:
    turns: list[DialogueTurn] = []
    user: list[str] = []
    reply: list[str] = []
    strategies: list[str] = []

    def close() -> None:
        if user:
            turns.append(
                DialogueTurn(
                    user=" ".join(user),
                    user_emotion=emotion if not turns else None,
                    reply=" ".join(reply) or None,
                    strategy="; ".join(dict.fromkeys(strategies)) or None,
                )
            )
        user.clear()
        reply.clear()
        strategies.clear()

    for message in dialog[len(_opening(dialog)) :]:
        content = str(message.get("content", "")).strip()
        if not content:
            continue
        if message.get("speaker") in _SEEKER:
            if reply:  # a new seeker message after the supporter answered: the previous turn is complete
                close()
            user.append(content)
        else:
            reply.append(content)
            strategy = (message.get("annotation") or {}).get("strategy")
            if strategy:
                strategies.append(str(strategy))
    close()
    return turns
