import itertools
from pathlib import Path

import numpy as np
import pytest

from core.emotion import NEUTRAL
from core.provision import ModelError, model_dir
from speech.asr.faster_whisper import FasterWhisperRecognizer
from speech.audio import decode_wav, resample
from speech.metrics import normalize_words, word_error_rate

pytestmark = pytest.mark.models


def test_librivox_clips_are_transcribed_accurately(whisper_base, librivox_clips):
    errors = words = 0
    for path, reference in librivox_clips:
        pcm, rate = decode_wav(path.read_bytes())
        transcript = whisper_base.transcribe(pcm, rate)
        assert transcript.language == "en"
        hypothesis = set(normalize_words(transcript.text))
        key_words = {w for w in normalize_words(reference) if len(w) > 5}  # "dashwood", "prudently", "amiable"
        assert key_words <= hypothesis, f"{path.name}: {transcript.text!r} misses {key_words - hypothesis}"
        n = len(normalize_words(reference))
        errors += word_error_rate(reference, transcript.text) * n
        words += n
    assert errors / words <= 0.05  # about 1.4% here (one dropped disfluent "a")


def test_word_timings_are_ordered_and_inside_the_clip(whisper_base, librivox_clips):
    path, _reference = librivox_clips[0]
    pcm, rate = decode_wav(path.read_bytes())
    transcript = whisper_base.transcribe(pcm, rate)
    words = transcript.words
    assert len(words) == len(transcript.text.split())
    assert [w.text for w in words][:3] == ["And", "Mr.", "John"]
    assert all(w.start <= w.end for w in words)
    assert all(a.start <= b.start for a, b in itertools.pairwise(words))
    assert words[-1].end <= len(pcm) / rate + 0.05


def test_other_sample_rates_are_resampled(whisper_base, librivox_clips):
    path, reference = librivox_clips[1]  # "he was not an ill disposed young man"
    pcm, rate = decode_wav(path.read_bytes())
    transcript = whisper_base.transcribe(resample(pcm, rate, 44100), 44100)
    assert word_error_rate(reference, transcript.text) <= 0.15


def test_silence_and_empty_audio_give_an_empty_transcript(whisper_base):
    assert whisper_base.transcribe(np.zeros(0, dtype=np.int16), 16000).text == ""
    quiet = np.random.default_rng(0).integers(-20, 20, 16000, dtype=np.int16)
    transcript = whisper_base.transcribe(quiet, 16000)
    assert transcript.text == "" and transcript.words == ()


def test_synthesised_speech_round_trips(whisper_base, piper_joe):
    text = "Please meet me at the park tomorrow morning."
    speech = piper_joe.synthesize(text, NEUTRAL)
    transcript = whisper_base.transcribe(speech.pcm, speech.sample_rate)
    assert word_error_rate(text, transcript.text) <= 0.15


def test_the_english_only_model_loads_and_forces_a_language():
    recognizer = FasterWhisperRecognizer(model_dir("whisper-tiny-en"), threads=1, language="en")
    tone = (3000 * np.sin(np.arange(8000) / 5)).astype(np.int16)
    assert recognizer.transcribe(tone, 16000).language == "en"


def test_a_missing_model_directory_says_how_to_install(tmp_path: Path):
    with pytest.raises(ModelError, match="models install"):
        FasterWhisperRecognizer(tmp_path / "nowhere")


def test_a_corrupt_model_says_how_to_reinstall(tmp_path: Path):
    source = model_dir("whisper-tiny-en")
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    (tmp_path / "model.bin").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="corrupt"):
        FasterWhisperRecognizer(tmp_path)


def test_an_openai_checkpoint_names_its_engine_and_how_to_convert_it(tmp_path: Path):
    checkpoint = tmp_path / "base.pt"
    checkpoint.write_bytes(b"PK\x03\x04 torch zip")
    expected = r"openai-whisper checkpoint.*OpenAiWhisperRecognizer.*ct2-transformers-converter"
    with pytest.raises(ModelError, match=expected):
        FasterWhisperRecognizer(checkpoint)


def test_any_ctranslate2_directory_given_as_a_path_loads(tmp_path: Path, librivox_clips):
    # A user's own converted model: here a copy of tiny.en under another name.
    source = model_dir("whisper-tiny-en")
    for item in source.iterdir():
        (tmp_path / item.name).symlink_to(item)
    recognizer = FasterWhisperRecognizer(tmp_path, threads=1)
    path, reference = librivox_clips[1]
    pcm, rate = decode_wav(path.read_bytes())
    transcript = recognizer.transcribe(pcm, rate)
    assert word_error_rate(reference, transcript.text) <= 0.3
    assert transcript.words and all(w.end >= w.start for w in transcript.words)
