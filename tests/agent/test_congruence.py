"""The congruence check with the live text perceiver: warmth at grief is spoken, cheer at grief is not."""

from __future__ import annotations

import io

import pytest

from agent.congruence import CheerMarkers, CongruenceCheck
from agent.perception import TextPerception
from compose.engines import load_perception
from core.emotion import EmotionState

pytestmark = pytest.mark.models

GRIEF = "My dog Biscuit died this morning and I can't stop crying."
FEAR = "I'm so nervous about giving my speech at my brother's wedding, I feel sick."


@pytest.fixture(scope="module")
def live() -> TextPerception:
    perception = load_perception(io.StringIO())
    assert isinstance(perception, TextPerception)
    return perception


@pytest.fixture(scope="module")
def check(live: TextPerception) -> CongruenceCheck:
    return CongruenceCheck(live.perceive)


@pytest.fixture(scope="module")
def users(live: TextPerception) -> dict[str, EmotionState]:
    read = {"grief": live.perceive(GRIEF), "fear": live.perceive(FEAR)}
    assert (read["grief"].label, read["fear"].label) == ("sadness", "fear")
    return read


# Kind things a counsellor says at grief or fear; the perceiver reads most of them as joy (caring, gratitude and
# hope are in GoEmotions' joy) or, for the question, surprise.
WARM = [
    "I'm glad you told me about Biscuit.",
    "He sounds like he was a wonderful friend.",
    "I hope things get better soon.",
    "You're doing the best you can.",
    "What was your favourite thing about him?",
]
CHEER = [
    "Yay! Great news.",
    "That's great!",
    "Haha, that's hilarious.",
    "Congratulations, how exciting.",
    "Cheer up, it'll all be fun again soon.",
]


@pytest.mark.parametrize("sentence", WARM)
@pytest.mark.parametrize("user", ["grief", "fear"])
def test_warm_words_at_distress_are_spoken(
    check: CongruenceCheck, live: TextPerception, users: dict[str, EmotionState], user: str, sentence: str
) -> None:
    if WARM.index(sentence) < 4:  # the case this guards: the perceiver does read these as joy
        assert live.perceive(sentence).label == "joy"
    assert check.contradiction(sentence, users[user]) is None


@pytest.mark.parametrize("sentence", CHEER)
@pytest.mark.parametrize("user", ["grief", "fear"])
def test_cheer_at_distress_is_a_contradiction(
    check: CongruenceCheck, users: dict[str, EmotionState], user: str, sentence: str
) -> None:
    found = check.contradiction(sentence, users[user])
    assert found is not None and found.label in {"joy", "surprise"} and found.probability >= 0.55


def test_distress_at_joy_needs_no_marker(check: CongruenceCheck, live: TextPerception) -> None:
    joy = live.perceive("I got the job, I start on Monday and I'm so happy!")
    assert joy.label == "joy"
    assert check.contradiction("That's terrifying, I'd be scared to death.", joy) is not None


def test_cheer_markers() -> None:
    markers = CheerMarkers()
    assert markers.cheers("You did it!") and markers.cheers("Well, good for you.")
    assert markers.cheers("Look on the bright side.") and markers.cheers("That\u2019s great.")
    assert markers.cheers('"Hooray!"')
    assert not markers.cheers("I'm glad you told me.") and not markers.cheers("How are you feeling about it?")
    assert not markers.cheers("It's been a funeral kind of week.")  # "fun" is a word, not a prefix
