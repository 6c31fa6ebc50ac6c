"""`empathica sessions`: the stored sessions from a real SQLite store, one line each."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main
from storage.store import ConversationStore, TurnRecord


def test_lists_sessions_with_turn_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    path = tmp_path / "conversations.sqlite3"
    monkeypatch.setenv("EMPATHICA_STORAGE_DATABASE", str(path))
    store = ConversationStore(path)
    store.create_session("Mira", "s-one")
    store.create_session("Kai", "s-two")
    for index in range(3):
        store.add_turn(TurnRecord("s-one", index, "text", "hi", "hello", created_at=1_700_000_000.0 + index))
    store.close()
    assert main(["sessions"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["session", "persona", "started", "(UTC)", "turns", "last", "turn", "(UTC)"]
    assert lines[1].split()[:2] == ["s-one", "Mira"] and lines[1].split()[4] == "3"
    assert lines[1].endswith("2023-11-14 22:13:22")
    assert lines[2].split()[:2] == ["s-two", "Kai"] and lines[2].split()[4:] == ["0", "-"]


def test_no_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("EMPATHICA_STORAGE_DATABASE", str(tmp_path / "absent.sqlite3"))
    assert main(["sessions"]) == 1
    assert "no conversation database" in capsys.readouterr().err
