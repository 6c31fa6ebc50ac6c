"""The echo guard: the user's own message retold in the first person is not said; speaking to them is."""

from __future__ import annotations

import pytest

from agent.empathy.echo import echoes

LUNCH = "I had leftover lasagna for lunch and then went for a walk."
SHOP = "I went to the supermarket and they'd moved everything around"


@pytest.mark.parametrize(
    ("sentence", "user_text"),
    [
        ("I had leftover lasagna for lunch and then went for a walk.", LUNCH),
        ("After having leftover lasagna for lunch, I went for a walk to get some fresh air.", LUNCH),
        ("As I walked through the supermarket, everything felt so different.", SHOP),
        ("I love seeing my tomato plants thrive!", "I repotted my tomato plants this afternoon."),
        ("As you mentioned, I went to the supermarket and everything was moved around.", SHOP),
        ("Like you said, I had leftover lasagna for lunch.", LUNCH),
    ],
)
def test_the_users_words_in_the_agents_mouth_are_an_echo(sentence: str, user_text: str) -> None:
    assert echoes(sentence, user_text)


@pytest.mark.parametrize(
    ("sentence", "user_text"),
    [
        ("I'm glad you went to the supermarket.", SHOP),  # spoken to them
        ("You had leftover lasagna and then a walk, lovely.", LUNCH),  # no first person
        ("I'm so sorry about your grandmother.", "My grandmother died last night."),
        ("I hope the soup turns out well.", "I'm thinking of making soup tonight, maybe with lentils."),  # one word
        ("Sunday is a great day for me.", "It was a good Sunday."),
        ("As you mentioned, your supermarket moved everything; I'd find that confusing too.", SHOP),
        ("As you said, I went to the supermarket too, and they'd moved everything for you.", SHOP),
    ],
)
def test_answering_them_is_not(sentence: str, user_text: str) -> None:
    assert not echoes(sentence, user_text)
