"""`empathica export`: JSONL and CSV round trips from a real SQLite store, the session filter, failures."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from cli.main import main
from core.emotion import EmotionState
from storage.store import ConversationStore, TurnRecord

TRICKY = 'She said "no",\nthen left; naïve, isn\'t it?'
SAD = EmotionState.from_label("sadness", 0.5).to_dict()


@pytest.fixture()
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "conversations.sqlite3"
    monkeypatch.setenv("EMPATHICA_STORAGE_DATABASE", str(path))
    store = ConversationStore(path)
    for persona, session_id in (("Mira", "s-one"), ("Kai", "s-two")):
        store.create_session(persona, session_id)
        for index in range(2):
            store.add_turn(
                TurnRecord(
                    session_id=session_id,
                    turn_index=index,
                    input_kind="audio" if index else "text",
                    user_text=TRICKY if index == 0 else "fine",
                    reply_text=f"reply {index}, with a comma",
                    cancelled=index == 1,
                    user_emotion=SAD,
                    agent_emotion=None if index else EmotionState.from_label("neutral", 0.2).to_dict(),
                    timings={"asr": 12.5, "total": 900.0} if index else {"first_media": 400.0, "total": 800.0},
                    created_at=1_700_000_000.0 + index,
                )
            )
    store.close()
    return path


def test_jsonl_round_trip(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    keys = [(r["session_id"], r["turn_index"]) for r in rows]
    assert keys == [("s-one", 0), ("s-one", 1), ("s-two", 0), ("s-two", 1)]
    first = rows[0]
    assert first["persona"] == "Mira" and first["input_kind"] == "text" and first["user_text"] == TRICKY
    assert first["created_at"].startswith("2023-11-14T22:13:20")
    assert first["user_emotion"]["label"] == "sadness" and set(first["user_emotion"]["vad"]) == {
        "valence",
        "arousal",
        "dominance",
    }
    assert first["agent_emotion"]["label"] == "neutral" and rows[1]["agent_emotion"] is None
    assert rows[1]["cancelled"] is True and rows[1]["timings_ms"] == {"asr": 12.5, "total": 900.0}
    assert rows[2]["persona"] == "Kai"


def test_csv_round_trip_with_session_filter(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "turns.csv"
    assert main(["export", "--format", "csv", "--session", "s-two", "--out", str(out)]) == 0
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["session_id"], r["turn_index"]) for r in rows] == [("s-two", "0"), ("s-two", "1")]
    first, second = rows
    assert first["persona"] == "Kai" and first["user_text"] == TRICKY  # quotes, commas and newline survive
    assert first["user_label"] == "sadness" and float(first["user_intensity"]) == SAD["intensity"]
    assert float(first["user_valence"]) == SAD["vad"]["valence"]
    assert first["agent_label"] == "neutral" and second["agent_label"] == ""
    assert first["reply_text"] == "reply 0, with a comma" and (first["cancelled"], second["cancelled"]) == ("0", "1")
    # Timing columns: the known stages in pipeline order, each turn filling the ones it has.
    header = list(rows[0])
    assert header[-3:] == ["asr_ms", "first_media_ms", "total_ms"]
    assert (first["asr_ms"], first["first_media_ms"], second["asr_ms"]) == ("", "400.0", "12.5")


def test_csv_to_stdout_has_header(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 4 and rows[0]["session_id"] == "s-one"


def test_unknown_session_and_missing_database(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--session", "nope"]) == 1
    assert "nope" in capsys.readouterr().err
    monkeypatch.setenv("EMPATHICA_STORAGE_DATABASE", str(tmp_path / "absent.sqlite3"))
    assert main(["export"]) == 1
    assert "no conversation database" in capsys.readouterr().err
    assert not (tmp_path / "absent.sqlite3").exists()


def test_a_spoken_turns_voice_and_mismatch_are_exported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "voiced.sqlite3"
    monkeypatch.setenv("EMPATHICA_STORAGE_DATABASE", str(path))
    voice = {"vad": {"valence": -0.2, "arousal": 0.6, "dominance": 0.1}, "confidence": 0.55, "label": "fear"}
    store = ConversationStore(path)
    store.create_session("Mira", "s-v")
    store.add_turn(
        TurnRecord(
            session_id="s-v", turn_index=0, input_kind="audio", user_text="I'm fine", reply_text="ok",
            cancelled=False, user_emotion={**SAD, "voice": voice, "mismatch": True}, agent_emotion=None,
            timings={}, created_at=1_700_000_000.0,
        )
    )
    store.close()
    assert main(["export"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["user_emotion"]["voice"] == voice and row["user_emotion"]["mismatch"] is True
    assert main(["export", "--format", "csv"]) == 0
    flat = next(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert (flat["voice_arousal"], flat["voice_confidence"], flat["voice_mismatch"]) == ("0.6", "0.55", "1")
