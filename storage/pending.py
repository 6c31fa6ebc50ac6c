"""Turns that could not be written yet (database locked, disk full): kept, retried, never lost.

Every finished turn goes through `PendingTurns.save`. When the database refuses the write, the turn stays in
memory, in order, and is also appended to a journal file next to the database (when that file can be written:
a full disk may refuse it too). Each later save, and the server's periodic `flush`, first retries what is
waiting; the journal is replayed at start-up, so a server stopped while the database was locked loses nothing.
Writes are idempotent (`ConversationStore.save_turn`), so a retry never stores a turn twice.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from storage.store import ConversationStore, TurnRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingTurn:
    """One turn waiting to be written: the record, its session's persona, its plan, and the hash of the session's
    resume secret (stored with the session's first turn)."""

    record: TurnRecord
    persona: str
    plan: dict[str, Any] | None = None
    secret_hash: str | None = None

    def to_json(self) -> str:
        """One journal line."""
        return json.dumps(
            {"record": asdict(self.record), "persona": self.persona, "plan": self.plan, "secret_hash": self.secret_hash}
        )

    @classmethod
    def from_json(cls, line: str) -> PendingTurn:
        """Parse a journal line written by `to_json` (lines from before resume secrets have no hash)."""
        data = json.loads(line)
        record = TurnRecord(**data["record"])
        return cls(record=record, persona=data["persona"], plan=data["plan"], secret_hash=data.get("secret_hash"))


@dataclass(frozen=True)
class SaveResult:
    """What happened to a save: `written` is whether this turn is in the database now; `error` why not."""

    written: bool
    waiting: int  # turns still waiting to be written, this one included when not written
    error: str = ""


class PendingTurns:
    """Writes turns to `store`, keeping the ones it cannot write yet (see the module docstring).

    Thread-safe: saves come from the pipeline and flushes from the server's periodic retry.
    """

    def __init__(self, store: ConversationStore, journal: Path | None = None) -> None:
        self.store = store
        self.journal = journal
        self._waiting: list[PendingTurn] = []
        self._journaled = 0  # how many of the first waiting turns are already in the journal file
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        """How many turns are waiting to be written."""
        with self._lock:
            return len(self._waiting)

    def save(self, turn: PendingTurn) -> SaveResult:
        """Write the turns that were waiting, then `turn`; whatever fails is kept for the next try."""
        with self._lock:
            self._waiting.append(turn)
            error = self._flush_locked()
            written = all(waiting is not turn for waiting in self._waiting)
            return SaveResult(written=written, waiting=len(self._waiting), error=error)

    def flush(self) -> SaveResult:
        """Retry the waiting turns (the periodic retry and shutdown call this)."""
        with self._lock:
            error = self._flush_locked()
            return SaveResult(written=not self._waiting, waiting=len(self._waiting), error=error)

    def replay(self) -> int:
        """Load the journal left by an earlier run and write what it holds; returns how many turns it held."""
        if self.journal is None or not self.journal.is_file():
            return 0
        turns: list[PendingTurn] = []
        for number, line in enumerate(self.journal.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                turns.append(PendingTurn.from_json(line))
            except (ValueError, KeyError, TypeError):  # a line cut short by a crash or a full disk
                log.warning("skipping unreadable line %d of the pending-turns journal %s", number, self.journal)
        with self._lock:
            self._waiting[:0] = turns
            self._journaled = len(turns)  # they are in the file already
            error = self._flush_locked()
        if turns:
            log.info("replayed %d pending turn(s) from %s; %d still waiting %s", len(turns), self.journal,
                     self.waiting, error)
        return len(turns)

    def _flush_locked(self) -> str:
        """Write waiting turns in order until one fails; returns the failure ("" when all were written)."""
        error = ""
        while self._waiting:
            turn = self._waiting[0]
            try:
                self.store.save_turn(turn.record, turn.persona, turn.plan, secret_hash=turn.secret_hash)
            except Exception as exc:  # sqlite3.OperationalError (locked, full), OSError: keep it, try later
                error = f"{type(exc).__name__}: {exc}"
                break
            self._waiting.pop(0)
            self._journaled = max(0, self._journaled - 1)
        if self._waiting:
            self._journal_new()
        else:
            self._clear_journal()
        return error

    def _journal_new(self) -> None:
        if self.journal is None or self._journaled >= len(self._waiting):
            return
        lines = "".join(t.to_json() + "\n" for t in self._waiting[self._journaled :])
        try:
            with self.journal.open("a", encoding="utf-8") as f:
                f.write(lines)
                f.flush()
        except OSError as exc:  # the disk is full here too: memory is all there is until it clears
            log.warning("cannot write the pending-turns journal %s (%s); %d turn(s) are kept in memory",
                        self.journal, exc, len(self._waiting))
            return
        self._journaled = len(self._waiting)

    def _clear_journal(self) -> None:
        self._journaled = 0
        if self.journal is not None and self.journal.exists():
            try:
                self.journal.unlink()
            except OSError as exc:  # harmless: replaying it later is idempotent
                log.warning("cannot remove the pending-turns journal %s: %s", self.journal, exc)


def journal_path(database: Path) -> Path:
    """Where the pending-turns journal of `database` lives: beside it, `<name>.pending.jsonl`."""
    return database.with_name(database.name + ".pending.jsonl")
