import pytest

from speech.tts.timeline import PAUSE, clean_alignment, estimate_alignment, to_phonemes

# Piper's alignment of "Hello, my" (^ and $ mark the sentence start and end).
HELLO = [
    ("^", 768), ("h", 1024), ("ə", 1280), ("l", 1536), ("ˈ", 1792), ("o", 1536), ("ʊ", 768),
    (",", 3072), (" ", 3328), ("m", 768), ("a", 1280), ("ɪ", 768), ("$", 768),
]  # fmt: skip


def test_clean_alignment_keeps_only_sounds_and_pauses():
    cleaned = clean_alignment(HELLO)
    assert [s for s, _ in cleaned] == [PAUSE, "h", "ə", "l", "o", "ʊ", PAUSE, "m", "a", "ɪ", PAUSE]
    assert sum(n for _, n in cleaned) == sum(n for _, n in HELLO)
    assert dict(cleaned[3:5]) == {"l": 1536, "o": 1792 + 1536}  # the stress mark's time goes to the next sound
    assert cleaned[6] == (PAUSE, 3072 + 3328)  # comma and the space after it are one pause


def test_length_marks_join_the_previous_sound_and_spaces_split_between_words():
    cleaned = clean_alignment([("^", 100), ("j", 10), ("u", 20), ("ː", 30), (" ", 41), ("ˈ", 5), ("b", 7), ("$", 9)])
    assert cleaned == [(PAUSE, 100), ("j", 10), ("uː", 20 + 30 + 20), ("b", 21 + 5 + 7), (PAUSE, 9)]


def test_no_zero_length_entries_and_leading_modifiers_are_kept():
    cleaned = clean_alignment([("ˈ", 4), ("ː", 3), ("a", 0), ("b", 5), (".", 0), ("!", 0)])
    assert cleaned == [("a", 7), ("b", 5)]
    assert clean_alignment([(" ", 10)]) == [(PAUSE, 10)]
    assert clean_alignment([]) == []


def test_estimate_alignment_sums_exactly_and_makes_vowels_longer():
    symbols = ["^", "h", "ə", "l", "ˈ", "o", "ʊ", ",", " ", "m", "a", "ɪ", "$"]
    estimate = estimate_alignment(symbols, 22050)
    assert [s for s, _ in estimate] == symbols
    assert sum(n for _, n in estimate) == 22050
    counts = dict(estimate)
    assert counts["a"] > counts["m"]
    assert counts[","] > counts["a"]
    assert counts["ˈ"] == 0
    assert estimate_alignment([], 100) == [(PAUSE, 100)]


def test_to_phonemes_is_contiguous_from_the_start_sample():
    phonemes = to_phonemes([("a", 100), ("b", 50)], sample_rate=100, start_sample=50)
    assert [(p.symbol, p.start, p.end) for p in phonemes] == [("a", 0.5, 1.5), ("b", 1.5, 2.0)]
    assert phonemes[0].end == pytest.approx(phonemes[1].start)
