"""The corpus loaders on small files written for these tests in each corpus's format (not copies of the data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from research.dialogues import DialogueError
from research.formats import FORMATS, load_corpus, mapping

FIXTURES = Path(__file__).with_name("fixtures")


def test_empathetic_dialogues_csv():
    dialogues = load_corpus("ed", FIXTURES / "ed.csv")
    assert [d.id for d in dialogues] == ["hit:1_conv:2", "hit:3_conv:7"]
    first = dialogues[0]
    assert first.situation == "My little brother finished his first marathon last weekend."
    assert first.meta == {"ed_emotion": "proud"} and first.topic == "proud"
    assert [t.user_emotion for t in first.turns] == ["joy", None]  # the label belongs to the situation's telling
    assert first.turns[0].user == "My brother ran his first marathon on Sunday, and he finished it!"
    assert first.turns[0].reply == "That is fantastic! How long did it take him?"
    assert first.turns[1].reply == "All winter? You must be really proud of him."
    second = dialogues[1]
    assert second.turns[0].user_emotion == "fear" and second.turns[-1].reply is None  # the speaker spoke last


def test_the_ed_mapping_covers_its_32_emotions():
    table = mapping("ed")
    assert len(table) == 32 and set(table.values()) <= {
        "anger",
        "disgust",
        "fear",
        "joy",
        "neutral",
        "sadness",
        "surprise",
    }


def test_esconv_json_keeps_strategies_and_fields():
    dialogues = load_corpus("esconv", FIXTURES / "esconv.json")
    first = dialogues[0]
    assert first.id == "esconv-1" and first.topic == "job crisis"
    assert first.situation == "I might lose my position when the company merges."
    assert first.meta["emotion_type"] == "anxiety" and first.meta["opening"] == ["Hi, how are you today?"]
    assert first.turns[0].user == "Not great. My company is merging and I may be let go."
    assert first.turns[0].user_emotion == "fear"
    assert first.turns[0].reply == "That sounds really stressful. When will you know more?"
    assert first.turns[0].strategy == "Reflection of feelings; Question"
    assert first.turns[1].strategy == "Providing Suggestions" and first.turns[1].user_emotion is None
    assert dialogues[1].turns[0].user_emotion == "sadness"  # shame
    assert dialogues[1].turns[-1].reply is None


def test_meld_csv_labels_every_utterance():
    dialogues = load_corpus("meld", FIXTURES / "meld.csv")
    assert [d.id for d in dialogues] == ["meld-0", "meld-1"]
    assert [t.user_emotion for t in dialogues[1].turns] == ["disgust", "fear", "anger"]
    assert dialogues[0].turns[1].meta["Speaker"] == "Lee" and dialogues[0].turns[1].meta["Sentiment"] == "positive"


def test_goemotions_tsv_maps_to_ekman_and_leaves_mixed_labels_unlabelled():
    dialogues = load_corpus("goemotions", FIXTURES / "goemotions.tsv")
    assert [d.turns[0].user_emotion for d in dialogues] == ["joy", None, "neutral", "sadness"]
    assert dialogues[1].meta == {"goemotions": ["annoyance", "surprise"]}


def test_bad_files_name_the_problem(tmp_path):
    with pytest.raises(DialogueError, match="no such dialogue file"):
        load_corpus("ed", tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(DialogueError, match="not an EmpatheticDialogues CSV"):
        load_corpus("ed", bad)
    with pytest.raises(DialogueError, match="not a MELD CSV"):
        load_corpus("meld", bad)
    tsv = tmp_path / "bad.tsv"
    tsv.write_text("text\t99\tid1\n")
    with pytest.raises(DialogueError, match=r"bad\.tsv:1"):
        load_corpus("goemotions", tsv)
    with pytest.raises(DialogueError, match="choose from"):
        load_corpus("csv", bad)
    assert FORMATS == ("jsonl", "ed", "esconv", "meld", "goemotions")


def test_jsonl_keeps_situation_strategy_and_meta(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(
        '{"id": "a", "situation": "s", "meta": {"source": "x"}, "turns": [{"user": "hi", "strategy": "Question",'
        ' "meta": {"k": 1}}]}\n'
    )
    dialogue = load_corpus("jsonl", path)[0]
    assert dialogue.situation == "s" and dialogue.meta == {"source": "x"}
    assert dialogue.turns[0].strategy == "Question" and dialogue.turns[0].meta == {"k": 1}
