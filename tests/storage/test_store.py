"""The SQLite conversation store: round trip, history, and survival across reopening."""

from __future__ import annotations

from pathlib import Path

from core.emotion import EmotionState
from storage.store import ConversationStore, TurnRecord


def _turn(session: str, index: int, reply: str = "I hear you.") -> TurnRecord:
    return TurnRecord(
        session_id=session,
        turn_index=index,
        input_kind="audio",
        user_text=f"user says {index}",
        reply_text=reply,
        cancelled=index == 1,
        user_emotion=EmotionState.from_label("sadness", 0.5).to_dict(),
        agent_emotion=EmotionState.from_label("neutral", 0.2).to_dict(),
        timings={"asr": 12.5, "total": 900.0},
    )


def test_round_trip_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "conversations.sqlite3"
    store = ConversationStore(path)
    session = store.create_session("Mira")
    store.add_turn(_turn(session.id, 0))
    store.add_turn(_turn(session.id, 1, reply=""))
    store.close()

    reopened = ConversationStore(path)
    assert reopened.get_session(session.id) == session
    turns = reopened.turns(session.id)
    assert [t.turn_index for t in turns] == [0, 1]
    first = turns[0]
    assert first.user_text == "user says 0" and first.reply_text == "I hear you." and not first.cancelled
    assert first.user_emotion["label"] == "sadness" and first.timings == {"asr": 12.5, "total": 900.0}
    assert turns[1].cancelled and first.created_at > 0
    assert reopened.next_turn_index(session.id) == 2
    assert reopened.get_session("nope") is None and reopened.next_turn_index("nope") == 0


def test_history_is_chat_messages_oldest_first(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "db.sqlite3")
    store.create_session("Mira", "s")
    for i in range(4):
        store.add_turn(_turn("s", i, reply="" if i == 2 else f"reply {i}"))
    history = store.history("s", limit=2)
    assert [(m.role, m.content) for m in history] == [
        ("user", "user says 2"),
        ("user", "user says 3"),
        ("assistant", "reply 3"),
    ]


def test_wal_mode(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "db.sqlite3")
    with store._locked() as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_summary_and_plans_round_trip(tmp_path):
    from storage.store import ConversationStore

    store = ConversationStore(tmp_path / "s.sqlite3")
    store.create_session("Mira", "s1")
    assert store.summary("s1") == ("", 0)
    store.set_summary("s1", "They are Sam.", 4)
    store.set_summary("s1", "They are Sam; a cat.", 8)
    assert store.summary("s1") == ("They are Sam; a cat.", 8)
    store.add_plan("s1", 0, {"strategy": "exploration"})
    assert store.plans("s1") == {0: {"strategy": "exploration"}}


def test_turn_indices_are_handed_out_once(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "db.sqlite3")
    store.create_session("Mira", "s")
    store.add_turn(_turn("s", 0))
    # Two connections on one session (or a reconnect while a turn still waits to be written) ask in turn.
    assert [store.allocate_turn_index("s") for _ in range(3)] == [1, 2, 3]
    assert store.allocate_turn_index("new") == 0
    store.close()
    reopened = ConversationStore(tmp_path / "db.sqlite3")  # another process starts after the stored turns
    assert reopened.allocate_turn_index("s") == 1


def test_a_sessions_first_turn_stores_its_secret_hash(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "db.sqlite3")
    store.save_turn(_turn("s", 0), "Mira", secret_hash="abc")
    store.save_turn(_turn("s", 1), "Mira", secret_hash="other")  # the first one stays
    record = store.get_session("s")
    assert record is not None and record.secret_hash == "abc"


def test_a_database_from_before_resume_secrets_gets_the_column(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE sessions (id TEXT PRIMARY KEY, persona TEXT NOT NULL, created_at REAL NOT NULL)")
        db.execute("INSERT INTO sessions VALUES ('legacy', 'Mira', 1.0)")
    db.close()
    store = ConversationStore(path)
    legacy = store.get_session("legacy")
    assert legacy is not None and legacy.secret_hash is None
    store.save_turn(_turn("legacy", 0), "Mira", secret_hash="h")
    assert store.get_session("legacy").secret_hash == "h"  # type: ignore[union-attr]
