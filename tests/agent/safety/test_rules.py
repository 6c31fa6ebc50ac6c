import pytest

from agent.prompts import PromptError, PromptLibrary
from agent.safety import SafetyScreen, safety_emotion
from agent.safety.rules import SafetyRules, normalise

HOTLINE = "Call the Samaritans on 116 123."


@pytest.fixture(scope="module")
def screen() -> SafetyScreen:
    return SafetyScreen(HOTLINE)  # no detector: the rules alone


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I want to kill myself.", "suicide"),
        ("Honestly I've been thinking about suicide a lot", "suicide"),
        ("I don't want to live anymore", "suicide"),
        ("Everyone would be better off if I ended it all. I want to end it all.", "suicide"),
        ("I just want to die", "suicide"),
        ("I can’t go on anymore", "suicide"),
        ("im gonna end it tonite", "suicide"),
        ("honestly wanna kms", "suicide"),
        ("i think about sucide alot", "suicide"),
        ("been feeling suicidel lately", "suicide"),
        ("thinking about unaliving myself", "suicide"),
        ("I’ve been cutting myself again", "self_harm"),
        ("sometimes i hurt myself when it gets bad", "self_harm"),
        ("sh urges are bad tonight", "self_harm"),
        ("i keep cuting my self", "self_harm"),
        ("my daughter has been cutting herself", "self_harm"),
        ("My husband hits me when he drinks", "abuse"),
        ("I'm scared to go home, my dad threatened to hurt me", "abuse"),
        ("my boyfriend always slaps me", "abuse"),
        ("I was sexually assaulted last year and nobody knows", "abuse"),
        ("I think I'm having a heart attack, my chest hurts", "medical"),
        ("My friend took too many pills and won't wake up", "medical"),
        ("I can't breathe", "medical"),
        ("cant breath help", "medical"),
        ("my freind od'd", "medical"),
    ],
)
def test_crisis_messages_get_the_scripted_reply_with_the_hotline(screen: SafetyScreen, text: str, category: str):
    verdict = screen.check(text)
    assert verdict is not None and verdict.category == category
    assert verdict.score == 1.0 and verdict.source == "rule"
    assert HOTLINE in verdict.response
    assert "$" not in verdict.response


IDIOMS = [
    "this traffic is killing me",
    "I could kill for a coffee",
    "my phone died",
    "I nearly died laughing at that film",
    "I'm dying to see the new exhibition",
    "I would die of embarrassment",
    "My boss is going to kill me if I'm late again",
    "The battery on my laptop died again",
    "I killed it at my presentation today!",
    "That cake was to die for",
    "I'm so tired of this job",
    "She nearly gave me a heart attack jumping out like that",
    "I cut myself shaving this morning",
    "I hurt myself at the gym yesterday",
    "Just cut myself a huge slice of cake",
    "My grandad beats me at chess every single time",
    "I'm taking a suicide prevention class for work",
    "We watched a documentary about domestic violence",
    "I can't breathe through my nose with this cold",
]


@pytest.mark.parametrize("text", IDIOMS)
def test_idioms_accidents_and_topics_do_not_trip_the_rules(screen: SafetyScreen, text: str):
    assert screen.check(text) is None


def test_normalise_drops_apostrophes_case_and_spacing():
    assert normalise("I  DON’T   want\tto") == "i dont want to"


def test_every_reply_carries_the_deployment_text(screen: SafetyScreen):
    for text in ("I want to kill myself", "I keep cutting myself", "my partner beats me", "call an ambulance"):
        verdict = screen.check(text)
        assert verdict is not None and HOTLINE in verdict.response


def test_without_a_detector_there_is_no_reading(screen: SafetyScreen):
    assert screen.read("I can't see a future") is None


def test_safety_emotion_is_calm():
    emotion = safety_emotion()
    assert emotion.label == "neutral" and emotion.vad.arousal < 0 and emotion.vad.valence > 0


def test_a_broken_pattern_file_is_reported(tmp_path):
    (tmp_path / "safety_patterns.txt").write_text("danger: kill\n")
    (tmp_path / "safety_responses.txt").write_text(PromptLibrary().load("safety_responses"))
    with pytest.raises(PromptError, match="CATEGORY"):
        SafetyScreen(prompts=PromptLibrary(tmp_path))


def test_a_bad_regex_and_an_empty_rule_file_are_reported(tmp_path):
    (tmp_path / "bad.txt").write_text("suicide: (unclosed\n")
    with pytest.raises(PromptError, match="bad regex"):
        SafetyRules(PromptLibrary(tmp_path), "bad")
    (tmp_path / "empty.txt").write_text("# nothing\nignore: foo\n")
    with pytest.raises(PromptError, match="no rules"):
        SafetyRules(PromptLibrary(tmp_path), "empty")
