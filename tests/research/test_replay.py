"""`empathica replay`: a stored session re-run as another persona and compared turn by turn (scripted model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main
from compose.config import load_config
from core.emotion import EmotionState
from research.replay import run_replay, word_overlap
from storage.store import ConversationStore, TurnRecord

SAD = EmotionState.from_label("sadness", 0.6).to_dict()
CALM = EmotionState.from_label("neutral", 0.2).to_dict()


def make_store(path: Path) -> None:
    store = ConversationStore(path)
    store.create_session("Mira", session_id="s1")
    said = [
        ("My cat died and I am so sad.", "I'm so sorry about your cat."),
        ("", ""),  # an utterance nobody could transcribe: nothing to replay
        ("I keep seeing her bowl.", "Those little reminders hurt."),
    ]
    for index, (user, reply) in enumerate(said):
        store.add_turn(
            TurnRecord(
                "s1", index, "text", user, reply, user_emotion=SAD, agent_emotion=CALM, timings={"total": 4200.0}
            )
        )
    store.add_plan("s1", 0, {"strategy": "emotional_reaction", "source": "model", "reply_emotion": "sadness"})
    store.close()


def test_word_overlap_is_jaccard_of_word_sets():
    assert word_overlap("I am here", "here I am!") == 1.0
    assert word_overlap("I am here", "you are here") == 0.2  # {here} of {i, am, here, you, are}
    assert word_overlap("", "") == 0.0


def test_replay_compares_each_turn_with_the_original(tmp_path, agent, plan_model):
    database = tmp_path / "conversations.sqlite3"
    make_store(database)
    config = load_config(environ={"EMPATHICA_STORAGE_DATABASE": str(database)})
    out = tmp_path / "replay"
    assert run_replay(config, "s1", "kai", out, agent=agent) == 0
    data = json.loads((out / "replay.json").read_text())
    summary, turns = data["summary"], data["turns"]
    assert (summary["original_persona"], summary["persona"], summary["lens"], summary["turns"]) == (
        "Mira",
        "Kai",
        "reality",
        2,
    )
    assert [t["index"] for t in turns] == [0, 2]
    first = turns[0]
    assert first["original_reply"] == "I'm so sorry about your cat."
    assert first["replayed_reply"] == "That sounds really hard. I am here with you."
    assert (first["original_strategy"], first["replayed_strategy"]) == ("emotional_reaction", "interpretation")
    assert first["original_user_emotion"] == "sadness" and first["original_agent_emotion"] == "neutral"
    assert first["original_total_ms"] == 4200.0 and first["replayed_source"] == "model"
    assert first["word_overlap"] == word_overlap(first["original_reply"], first["replayed_reply"])
    assert summary["replayed_strategy_mix"]["interpretation"] == 1.0
    assert summary["original_strategy_mix"]["emotional_reaction"] == 1.0
    # The replayed agent heard the user's stored words and its own replayed reply as history, with Kai's lens.
    last = plan_model.calls[-1]
    assert "reality therapy" in last[0].content
    assert [m.content for m in last[1:3]] == ["My cat died and I am so sad.", first["replayed_reply"]]
    markdown = (out / "replay.md").read_text()
    assert "replayed as **Kai** (reality lens)" in markdown and "## Turn 3" in markdown


def test_replay_explains_a_missing_store_or_session(tmp_path, capsys):
    database = tmp_path / "none.sqlite3"
    environ = {"EMPATHICA_STORAGE_DATABASE": str(database)}
    assert run_replay(load_config(environ=environ), "s1", "kai", tmp_path / "out") == 2
    assert "no conversation store" in capsys.readouterr().err and not database.exists()
    make_store(database)
    config_file = tmp_path / "config.toml"
    config_file.write_text(f'[storage]\ndatabase = "{database}"\n')
    assert main(["--config", str(config_file), "replay", "nope", "--persona", "kai", "--out", str(tmp_path)]) == 2
    assert "no session 'nope'" in capsys.readouterr().err


@pytest.mark.models
def test_replay_with_a_real_model_exits_cleanly(tmp_path):
    """The command in its own process: the report is written and the process ends without a native abort
    (llama.cpp's threads are joined before the interpreter exits; research/release.py)."""
    import os
    import subprocess
    import sys

    db = tmp_path / "c.sqlite3"
    store = ConversationStore(db)
    store.create_session("Mira", "demo")
    store.add_turn(TurnRecord("demo", 0, "text", "I lost my job today.", "I'm sorry.", created_at=1.0))
    store.close()
    env = {**os.environ, "EMPATHICA_STORAGE_DATABASE": str(db), "EMPATHICA_LLM_THREADS": "2"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.main",
            "replay",
            "demo",
            "--persona",
            "Kai",
            "--model",
            "smollm2-135m",
            "--out",
            str(tmp_path / "out"),
        ],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "FATAL" not in done.stderr and (tmp_path / "out" / "replay.json").is_file()
