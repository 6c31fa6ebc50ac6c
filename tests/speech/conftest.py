"""Shared fixtures for speech tests: real models, loaded once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Several model runtimes share few cores: let idle OpenMP threads sleep instead of spinning.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from core.provision import model_dir
from speech.asr.faster_whisper import FasterWhisperRecognizer
from speech.tts.piper import PiperSynthesizer

LIBRIVOX_DIR = Path("/usr/share/pocketsphinx/test/data/librivox")


@pytest.fixture(scope="session")
def whisper_base() -> FasterWhisperRecognizer:
    return FasterWhisperRecognizer(model_dir("whisper-base"), threads=2)


@pytest.fixture(scope="session")
def piper_joe() -> PiperSynthesizer:
    return PiperSynthesizer(model_dir("piper-joe") / "en_US-joe-medium.onnx", threads=1)


@pytest.fixture(scope="session")
def librivox_clips() -> list[tuple[Path, str]]:
    """(wav path, reference transcript) for the LibriVox clips of Debian's pocketsphinx-testdata."""
    transcription = LIBRIVOX_DIR / "transcription"
    if not transcription.is_file():
        pytest.fail(f"{transcription} is missing: install the Debian package pocketsphinx-testdata")
    clips = []
    for line in transcription.read_text().splitlines():
        # "<s> words </s> (file-id)"
        words, _, file_id = line.partition("</s>")
        clips.append((LIBRIVOX_DIR / f"{file_id.strip(' ()')}.wav", words.replace("<s>", "").strip()))
    return clips


@pytest.fixture(scope="session")
def hibari_heart():
    from speech.tts.hibari import HibariSynthesizer

    return HibariSynthesizer(threads=1)
