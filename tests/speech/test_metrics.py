import pytest

from speech.metrics import normalize_words, word_error_rate


def test_normalisation_matches_whisper_style_to_reference_style():
    assert normalize_words("And Mr. John, cold-hearted!") == ["and", "mister", "john", "cold", "hearted"]
    assert word_error_rate("and mister john dashwood", "And Mr. John Dashwood.") == 0.0


@pytest.mark.parametrize(
    ("reference", "hypothesis", "wer"),
    [
        ("a b c d", "a b c d", 0.0),
        ("a b c d", "a x c d", 0.25),  # substitution
        ("a b c d", "a c d", 0.25),  # deletion
        ("a b c d", "a b b c d", 0.25),  # insertion
        ("a b", "", 1.0),
        ("", "", 0.0),
        ("", "a", 1.0),
    ],
)
def test_word_error_rate(reference: str, hypothesis: str, wer: float):
    assert word_error_rate(reference, hypothesis) == pytest.approx(wer)
