"""The conversation store: every session and turn, with its emotions and timings, in one SQLite file.

Researchers read this file directly, so the schema is plain: emotions and timings are JSON text columns.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from core.chat import ChatMessage

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    persona TEXT NOT NULL,
    created_at REAL NOT NULL,
    secret_hash TEXT
);
CREATE TABLE IF NOT EXISTS turns (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    turn_index INTEGER NOT NULL,
    input_kind TEXT NOT NULL,
    user_text TEXT NOT NULL,
    user_emotion TEXT,
    agent_emotion TEXT,
    reply_text TEXT NOT NULL,
    cancelled INTEGER NOT NULL,
    timings TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (session_id, turn_index)
);
CREATE TABLE IF NOT EXISTS summaries (
    session_id TEXT PRIMARY KEY REFERENCES sessions(id),
    summary TEXT NOT NULL,
    through_turn INTEGER NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS plans (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    turn_index INTEGER NOT NULL,
    plan TEXT NOT NULL,
    PRIMARY KEY (session_id, turn_index)
);
"""

InputKind = Literal["text", "audio"]
_MAX_COUNTED_SESSIONS = 10_000  # sessions whose next turn index is kept in memory (allocate_turn_index)


@dataclass(frozen=True)
class SessionRecord:
    """A stored session; `secret_hash` is the sha256 of its resume secret (None: stored before those existed)."""

    id: str
    persona: str
    created_at: float
    secret_hash: str | None = None


@dataclass(frozen=True)
class SessionSummary:
    """A stored session as `empathica sessions` lists it: id, persona, start, turns and the last turn's time."""

    id: str
    persona: str
    created_at: float
    turns: int
    last_turn_at: float | None


@dataclass(frozen=True)
class TurnRecord:
    """One stored turn; emotions are the JSON-ready dicts of core.emotion.EmotionState.to_dict()."""

    session_id: str
    turn_index: int
    input_kind: InputKind
    user_text: str
    reply_text: str
    cancelled: bool = False
    user_emotion: dict[str, Any] | None = None
    agent_emotion: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    created_at: float = 0.0


class ConversationStore:
    """Sessions and turns in an SQLite database at `path` (WAL mode; parent directories are created)."""

    def __init__(self, path: Path, busy_timeout: float = 5.0) -> None:
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by worker threads; the lock serialises access (writes are tiny).
        # `busy_timeout`: how long a write waits for another process's lock before failing ("database is locked").
        self._db = sqlite3.connect(self.path, timeout=busy_timeout, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        # The next turn index of each session this process has numbered turns for (see allocate_turn_index).
        self._next_index: dict[str, int] = {}
        self._index_lock = threading.Lock()  # guards _next_index; taken before `_lock`, never while holding it
        with self._locked() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(sessions)")}
            if "secret_hash" not in columns:  # a database from before resume secrets
                db.execute("ALTER TABLE sessions ADD COLUMN secret_hash TEXT")

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._db

    def close(self) -> None:
        """Close the database file."""
        with self._locked() as db:
            db.close()

    def create_session(
        self, persona: str, session_id: str | None = None, secret_hash: str | None = None
    ) -> SessionRecord:
        """Create and return a new session (a fresh random id unless `session_id` is given)."""
        record = SessionRecord(
            uuid.uuid4().hex if session_id is None else session_id, persona, time.time(), secret_hash
        )
        with self._locked() as db:
            db.execute(
                "INSERT INTO sessions (id, persona, created_at, secret_hash) VALUES (?, ?, ?, ?)",
                (record.id, record.persona, record.created_at, record.secret_hash),
            )
        return record

    def get_session(self, session_id: str) -> SessionRecord | None:
        """The stored session `session_id`, or None."""
        with self._locked() as db:
            row = db.execute(
                "SELECT id, persona, created_at, secret_hash FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
        return SessionRecord(*row) if row else None

    def allocate_turn_index(self, session_id: str) -> int:
        """Number the next turn of `session_id`: each index is handed out once, whichever connection asks.

        The first call for a session starts after its last stored turn; later ones count on in memory, so turns
        still waiting to be written (storage.pending) and turns of two connections on one session never share an
        index. (A turn written by another process at an index taken meanwhile is moved after it by save_turn.)
        Only the first call for a session that `new_session` did not announce reads the database.
        """
        with self._index_lock:
            index = self._next_index_locked(session_id)
            self._next_index[session_id] = index + 1
        return index

    def peek_turn_index(self, session_id: str) -> int:
        """The index `allocate_turn_index` would hand out next (e.g. to announce a turn before it starts)."""
        with self._index_lock:
            index = self._next_index_locked(session_id)
            self._next_index[session_id] = index
        return index

    def new_session(self, session_id: str) -> None:
        """Announce a session id that nothing is stored under (a fresh random one): its turns count from 0 without
        reading the database (so numbering never waits for a write in progress)."""
        with self._index_lock:
            self._next_index.setdefault(session_id, 0)
            self._forget_old_indices()

    def _next_index_locked(self, session_id: str) -> int:
        index = self._next_index.pop(session_id, None)  # re-inserted by the caller: most recently used last
        if index is None:
            with self._locked() as db:
                row = db.execute("SELECT MAX(turn_index) FROM turns WHERE session_id = ?", (session_id,)).fetchone()
            index = 0 if row[0] is None else row[0] + 1
            self._forget_old_indices()
        return index

    def _forget_old_indices(self) -> None:
        while len(self._next_index) > _MAX_COUNTED_SESSIONS:  # the least recently numbered sessions go
            del self._next_index[next(iter(self._next_index))]

    def add_turn(self, turn: TurnRecord) -> None:
        """Store one turn (its session must exist)."""
        with self._locked() as db:
            _insert_turn(db, turn, turn.turn_index, turn.created_at or time.time())

    def set_played_reply(self, session_id: str, turn_index: int, reply_text: str) -> None:
        """Record that the listener heard only `reply_text` of a stored reply (they interrupted it)."""
        with self._locked() as db:
            db.execute(
                "UPDATE turns SET reply_text = ?, cancelled = 1 WHERE session_id = ? AND turn_index = ?",
                (reply_text, session_id, turn_index),
            )

    def save_turn(
        self, turn: TurnRecord, persona: str, plan: dict[str, Any] | None = None, secret_hash: str | None = None
    ) -> int:
        """Store a turn, its session (created with `persona` and `secret_hash` if new) and its plan in one
        transaction. A session stored without a secret hash gets this one.

        Safe to retry after a failure (storage.pending): the same turn (same index, text and time) is never
        stored twice. A different turn already at that index (a client resumed the session while this one was
        waiting to be written) does not displace it: this one goes after the session's last turn, so neither is
        lost. Returns the index the turn is stored under.
        """
        created = turn.created_at or time.time()
        with self._locked() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "INSERT OR IGNORE INTO sessions (id, persona, created_at, secret_hash) VALUES (?, ?, ?, ?)",
                    (turn.session_id, persona, created, secret_hash),
                )
                if secret_hash is not None:
                    db.execute(
                        "UPDATE sessions SET secret_hash = ? WHERE id = ? AND secret_hash IS NULL",
                        (secret_hash, turn.session_id),
                    )
                index = turn.turn_index
                row = db.execute(
                    "SELECT user_text, created_at FROM turns WHERE session_id = ? AND turn_index = ?",
                    (turn.session_id, index),
                ).fetchone()
                if row is not None and row[0] == turn.user_text and row[1] == created:
                    db.execute("COMMIT")  # written by an earlier try
                    return index
                if row is not None:
                    top = db.execute("SELECT MAX(turn_index) FROM turns WHERE session_id = ?", (turn.session_id,))
                    index = top.fetchone()[0] + 1
                _insert_turn(db, turn, index, created)
                if plan is not None:
                    db.execute(
                        "INSERT OR REPLACE INTO plans (session_id, turn_index, plan) VALUES (?, ?, ?)",
                        (turn.session_id, index, json.dumps(plan)),
                    )
                db.execute("COMMIT")  # inside the try: a commit can fail too (a full disk)
            except BaseException:
                if db.in_transaction:  # SQLite may already have rolled back (e.g. on a full disk)
                    db.execute("ROLLBACK")
                raise
        return index

    def turns(self, session_id: str) -> list[TurnRecord]:
        """All turns of a session, oldest first."""
        with self._locked() as db:
            rows = db.execute(
                f"SELECT {_TURN_COLUMNS} FROM turns WHERE session_id = ? ORDER BY turn_index", (session_id,)
            ).fetchall()
        return [_turn_from_row(r) for r in rows]

    def export_turns(self, session_id: str | None = None) -> list[tuple[str, TurnRecord]]:
        """Stored turns with their session's persona, by session creation then turn; one session when given."""
        where, params = ("WHERE t.session_id = ?", (session_id,)) if session_id is not None else ("", ())
        columns = ", ".join(f"t.{c.strip()}" for c in _TURN_COLUMNS.split(","))
        with self._locked() as db:
            rows = db.execute(
                f"SELECT s.persona, {columns} FROM turns t JOIN sessions s ON s.id = t.session_id {where}"
                " ORDER BY s.created_at, t.session_id, t.turn_index",
                params,
            ).fetchall()
        return [(r[0], _turn_from_row(r[1:])) for r in rows]

    def session_summaries(self) -> list[SessionSummary]:
        """Every stored session, oldest first, with its number of turns and the time of its last turn."""
        with self._locked() as db:
            rows = db.execute(
                "SELECT s.id, s.persona, s.created_at, COUNT(t.turn_index), MAX(t.created_at) FROM sessions s"
                " LEFT JOIN turns t ON t.session_id = s.id GROUP BY s.id ORDER BY s.created_at, s.id"
            ).fetchall()
        return [SessionSummary(r[0], r[1], float(r[2]), int(r[3]), r[4]) for r in rows]

    def delete_older_than(self, cutoff: float) -> int:
        """Delete turns created before `cutoff` (Unix seconds) and what hangs on them; returns how many turns.

        Plans of deleted turns go with them. A summary is dropped when any turn it may cover is deleted (it
        quotes them); a session left without turns is dropped once it is itself older than the cutoff.
        """
        with self._locked() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "DELETE FROM plans WHERE EXISTS (SELECT 1 FROM turns t WHERE t.session_id = plans.session_id"
                    " AND t.turn_index = plans.turn_index AND t.created_at < ?)",
                    (cutoff,),
                )
                db.execute(
                    "DELETE FROM summaries WHERE session_id IN"
                    " (SELECT DISTINCT session_id FROM turns WHERE created_at < ?)",
                    (cutoff,),
                )
                deleted = db.execute("DELETE FROM turns WHERE created_at < ?", (cutoff,)).rowcount
                empty = "SELECT id FROM sessions WHERE created_at < ? AND id NOT IN (SELECT session_id FROM turns)"
                db.execute(f"DELETE FROM plans WHERE session_id IN ({empty})", (cutoff,))
                db.execute(f"DELETE FROM summaries WHERE session_id IN ({empty})", (cutoff,))
                db.execute(f"DELETE FROM sessions WHERE id IN ({empty})", (cutoff,))
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return deleted

    def next_turn_index(self, session_id: str) -> int:
        """The index the next turn of this session gets (0 for a new session)."""
        with self._locked() as db:
            row = db.execute("SELECT MAX(turn_index) FROM turns WHERE session_id = ?", (session_id,)).fetchone()
        return 0 if row[0] is None else row[0] + 1

    def summary(self, session_id: str) -> tuple[str, int]:
        """The session's running summary and how many turns (from the start) it covers; ("", 0) if none."""
        with self._locked() as db:
            row = db.execute(
                "SELECT summary, through_turn FROM summaries WHERE session_id = ?", (session_id,)
            ).fetchone()
        return (row[0], row[1]) if row else ("", 0)

    def set_summary(self, session_id: str, summary: str, through_turn: int) -> None:
        """Store the session's running summary, covering its first `through_turn` turns."""
        with self._locked() as db:
            db.execute(
                "INSERT INTO summaries (session_id, summary, through_turn, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(session_id) DO UPDATE SET summary = excluded.summary,"
                " through_turn = excluded.through_turn, updated_at = excluded.updated_at",
                (session_id, summary, through_turn, time.time()),
            )

    def add_plan(self, session_id: str, turn_index: int, plan: dict[str, Any]) -> None:
        """Store a turn's chain-of-empathy plan (event, cause, strategy, emotions, source) as JSON."""
        with self._locked() as db:
            db.execute(
                "INSERT OR REPLACE INTO plans (session_id, turn_index, plan) VALUES (?, ?, ?)",
                (session_id, turn_index, json.dumps(plan)),
            )

    def plans(self, session_id: str) -> dict[int, dict[str, Any]]:
        """The stored chain-of-empathy plans of a session, by turn index."""
        with self._locked() as db:
            rows = db.execute("SELECT turn_index, plan FROM plans WHERE session_id = ?", (session_id,)).fetchall()
        return {index: json.loads(plan) for index, plan in rows}

    def history(self, session_id: str, limit: int = 8) -> list[ChatMessage]:
        """The last `limit` turns as alternating user/assistant chat messages, oldest first, for LLM context."""
        with self._locked() as db:
            rows = db.execute(
                "SELECT user_text, reply_text FROM turns WHERE session_id = ? ORDER BY turn_index DESC LIMIT ?",
                (session_id, limit),
            ).fetchall()
        messages: list[ChatMessage] = []
        for user_text, reply_text in reversed(rows):
            if not user_text:
                continue
            messages.append(ChatMessage("user", user_text))
            if reply_text:
                messages.append(ChatMessage("assistant", reply_text))
        return messages


_TURN_COLUMNS = (
    "session_id, turn_index, input_kind, user_text, reply_text, cancelled, user_emotion, agent_emotion, timings,"
    " created_at"
)


def _insert_turn(db: sqlite3.Connection, turn: TurnRecord, index: int, created_at: float) -> None:
    """INSERT one turn row under `index` (add_turn and the retry-safe save_turn share it)."""
    db.execute(
        "INSERT INTO turns (session_id, turn_index, input_kind, user_text, user_emotion, agent_emotion,"
        " reply_text, cancelled, timings, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            turn.session_id,
            index,
            turn.input_kind,
            turn.user_text,
            _json_or_none(turn.user_emotion),
            _json_or_none(turn.agent_emotion),
            turn.reply_text,
            int(turn.cancelled),
            json.dumps(turn.timings),
            created_at,
        ),
    )


def _turn_from_row(r: tuple[Any, ...] | sqlite3.Row) -> TurnRecord:
    """A TurnRecord from a row selected as `_TURN_COLUMNS`."""
    return TurnRecord(
        session_id=r[0],
        turn_index=r[1],
        input_kind=r[2],
        user_text=r[3],
        reply_text=r[4],
        cancelled=bool(r[5]),
        user_emotion=json.loads(r[6]) if r[6] else None,
        agent_emotion=json.loads(r[7]) if r[7] else None,
        timings=json.loads(r[8]),
        created_at=r[9],
    )


def _json_or_none(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value)
