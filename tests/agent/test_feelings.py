"""The feeling words of the per-turn note, shared by the plain responder and the chain of empathy."""

import pytest

from agent.feelings import FeelingWords
from agent.prompts import PromptError, PromptLibrary


def test_a_user_is_described_with_a_degree_and_a_neutral_one_without():
    words = FeelingWords(PromptLibrary())
    assert words.user("sadness", 0.2) == "a little sad"
    assert words.user("sadness", 0.5) == "quite sad"
    assert words.user("fear", 0.9) == "very afraid or worried"
    neutral = words.user("neutral", 0.9)
    assert "calm" not in neutral and not neutral.startswith(("a little", "quite", "very"))
    assert words.reply("sadness") == "gentle, compassionate softness"


def test_a_missing_entry_names_the_line_to_add(tmp_path):
    (tmp_path / "feelings_sparse.txt").write_text("user.joy = happy\n", encoding="utf-8")
    words = FeelingWords(PromptLibrary(tmp_path), "feelings_sparse")
    with pytest.raises(PromptError, match=r"reply\.joy = \.\.\."):
        words.reply("joy")
