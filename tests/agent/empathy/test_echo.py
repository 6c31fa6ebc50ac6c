"""The echo guard: the user's own message retold in the first person is not said; speaking to them is."""

from __future__ import annotations

import pytest

from agent.empathy.echo import as_theirs, echoes

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
        # Spoken to them, but with their roles swapped: what they told of claimed as the agent's (the default model).
        ("You borrowed my car and returned it with a dent.", "My sister borrowed my car and returned it with a dent."),
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
        ("My heart goes out to you and your family.", "My heart is broken, my family is falling apart."),
        ("I'm so sorry, my thoughts are with your sister.", "My sister is in hospital and my thoughts race."),
        ("Your car will be fixed, I'm sure, and my guess is the dent is small.", "Someone dented my car."),
    ],
)
def test_answering_them_is_not(sentence: str, user_text: str) -> None:
    assert not echoes(sentence, user_text)


@pytest.mark.parametrize(
    ("sentence", "user_text", "spoken"),
    [
        (
            "That made me feel sad and worried about my grandpa's memory.",
            "Grandpa's memory is slipping. Yesterday he called me by my mum's name.",
            "That made me feel sad and worried about your grandpa's memory.",
        ),
        (
            "I feel so sad, as if my birthday means more to them than to me.",
            "Nobody from my team remembered my birthday today.",
            "I feel so sad, as if your birthday means more to them than to me.",
        ),
        ("My sister sounds thoughtless.", "My sister borrowed my car.", "Your sister sounds thoughtless."),
        # The agent's own heart and thoughts, and sentences already spoken to them, stay as they are.
        ("My heart goes out to her.", "My heart is broken since my mother left.", "My heart goes out to her."),
        ("I'm sorry about your car, my friend.", "Someone dented my car.", "I'm sorry about your car, my friend."),
        ("I love my garden too.", "Someone dented my car.", "I love my garden too."),
        ("My name is Mira.", "Hi, my name is Sam.", "My name is Mira."),
    ],
)
def test_the_users_things_spoken_of_in_the_agents_voice_are_given_back(sentence, user_text, spoken) -> None:
    assert not echoes(sentence, user_text)
    assert as_theirs(sentence, user_text) == spoken
