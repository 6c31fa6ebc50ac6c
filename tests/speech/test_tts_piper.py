import itertools
from pathlib import Path

import numpy as np
import pytest

from core.emotion import NEUTRAL, EmotionState
from core.media import Speech
from core.provision import ModelError, model_dir
from speech.tts.piper import PiperSynthesizer
from speech.tts.timeline import PAUSE

pytestmark = pytest.mark.models

VOWELS = set("aeiouæɐɑɒɔəɚɛɜɝɪʊʌ")
BILABIALS = {"m", "p", "b"}


def _check_timeline(speech: Speech) -> None:
    phonemes = speech.phonemes
    assert phonemes, "no phoneme timeline"
    assert phonemes[0].start == pytest.approx(0.0, abs=0.05)
    assert phonemes[-1].end == pytest.approx(speech.duration, abs=0.05)
    for before, after in itertools.pairwise(phonemes):
        assert before.end == pytest.approx(after.start, abs=1e-9)  # contiguous
    assert all(p.end > p.start for p in phonemes)  # monotonic, no zero-length entries
    for p in phonemes:
        assert p.symbol == PAUSE or not ({"ˈ", "ˌ", " "} & set(p.symbol)), p
        assert p.symbol == PAUSE or p.symbol[0].isalpha(), p  # a sound, not punctuation


def _rms(speech: Speech, start: float, end: float) -> float:
    segment = speech.pcm[int(start * speech.sample_rate) : int(end * speech.sample_rate)].astype(np.float64)
    return float(np.sqrt(np.mean(segment**2))) if len(segment) else 0.0


def test_voice_uses_its_own_phoneme_durations(piper_joe):
    assert piper_joe.uses_model_durations
    assert piper_joe.sample_rate == 22050


def test_timeline_covers_the_audio_with_vowels_and_bilabials(piper_joe):
    speech = piper_joe.synthesize("Maybe my mum can pop by in the morning.", NEUTRAL)
    assert speech.sample_rate == 22050 and speech.pcm.dtype == np.int16
    assert 1.0 < speech.duration < 5.0
    _check_timeline(speech)
    symbols = [p.symbol for p in speech.phonemes]
    assert any(s[0] in VOWELS for s in symbols)
    assert sum(s in BILABIALS for s in symbols) >= 6  # m m m p p b m
    assert symbols[0] == PAUSE and symbols[-1] == PAUSE


def test_timeline_matches_the_sound(piper_joe):
    speech = piper_joe.synthesize("Hello there, how are you doing today?", NEUTRAL)
    vowels = [p for p in speech.phonemes if p.symbol[0] in VOWELS]
    pauses = [p for p in speech.phonemes if p.symbol == PAUSE]
    vowel_rms = np.mean([_rms(speech, p.start, p.end) for p in vowels])
    pause_rms = np.mean([_rms(speech, p.start, p.end) for p in pauses])
    assert pause_rms < 0.3 * vowel_rms  # pauses are where the voice is quiet


def test_several_sentences_are_concatenated_with_one_timeline(piper_joe):
    one = piper_joe.synthesize("I hear you.", NEUTRAL)
    three = piper_joe.synthesize("I hear you. That sounds hard! Do you want to talk about it?", NEUTRAL)
    _check_timeline(three)
    assert three.duration > 2 * one.duration
    symbols = [p.symbol for p in three.phonemes]
    assert all(a != PAUSE or b != PAUSE for a, b in itertools.pairwise(symbols))  # pauses merged


def test_aroused_speech_is_faster_and_louder_than_sad_speech(piper_joe):
    text = "I am so glad you came to see me today."
    joy = piper_joe.synthesize(text, EmotionState.from_label("joy", 1.0))
    sadness = piper_joe.synthesize(text, EmotionState.from_label("sadness", 1.0))
    neutral = piper_joe.synthesize(text, NEUTRAL)
    assert joy.duration < neutral.duration < sadness.duration
    assert joy.duration < 0.85 * sadness.duration
    assert np.abs(joy.pcm).max() > np.abs(sadness.pcm).max()
    _check_timeline(joy)
    _check_timeline(sadness)


def test_text_without_speech_gives_empty_speech(piper_joe):
    speech = piper_joe.synthesize("", NEUTRAL)
    assert speech.duration == 0.0 and speech.phonemes == ()


def test_a_missing_voice_says_how_to_install(tmp_path: Path):
    with pytest.raises(ModelError, match="models install piper-joe"):
        PiperSynthesizer(tmp_path / "en_US-joe-medium.onnx")


def test_a_corrupt_voice_says_to_reinstall(tmp_path: Path):
    voice = tmp_path / "broken.onnx"
    voice.write_bytes(b"not an onnx model")
    real_config = model_dir("piper-joe") / "en_US-joe-medium.onnx.json"
    voice.with_name("broken.onnx.json").write_bytes(real_config.read_bytes())
    with pytest.raises(ModelError, match=r"could not load Piper voice .* reinstall"):
        PiperSynthesizer(voice)


def test_an_unreadable_voice_config_says_to_reinstall(tmp_path: Path):
    voice = tmp_path / "broken.onnx"
    voice.write_bytes(b"not an onnx model")
    voice.with_name("broken.onnx.json").write_text('{"audio": {"sample_rate": 22050}}')
    with pytest.raises(ModelError, match=r"config .* is unreadable"):
        PiperSynthesizer(voice)
