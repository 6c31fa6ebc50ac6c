"""OpenAiWhisperRecognizer on a real openai-whisper checkpoint file with random weights.

No trained checkpoint can be fetched here, so the text these produce is gibberish: the tests check what does not
depend on the weights (loading, the Transcript's shape and timings, language handling, errors). A trained
checkpoint such as base.pt goes through exactly the same code.

They decode at temperature 0 only: random weights never end a window cleanly, so whisper would retry it at five
sampling temperatures (six times the work), and sampling from random logits can meet a fully masked
distribution, which torch rejects.
"""

import base64
import gzip
import hashlib
import itertools
import socket
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from core.media import TimedWord, Transcript
from core.provision import ModelError
from speech.asr.openai_whisper import OpenAiWhisperRecognizer, _release_alignment_heads
from speech.audio import decode_wav, resample
from tests.speech.whisper_checkpoint import write_random_checkpoint

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_random_checkpoint(tmp_path_factory.mktemp("whisper") / "random.pt")


GREEDY = (0.0,)


@pytest.fixture(scope="module")
def clip(librivox_clips: list[tuple[Path, str]]) -> tuple[np.ndarray, int]:
    path, _reference = librivox_clips[1]  # 3 s: "he was not an ill disposed young man"
    return decode_wav(path.read_bytes())


def assert_well_formed(transcript: Transcript, duration: float) -> None:
    assert isinstance(transcript, Transcript) and isinstance(transcript.text, str)
    assert all(isinstance(w, TimedWord) and w.text == w.text.strip() and w.text for w in transcript.words)
    assert all(0 <= w.start <= w.end <= duration + 0.05 for w in transcript.words)
    assert all(a.start <= b.start for a, b in itertools.pairwise(transcript.words))


def test_a_checkpoint_loads_and_transcribes_a_real_clip_offline(checkpoint, clip, monkeypatch):
    # whisper builds its tiktoken tokenizer from the vocabulary files it bundles: nothing may go to the network.
    def no_network(*_args: object, **_kwargs: object) -> None:
        raise OSError("the network is off limits in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    recognizer = OpenAiWhisperRecognizer(checkpoint, threads=1, temperatures=GREEDY)
    pcm, rate = clip
    transcript = recognizer.transcribe(pcm, rate)
    # No assertion on the text, not even that there is some: random logits are near-ties, so what greedy decoding
    # picks (and when it stops) flips with thread count and CPU instruction set.
    assert_well_formed(transcript, len(pcm) / rate)
    from whisper.tokenizer import LANGUAGES

    assert transcript.language in LANGUAGES  # detected (at random, with these weights)


def test_a_forced_language_is_kept_and_other_rates_are_resampled(checkpoint, clip):
    recognizer = OpenAiWhisperRecognizer(checkpoint, threads=1, language="de", temperatures=GREEDY)
    pcm, rate = clip
    transcript = recognizer.transcribe(resample(pcm, rate, 44100), 44100)
    assert transcript.language == "de"
    assert_well_formed(transcript, len(pcm) / rate)


def test_an_english_only_checkpoint_transcribes_in_english(tmp_path: Path, clip):
    checkpoint = write_random_checkpoint(tmp_path / "random.en.pt", multilingual=False)
    recognizer = OpenAiWhisperRecognizer(checkpoint, threads=1, temperatures=GREEDY)
    pcm, rate = clip
    assert recognizer.transcribe(pcm, rate).language == "en"


def test_silence_and_empty_audio_give_an_empty_transcript(checkpoint):
    recognizer = OpenAiWhisperRecognizer(checkpoint, threads=1, language="fr")
    assert recognizer.transcribe(np.zeros(0, dtype=np.int16), 16000) == Transcript(text="", language="fr")
    quiet = np.random.default_rng(0).integers(-20, 20, 16000, dtype=np.int16)
    assert recognizer.transcribe(quiet, 16000).words == ()
    with pytest.raises(ValueError, match="mono int16"):
        recognizer.transcribe(np.zeros((2, 100), dtype=np.int16), 16000)


def test_a_missing_checkpoint_or_a_directory_says_what_to_configure(tmp_path: Path):
    with pytest.raises(ModelError, match=r"does not exist.*asr\.model"):
        OpenAiWhisperRecognizer(tmp_path / "base.pt")
    with pytest.raises(ModelError, match="is a directory"):
        OpenAiWhisperRecognizer(tmp_path)


def test_a_corrupt_checkpoint_says_to_download_it_again(tmp_path: Path, checkpoint):
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(checkpoint.read_bytes()[:100_000])
    foreign = tmp_path / "foreign.pt"
    import torch

    torch.save({"weights": torch.zeros(3)}, foreign)  # a torch file, but not a Whisper checkpoint
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    for path in (truncated, foreign, garbage):
        with pytest.raises(ModelError, match=f"{path.name}.*corrupt or not a Whisper checkpoint"):
            OpenAiWhisperRecognizer(path)


def test_release_checkpoints_get_their_tuned_alignment_heads(tmp_path: Path):
    # whisper's release table maps a name to a URL containing the file's sha256, and to its word-timing heads.
    release = tmp_path / "base.pt"
    release.write_bytes(b"stand-in for the release file")
    digest = hashlib.sha256(release.read_bytes()).hexdigest()
    heads = base64.b85encode(gzip.compress(np.array([False, True, True, False]).tobytes()))
    whisper = SimpleNamespace(
        _MODELS={"base": f"https://example.invalid/models/{digest}/base.pt"}, _ALIGNMENT_HEADS={"base": heads}
    )
    assert _release_alignment_heads(release, whisper) == heads
    release.write_bytes(b"a fine-tune saved under the release name")
    assert _release_alignment_heads(release, whisper) is None
    assert _release_alignment_heads(tmp_path / "mine.pt", whisper) is None
