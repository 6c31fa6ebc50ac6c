"""Cutting a stored reply to what the listener heard before interrupting it."""

from __future__ import annotations

from server.turn.played import ReplyTimeline


def timeline() -> ReplyTimeline:
    t = ReplyTimeline()
    t.add("I am sorry to hear that.", 2.0)  # [0, 2)
    t.add("Do you want to talk about it?", 3.0)  # [2, 5)
    return t


def test_duration_is_the_sum_of_the_sentences() -> None:
    assert timeline().duration == 5.0
    assert ReplyTimeline().duration == 0.0


def test_whole_sentences_heard() -> None:
    assert timeline().text_until(2.0) == "I am sorry to hear that."
    assert timeline().text_until(9.0) == "I am sorry to hear that. Do you want to talk about it?"


def test_nothing_heard() -> None:
    assert timeline().text_until(0.0) == ""
    assert timeline().text_until(0.05) == ""  # not even the first word was finished


def test_a_sentence_cut_in_the_middle_keeps_the_words_already_spoken() -> None:
    # 1.5 s of the 3 s sentence: half its 29 characters; "to" ends at character 14, "talk" at 19.
    assert timeline().text_until(3.5) == "I am sorry to hear that. Do you want to…"
