import pytest

from agent.sentences import ReplyLength, SentenceSplitter, clean_for_speech, repeats, split_repeated_opening


def split(text: str, piece_size: int = 3) -> list[str]:
    """Feed `text` in small pieces, as an LLM streams it, and collect every sentence."""
    splitter = SentenceSplitter()
    sentences: list[str] = []
    for start in range(0, len(text), piece_size):
        sentences += splitter.feed(text[start : start + piece_size])
    return sentences + splitter.flush()


def test_splits_at_terminators_and_keeps_them():
    assert split("Hello there! How are you? I am fine. Good") == [
        "Hello there!",
        "How are you?",
        "I am fine.",
        "Good",
    ]


def test_sentence_released_as_soon_as_it_is_complete():
    splitter = SentenceSplitter()
    assert splitter.feed("I hear you") == []
    assert splitter.feed(". That") == ["I hear you."]
    assert splitter.flush() == ["That"]
    splitter = SentenceSplitter()
    assert splitter.feed("It is 3.") == []  # could still be "3.5": the next character decides
    assert splitter.feed("5 now. Or") == ["It is 3.5 now."]
    assert splitter.feed(" I hear you.") == []
    assert splitter.feed(" That") == ["Or I hear you."]
    assert splitter.flush() == ["That"]


def test_decimals_abbreviations_and_initials_do_not_split():
    assert split("It costs 3.5 dollars. Dr. Smith agreed, e.g. on Monday. J. R. R. Tolkien wrote it.") == [
        "It costs 3.5 dollars.",
        "Dr. Smith agreed, e.g. on Monday.",
        "J. R. R. Tolkien wrote it.",
    ]


def test_ellipsis_mid_sentence_continues_but_ends_before_capital():
    assert split("I was... well, thinking. It hurts… You know?") == [
        "I was... well, thinking.",
        "It hurts…",
        "You know?",
    ]


def test_semicolons_and_newlines_split():
    assert split("Take a breath; it helps.\nYou are not alone") == ["Take a breath;", "it helps.", "You are not alone"]


def test_long_sentence_split_at_a_comma_after_about_twenty_words():
    long = (
        "I hear you, and it makes sense that you feel this way, because losing someone you loved for so many "
        "years leaves a big hole in your days, and it takes time to heal."
    )
    parts = split(long)
    assert len(parts) == 2
    assert parts[0].endswith("days,")
    assert len(parts[0].split()) >= 20
    assert parts[1] == "and it takes time to heal."


def test_short_sentences_keep_their_commas():
    assert split("Oh, I see, that is hard.") == ["Oh, I see, that is hard."]


def test_markdown_and_emoji_are_stripped():
    text = "**Great news!** 🎉 Here is what to do:\n1. Breathe *slowly*.\n- Drink `water`.\nSee [this](http://x.y) 😊"
    assert split(text) == ["Great news!", "Here is what to do:", "Breathe slowly.", "Drink water.", "See this"]


def test_emoji_only_text_gives_nothing():
    assert split("🙂🙂 ") == []
    assert clean_for_speech("  ## ") == ""


def test_reply_length_admits_the_first_sentence_and_then_counts_words_and_sentences() -> None:
    words = ReplyLength(sentences=0, words=5)
    assert words.admits([], "This first sentence has seven words in it.")
    assert words.admits(["One two."], "Three four five.") and not words.admits(["One two."], "Three four five six.")
    sentences = ReplyLength(sentences=2)
    assert sentences.admits(["One."], "Two.") and not sentences.admits(["One.", "Two."], "Three.")
    assert ReplyLength().admits(["a"] * 50, "anything at all")


@pytest.mark.parametrize(
    ("sentence", "said"),
    [
        ("I'm so sorry.", "Oh, I'm so sorry."),  # only words already said
        ("Wow, that's wonderful!", "Oh, that's wonderful!"),  # another interjection
        ("Oh, I'm so sorry for your loss.", "Oh, I'm so sorry."),  # a short tail
        ("THAT sounds scary", "That sounds scary."),
    ],
)
def test_a_sentence_that_says_the_first_reaction_again_repeats_it(sentence: str, said: str):
    assert repeats(sentence, said)


@pytest.mark.parametrize(
    ("sentence", "said"),
    [
        ("I'm so sorry, and I hope the house feels less empty soon.", "Oh, I'm so sorry."),  # goes on
        ("That sounds frightening.", "That sounds scary."),
        ("It must hurt so much.", "Oh, I'm so sorry."),
        ("Oh!", "Oh, wow!"),
    ],
)
def test_a_sentence_that_says_something_new_does_not_repeat(sentence: str, said: str):
    assert not repeats(sentence, said)


@pytest.mark.parametrize(
    ("sentence", "opening", "rest"),
    [
        ("I'm sorry, I understand how frustrating that was.", "I'm sorry,", "I understand how frustrating that was."),
        (
            "I'm sorry, but it sounds like your grandma's illness is hard.",
            "I'm sorry, but",
            "It sounds like your grandma's illness is hard.",
        ),
        (
            "Oh, I'm sorry \u2014 losing him after fourteen years is hard.",
            "Oh, I'm sorry \u2014",
            "Losing him after fourteen years is hard.",
        ),
    ],
)
def test_an_opening_that_says_the_first_reaction_again_is_split_off(sentence: str, opening: str, rest: str):
    assert split_repeated_opening(sentence, ["I'm sorry."]) == (opening, rest)


@pytest.mark.parametrize(
    "sentence",
    [
        "I'm sorry about Biscuit, he sounds lovely.",  # the opening adds a detail
        "I'm so sorry to hear about your goldfish.",  # one clause
        "I'm sorry, truly.",  # too little follows: a repeat, for the chain to hold back whole
        "That's hard, I understand how frustrating that was.",  # the opening says something new
    ],
)
def test_an_opening_that_adds_something_is_kept(sentence: str):
    assert split_repeated_opening(sentence, ["I'm sorry."]) == ("", sentence)


def test_without_a_first_reaction_nothing_is_dropped():
    assert split_repeated_opening("I'm sorry, I understand.", []) == ("", "I'm sorry, I understand.")
