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
