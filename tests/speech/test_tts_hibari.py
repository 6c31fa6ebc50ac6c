import itertools

import numpy as np
import pytest

from core.emotion import NEUTRAL, EmotionState
from core.media import Speech
from core.provision import ModelError
from speech.tts.hibari import HibariSynthesizer
from speech.tts.timeline import PAUSE

pytestmark = pytest.mark.models

VOWELS = set("aeiouæɐɑɒɔəɚɛɜɝɪʊʌ")


def _check_timeline(speech: Speech) -> None:
    phonemes = speech.phonemes
    assert phonemes, "no phoneme timeline"
    assert phonemes[0].start == pytest.approx(0.0, abs=0.05)
    assert phonemes[-1].end == pytest.approx(speech.duration, abs=0.05)
    for before, after in itertools.pairwise(phonemes):
        assert before.end == pytest.approx(after.start, abs=1e-9)
    assert all(p.end > p.start for p in phonemes)
    for p in phonemes:  # IPA sounds, not misaki's capital-letter diphthongs, stress marks or punctuation
        assert p.symbol == PAUSE or (p.symbol[0].isalpha() and not set(p.symbol) & set("AIOQWYTˈˌ ")), p


def test_voice_uses_its_own_phoneme_durations(hibari_heart):
    assert hibari_heart.uses_model_durations
    assert hibari_heart.sample_rate == 24000


def test_timeline_covers_the_audio_with_bilabials_where_the_lips_close(hibari_heart):
    speech = hibari_heart.synthesize("Maybe my mum can pop by in the morning.", NEUTRAL)
    assert speech.pcm.dtype == np.int16 and 1.0 < speech.duration < 5.0
    _check_timeline(speech)
    symbols = [p.symbol for p in speech.phonemes]
    assert sum(s in {"m", "p", "b"} for s in symbols) >= 6
    assert "eɪ" in symbols and "aɪ" in symbols  # misaki's A and I, in IPA
    assert symbols[0] == PAUSE and symbols[-1] == PAUSE


def test_timeline_matches_the_sound(hibari_heart):
    speech = hibari_heart.synthesize("Hello there, how are you doing today?", NEUTRAL)
    rate = speech.sample_rate

    def rms(p):
        segment = speech.pcm[int(p.start * rate) : int(p.end * rate)].astype(np.float64)
        return float(np.sqrt(np.mean(segment**2)))

    vowels = [rms(p) for p in speech.phonemes if p.symbol[0] in VOWELS]
    pauses = [rms(p) for p in speech.phonemes if p.symbol == PAUSE]
    assert np.mean(pauses) < 0.3 * np.mean(vowels)


@pytest.mark.parametrize("label", ["joy", "sadness", "anger"])
def test_emotional_speech_keeps_an_exact_timeline(hibari_heart, label):
    _check_timeline(hibari_heart.synthesize("I hear you. That sounds hard!", EmotionState.from_label(label, 1.0)))


def test_empty_text_is_silence(hibari_heart):
    assert hibari_heart.synthesize("", NEUTRAL).duration == 0.0


def test_missing_model_says_what_to_do(tmp_path):
    with pytest.raises(ModelError, match="hibari-tts"):
        HibariSynthesizer(tmp_path / "nope.onnx")
