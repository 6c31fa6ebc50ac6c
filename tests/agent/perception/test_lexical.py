from agent.perception.lexical import FEATURE_NAMES, LexicalCues


def test_negated_cue_counts_against_not_for():
    reading = LexicalCues().read("I'm not scared of it")
    assert reading.scores.get("fear", 0.0) == 0.0 and reading.negated["fear"] == 1.0


def test_not_happy_leans_sad_and_self_negating_cues_count():
    cues = LexicalCues()
    assert cues.read("I am not happy").scores["sadness"] > 0
    assert cues.read("honestly I'm not okay").scores["sadness"] == 1.0


def test_intensifier_weighs_more_and_hedges_are_counted():
    cues = LexicalCues()
    assert cues.read("so angry").scores["anger"] > cues.read("angry").scores["anger"]
    assert cues.read("a bit down").hedges == 1


def test_emoji_and_typography():
    cues = LexicalCues()
    assert cues.read("today 😭").scores["sadness"] == 1.0
    assert cues.read("WHAT is this!!").arousal_boost > cues.read("what is this").arousal_boost
    assert cues.read("where is it?").question


def test_features_have_a_fixed_length_and_empty_text_is_empty():
    cues = LexicalCues()
    assert len(cues.read("hello").features()) == len(FEATURE_NAMES)
    assert cues.read("  ").empty and not cues.read("🙂").empty


def test_negation_stays_in_its_clause():
    reading = LexicalCues().read("I'm not upset, I'm furious")
    assert reading.scores.get("anger", 0.0) == 1.0 and not reading.negated


def test_a_negated_verb_of_going_on_affirms_the_cue():
    for text in ("I can't stop worrying about it", "I couldn't help crying"):
        reading = LexicalCues().read(text)
        assert not reading.negated, text
        assert sum(reading.scores.values()) == 1.0, text


def test_couldnt_be_happier_is_joy_but_not_happy_is_not():
    assert LexicalCues().read("I couldn't be happier").scores.get("joy") == 1.0
    assert LexicalCues().read("I'm not happy").negated.get("joy") == 1.0
