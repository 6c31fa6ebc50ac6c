"""Retention: old turns, their plans and summaries, and emptied sessions are deleted; recent ones stay."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storage.retention import DAY_SECONDS, prune
from storage.store import ConversationStore, TurnRecord

NOW = 1_800_000_000.0


def _turn(session_id: str, index: int, age_days: float) -> TurnRecord:
    return TurnRecord(
        session_id=session_id,
        turn_index=index,
        input_kind="text",
        user_text=f"hello {index}",
        reply_text="hi",
        created_at=NOW - age_days * DAY_SECONDS,
    )


def _age_session(path: Path, session_id: str, age_days: float) -> None:
    # Sessions are stamped with the wall clock on creation; move them into the past like a long-running store.
    with sqlite3.connect(path) as db:
        db.execute("UPDATE sessions SET created_at = ? WHERE id = ?", (NOW - age_days * DAY_SECONDS, session_id))


def _count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def test_prune_deletes_old_turns_and_what_hangs_on_them(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = ConversationStore(path)
    store.create_session("Mira", "old")  # every turn is old: the session goes too
    store.create_session("Kai", "mixed")  # one old turn, one recent: the session stays
    for session_id in ("old", "mixed"):
        _age_session(path, session_id, 40)
    store.add_turn(_turn("old", 0, 40))
    store.add_plan("old", 0, {"source": "model"})
    store.set_summary("old", "they said hello", 1)
    store.add_turn(_turn("mixed", 0, 31))
    store.add_turn(_turn("mixed", 1, 2))
    store.add_plan("mixed", 0, {"source": "model"})
    store.add_plan("mixed", 1, {"source": "model"})
    store.set_summary("mixed", "covers the old turn", 1)

    assert prune(store, 0, now=NOW) == 0  # 0 keeps everything
    assert _count(path, "turns") == 3
    assert prune(store, 30, now=NOW) == 2

    assert store.get_session("old") is None and store.turns("old") == [] and store.plans("old") == {}
    assert store.summary("old") == ("", 0)
    assert store.get_session("mixed") is not None
    assert [t.turn_index for t in store.turns("mixed")] == [1]
    assert list(store.plans("mixed")) == [1]
    assert store.summary("mixed") == ("", 0)  # it quoted a deleted turn
    assert (_count(path, "plans"), _count(path, "summaries"), _count(path, "sessions")) == (1, 0, 1)
    assert prune(store, 30, now=NOW) == 0
    store.close()


def test_recent_session_without_turns_is_kept(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "db.sqlite3")
    store.create_session("Mira", "fresh")
    store.add_turn(_turn("fresh", 0, 1))
    assert prune(store, 30, now=NOW) == 0
    assert len(store.turns("fresh")) == 1
    store.close()
