"""`empathica sessions`: the stored conversations, one line each (the ids `export --session` and `replay` take)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TextIO

from compose.config import Config
from storage.store import ConversationStore, SessionSummary


def format_sessions(sessions: list[SessionSummary]) -> list[str]:
    """A header and one aligned line per session: id, persona, started (UTC), turns, last turn (UTC)."""
    rows = [("session", "persona", "started (UTC)", "turns", "last turn (UTC)")]
    rows += [(s.id, s.persona, _time(s.created_at), str(s.turns), _time(s.last_turn_at)) for s in sessions]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]


def run_sessions(config: Config, out: TextIO | None = None) -> int:
    """Print the sessions of the configured store; exit code 1 when there is no store."""
    out = out or sys.stdout
    path = config.storage.path
    if not path.is_file():
        print(f"empathica: no conversation database at {path} (set storage.database)", file=sys.stderr)
        return 1
    store = ConversationStore(path)
    try:
        sessions = store.session_summaries()
    finally:
        store.close()
    if not sessions:
        print(f"empathica: no sessions stored in {path}", file=sys.stderr)
        return 0
    for line in format_sessions(sessions):
        print(line, file=out)
    return 0


def _time(stamp: float | None) -> str:
    return "-" if stamp is None else datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M:%S")
