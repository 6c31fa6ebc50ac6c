"""The reply-craft rubric's detectors (benchmarks/craft_rubric.py) and its message set."""

from __future__ import annotations

import re

import pytest

from benchmarks.craft_rubric import (
    count_sentences,
    count_words,
    find_term,
    is_advice_list,
    judge,
    lecture_opener,
    lecturing,
    split_sentences,
)
from benchmarks.reply_craft import load_messages
from core.emotion import BASIC_EMOTIONS


@pytest.mark.parametrize(
    "reply",
    [
        "It's important to take care of yourself and your team.",
        "That hurts. But remember that one report doesn't define you.",
        "Consider how you can improve your work next time.",
        "I hear you. You should talk to your manager about it.",
        "I think you need to rest tonight.",
        "I'm sorry. You really need to work on your driving skills.",
        "So, make sure you eat something.",
        "It is essential to keep a routine.",
        "Don't forget to breathe.",
        "Keep in mind that everyone fails sometimes.",
        "You must have a talk with your boss.",
    ],
)
def test_lecturing_openers_are_caught(reply: str):
    assert lecture_opener(reply)
    assert lecturing(reply)
    assert judge(reply, ["report"], 3).lecturing


@pytest.mark.parametrize(
    "reply",
    [
        "Being torn apart in front of your whole team sounds humiliating.",
        "It's okay to feel hurt after that.",
        "I'm so sorry about Biscuit. Fourteen years is a whole life together.",
        "What would help you most right now?",
        "That must have been hard to remember.",  # "remember" not as the opener
        "You deserve to be heard.",
        "You must feel so proud!",  # an empathic guess, not an order
        "You must have missed out on so much.",  # "must have ...": a guess about the past
    ],
)
def test_listening_replies_do_not_lecture(reply: str):
    assert lecturing(reply) == ""


def test_advice_lists_are_lecturing_only_when_nobody_asked():
    listed = "Try going to bed at the same time. Avoid screens after ten."
    assert is_advice_list(listed)
    assert lecturing(listed) and not lecturing(listed, asked_for_advice=True)
    assert is_advice_list("Here are some tips for sleeping better.")
    assert is_advice_list("First, breathe slowly; second, write it down.")
    assert is_advice_list("- rest\n- drink water")
    # One gentle suggestion, or an invitation to say more, is not a list.
    assert not is_advice_list("That sounds exhausting. Try one slow breath with me.")
    assert not is_advice_list("Tell me more. Tell me what happened next.")


def test_terms_match_whole_words_with_endings_or_marked_prefixes():
    assert find_term("Your dogs were lucky.", ["dog"]) == "dog"
    assert find_term("He shook while shaking hands.", ["shak*"]) == "shak*"
    assert find_term("It was exciting!", ["ex"]) == ""  # "ex" is a whole word, not a prefix
    assert find_term("Your ex turned up?", ["ex"]) == "ex"
    assert find_term("That's particularly hard.", ["part"]) == ""
    assert find_term("Mum’s birthday", ["mum"]) == "mum"  # a typographic apostrophe
    assert find_term("in front of the whole team", ["boss", "in front of"]) == "in front of"


def test_feelings_are_named_or_reflected():
    assert judge("That sounds so frustrating.", [], 3).feeling
    assert judge("I'm sorry, that's really hard.", [], 3).feeling
    assert not judge("Tell me more about the bus.", [], 3).feeling
    assert judge("Tell me more about the bus.", [], 3, neutral=True).feeling  # optional at a neutral message


def test_sentences_and_words_are_counted_independently_of_the_chain():
    assert count_sentences("I'm sorry. That's hard! What happened?") == 3
    assert count_sentences("Dr. Lee said 3.5 weeks... and then nothing") == 1
    assert split_sentences("Wow!! Really? ok") == ["Wow!!", "Really?", "ok"]
    assert count_words("I'm so proud of you, it's huge.") == 7
    verdict = judge("One. Two. Three.", [], 2)
    assert verdict.sentences == 3 and verdict.over_length
    assert not judge("One. Two.", [], 2).over_length


def test_the_message_set_is_varied_and_its_details_come_from_the_messages():
    messages = load_messages()
    assert len(messages) >= 60
    assert len({m["id"] for m in messages}) == len(messages)
    emotions = {m["emotion"] for m in messages}
    assert emotions == set(BASIC_EMOTIONS)
    assert sum(m["emotion"] == "neutral" for m in messages) >= 10  # for the neutral-input valence
    for message in messages:
        assert 0.0 <= message["intensity"] <= 1.0
        # At least one listed detail is the user's own word (synonyms may stand beside it).
        text = message["text"]
        assert find_term(text, message["details"]), message["id"]
        assert not re.search(r"\b(ing|ed)\b", " ".join(message["details"]))


def test_a_short_run_spreads_over_the_set_and_an_out_file_reads_back(tmp_path):
    import json
    from dataclasses import asdict

    from benchmarks.reply_craft import Judged, read_results, spread

    messages = load_messages()
    short = spread(messages, 15)
    assert len(short) == 15 and short[0] == messages[0] and short[-1] != messages[14]
    assert len({m["emotion"] for m in short}) >= 6
    item = Judged("Kai", "grief-dog", "sadness", "I'm sorry about Biscuit.", "emotional_reaction", "model",
                  judge("I'm sorry about Biscuit.", ["biscuit"], 2), -0.1, -0.3, 12.0)
    path = tmp_path / "replies.jsonl"
    path.write_text(json.dumps(asdict(item)) + "\n")
    assert read_results(path) == {("Kai", "grief-dog"): item}
