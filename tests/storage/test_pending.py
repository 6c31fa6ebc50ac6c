"""Writes that wait for the database (storage.pending) and the store's retry-safe `save_turn`."""

from __future__ import annotations

import time
from pathlib import Path

from storage.pending import PendingTurn, PendingTurns, journal_path
from storage.store import ConversationStore, TurnRecord


def record(index: int, text: str, created: float | None = None) -> TurnRecord:
    return TurnRecord("s1", index, "text", text, f"reply to {text}", created_at=created or time.time())


def test_a_retried_turn_is_stored_once(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "db.sqlite3")
    turn = record(0, "hello")
    assert store.save_turn(turn, "Mira", {"source": "llm"}) == 0
    assert store.save_turn(turn, "Mira", {"source": "llm"}) == 0
    assert [t.user_text for t in store.turns("s1")] == ["hello"]
    assert store.get_session("s1").persona == "Mira" and store.plans("s1") == {0: {"source": "llm"}}


def test_a_different_turn_at_a_taken_index_goes_after_the_last(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "db.sqlite3")
    store.save_turn(record(0, "said first, written late"), "Mira")
    store.save_turn(record(1, "after a resume"), "Mira")
    # The turn that waited (index 1 too: the resumed session did not know it) must not be dropped.
    assert store.save_turn(record(1, "waited while locked"), "Mira", {"source": "llm"}) == 2
    assert [t.user_text for t in store.turns("s1")] == [
        "said first, written late",
        "after a resume",
        "waited while locked",
    ]
    assert list(store.plans("s1")) == [2]


def test_a_cut_journal_line_is_skipped_and_the_rest_replayed(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    good = PendingTurn(record(0, "kept"), "Mira", None)
    journal_path(path).write_text(good.to_json() + "\n" + good.to_json()[:25] + "\n")
    store = ConversationStore(path)
    assert PendingTurns(store, journal_path(path)).replay() == 1
    assert [t.user_text for t in store.turns("s1")] == ["kept"]
    assert not journal_path(path).exists()


def test_waiting_turns_keep_their_order_across_failures(tmp_path: Path) -> None:
    class Flaky:
        """A store that refuses writes until `ok` is set (like a locked database)."""

        def __init__(self, real: ConversationStore) -> None:
            self.real, self.ok, self.tries = real, False, 0

        def save_turn(self, turn: TurnRecord, persona: str, plan: object = None, secret_hash: str | None = None) -> int:
            self.tries += 1
            if not self.ok:
                raise OSError("database is locked")
            return self.real.save_turn(turn, persona, plan, secret_hash)  # type: ignore[arg-type]

    real = ConversationStore(tmp_path / "db.sqlite3")
    flaky = Flaky(real)
    pending = PendingTurns(flaky, journal_path(tmp_path / "db.sqlite3"))  # type: ignore[arg-type]
    for i in range(3):
        result = pending.save(PendingTurn(record(i, f"turn {i}"), "Mira"))
        assert not result.written and result.waiting == i + 1 and "locked" in result.error
    assert flaky.tries == 3, "one try per save: a waiting turn blocks the ones after it, in order"
    assert len(journal_path(tmp_path / "db.sqlite3").read_text().splitlines()) == 3, "each journaled once"
    flaky.ok = True
    assert pending.flush().written
    assert [t.user_text for t in real.turns("s1")] == ["turn 0", "turn 1", "turn 2"]


def test_the_journal_keeps_the_sessions_secret_hash(tmp_path: Path) -> None:
    import json

    turn = PendingTurn(record(0, "hello"), "Mira", secret_hash="5e" * 32)
    assert PendingTurn.from_json(turn.to_json()) == turn
    legacy = json.loads(turn.to_json())
    del legacy["secret_hash"]  # a journal written before resume secrets
    assert PendingTurn.from_json(json.dumps(legacy)).secret_hash is None
    store = ConversationStore(tmp_path / "db.sqlite3")
    PendingTurns(store).save(turn)
    assert store.get_session("s1").secret_hash == "5e" * 32  # type: ignore[union-attr]
