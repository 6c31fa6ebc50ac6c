"""The opening after a first reaction: the reaction, then "you" or one of the user's words (agent.empathy.opening)."""

from __future__ import annotations

import re

import pytest

from agent.empathy.echo import content_words
from agent.empathy.opening import opening_pattern, regex_literal

PROMOTED = "I just got promoted to senior nurse!"


@pytest.mark.parametrize(
    "response",
    [
        "Good news! Your promotion to senior nurse is well earned.",
        "Good news! You've worked hard for this.",
        "Good news! Senior nurse, that's a big step.",
        "Good news! Promoted already, well done!",
    ],
)
def test_the_reaction_then_you_or_their_word_fits(response: str) -> None:
    assert re.search(opening_pattern("Good news!", PROMOTED), response)


@pytest.mark.parametrize(
    "response",
    [
        "Good news! Congratulations!",  # a second stock reaction, nothing of theirs
        "Good news! I'm so happy for you.",
        "Congratulations on your promotion!",  # does not go on from the reaction
        "Good news!",
        "Good news! Just got promoted.",  # "just" is too common to lead into their news
        "Good news! You\nare great.",
    ],
)
def test_a_reply_that_does_not_go_on_to_them_does_not(response: str) -> None:
    assert not re.search(opening_pattern("Good news!", PROMOTED), response)


def test_the_reaction_is_matched_literally() -> None:
    said = "Really? Wow. (Well) [that's] a+b|c *new* $5 ^^ {x} back\\slash"
    assert re.fullmatch(regex_literal(said), said)
    assert not re.fullmatch(regex_literal("Really? Wow."), "Reall Wow!")
    # Only metacharacters are escaped: spaces, quotes and dashes stay as they are for every regex engine.
    assert regex_literal("That's well-earned, truly.") == "That's well-earned, truly\\."
    pattern = opening_pattern("Really?  Wow.", "My cat came home!")  # spacing as the voice said it is not kept
    assert re.search(pattern, "Really? Wow. Your cat is back.")


def test_the_users_words_are_their_content_words_in_order() -> None:
    assert content_words("My dog Biscuit died, and I keep looking at his empty bed; Biscuit's bowl too.") == [
        "dog",
        "biscuit",
        "died",
        "keep",
        "looking",
        "empty",
        "bed",
        "bowl",
    ]
    assert content_words("I am so sad.") == ["sad"]
