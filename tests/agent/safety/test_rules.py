import pytest

from agent.prompts import PromptError, PromptLibrary
from agent.safety import SafetyScreen, safety_emotion

HOTLINE = "Call the Samaritans on 116 123."


@pytest.fixture(scope="module")
def screen() -> SafetyScreen:
    return SafetyScreen(HOTLINE)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I want to kill myself.", "suicide"),
        ("Honestly I've been thinking about suicide a lot", "suicide"),
        ("I don't want to live anymore", "suicide"),
        ("Everyone would be better off if I ended it all. I want to end it all.", "suicide"),
        ("I just want to die", "suicide"),
        ("I’ve been cutting myself again", "self_harm"),
        ("sometimes i hurt myself when it gets bad", "self_harm"),
        ("My husband hits me when he drinks", "abuse"),
        ("I'm scared to go home, my dad threatened to hurt me", "abuse"),
        ("I think I'm having a heart attack, my chest hurts", "medical"),
        ("My friend took too many pills and won't wake up", "medical"),
        ("I can't breathe", "medical"),
    ],
)
def test_crisis_messages_get_the_scripted_reply_with_the_hotline(screen: SafetyScreen, text: str, category: str):
    verdict = screen.check(text)
    assert verdict is not None and verdict.category == category
    assert HOTLINE in verdict.response
    assert "$" not in verdict.response


@pytest.mark.parametrize(
    "text",
    [
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
    ],
)
def test_tricky_everyday_messages_pass(screen: SafetyScreen, text: str):
    assert screen.check(text) is None


def test_every_reply_carries_the_deployment_text(screen: SafetyScreen):
    for text in ("I want to kill myself", "I keep cutting myself", "my partner beats me", "call an ambulance"):
        verdict = screen.check(text)
        assert verdict is not None and HOTLINE in verdict.response


def test_safety_emotion_is_calm():
    emotion = safety_emotion()
    assert emotion.label == "neutral" and emotion.vad.arousal < 0 and emotion.vad.valence > 0


def test_a_broken_pattern_file_is_reported(tmp_path):
    (tmp_path / "safety_patterns.txt").write_text("danger: kill\n")
    (tmp_path / "safety_responses.txt").write_text(PromptLibrary().load("safety_responses"))
    with pytest.raises(PromptError, match="CATEGORY"):
        SafetyScreen(prompts=PromptLibrary(tmp_path))
