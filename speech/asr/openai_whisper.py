"""Speech recognition with openai-whisper (PyTorch) for `.pt` checkpoints in openai's own format.

Models: any openai-whisper checkpoint file (`tiny.pt`, `base.en.pt`, ... from the openai-whisper release, or a
fine-tune saved the same way: a torch pickle holding `{"dims": ..., "model_state_dict": ...}`). CTranslate2
directories go to `speech.asr.faster_whisper`, which is faster on a CPU; this engine exists so a checkpoint
works without a conversion step.

torch and whisper are imported inside the engine, not at module level: importing them takes seconds and
hundreds of MB, and the default (faster-whisper) set-up never needs them.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from core.media import TimedWord, Transcript
from core.provision import ModelError
from speech.asr.whisper_input import whisper_audio

DEFAULT_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # whisper.transcribe's (and faster-whisper's) own default
_INSTALL_HELP = (
    "run `EMPATHICA_OPENAI_WHISPER=1 scripts/setup.sh`, which installs requirements-openai-whisper.lock "
    "(torch==2.13.0, the CPU wheel) and openai-whisper from requirements-models.lock (--no-deps: its metadata "
    "asks for CUDA's triton)"
)


class OpenAiWhisperRecognizer:
    """A `Recognizer` running an openai-whisper `.pt` checkpoint with PyTorch on the CPU.

    checkpoint: the `.pt` file. threads: torch's intra-op CPU threads (a process-wide setting in torch, so the
    last engine built decides it). language: ISO 639-1 code to force, or None to detect it.
    beam_size: 1 is greedy decoding (fastest); larger beams trade latency for a little accuracy.
    temperatures: tried in turn for a 30 s window whose text looks like a hallucination (repetitive, or unlikely);
    whisper's default schedule. `(0.0,)` decodes each window once, deterministically.
    """

    def __init__(
        self,
        checkpoint: Path,
        threads: int = 2,
        language: str | None = None,
        beam_size: int = 1,
        temperatures: tuple[float, ...] = DEFAULT_TEMPERATURES,
    ) -> None:
        checkpoint = Path(checkpoint)
        if not checkpoint.is_file():
            problem = "is a directory, not a checkpoint file" if checkpoint.is_dir() else "does not exist"
            raise ModelError(
                f"openai-whisper checkpoint {checkpoint} {problem}; set asr.model to a .pt file such as base.pt "
                "from the openai-whisper release, or to a faster-whisper model name (`empathica models list`)"
            )
        try:
            import torch
            import whisper
        except ImportError as error:
            raise ModelError(
                f"an openai-whisper checkpoint needs torch and openai-whisper ({error}); {_INSTALL_HELP}"
            ) from error
        torch.set_num_threads(threads)
        try:
            # load_model treats a string that is an existing file as a checkpoint path (names would download).
            model = whisper.load_model(str(checkpoint), device="cpu")
        except Exception as error:  # torch.load / load_state_dict raise many types for a broken or foreign file
            raise ModelError(
                f"could not load the openai-whisper checkpoint {checkpoint} ({_load_failure(error)}); "
                "it may be corrupt or not a Whisper checkpoint: download it again"
            ) from error
        heads = _release_alignment_heads(checkpoint, whisper)
        if heads is not None:
            model.set_alignment_heads(heads)
        self._model: Any = model
        self._language = language
        self._beam_size = beam_size
        self._temperatures = temperatures

    def transcribe(self, pcm: npt.NDArray[np.int16], sample_rate: int) -> Transcript:
        """Transcribe mono int16 PCM; silent or empty audio gives an empty transcript."""
        audio = whisper_audio(pcm, sample_rate)
        if audio is None:
            return Transcript(text="", words=(), language=self._language or "en")
        result = self._model.transcribe(
            audio,
            language=self._language,
            beam_size=self._beam_size if self._beam_size > 1 else None,  # None: greedy decoding
            temperature=self._temperatures,
            word_timestamps=True,
            fp16=False,  # fp16 is for GPUs; on a CPU whisper would warn and fall back anyway
            # One utterance at a time: conditioning on earlier windows only spreads hallucinations.
            condition_on_previous_text=False,
            verbose=None,  # no printing, no progress bar
        )
        texts: list[str] = []
        words: list[TimedWord] = []
        for segment in result["segments"]:
            texts.append(segment["text"].strip())
            for word in segment.get("words", ()):
                text = word["word"].strip()
                if text:
                    words.append(TimedWord(text=text, start=round(word["start"], 3), end=round(word["end"], 3)))
        language = result.get("language") or self._language or "en"
        return Transcript(text=" ".join(t for t in texts if t), words=tuple(words), language=language)


def _load_failure(error: Exception) -> str:
    """A one-line reason for a failed load (torch's own messages run to a dozen lines)."""
    if isinstance(error, pickle.UnpicklingError):
        # torch suggests retrying with weights_only=False, which would run code from an untrusted file: don't.
        return "not a torch checkpoint of plain tensors"
    lines = str(error).strip().splitlines()
    first_sentence = (lines[0] if lines else "").split(". ")[0]
    return f"{type(error).__name__}: {first_sentence[:200]}"


def _release_alignment_heads(checkpoint: Path, whisper: Any) -> bytes | None:
    """The tuned word-timing attention heads when `checkpoint` is an unmodified openai-whisper release file.

    `whisper.load_model` only sets them for models it downloads by name; for a path it falls back to every head
    of the decoder's upper half, which gives looser word timings. Release URLs contain the file's sha256, so a
    file named like a release (`base.pt`) is hashed and matched; other files are not read twice.
    """
    urls: dict[str, str] = getattr(whisper, "_MODELS", {})  # private, but stable across openai-whisper releases
    heads: dict[str, bytes] = getattr(whisper, "_ALIGNMENT_HEADS", {})
    name = checkpoint.name.removesuffix(".pt")
    if name not in urls or name not in heads:
        return None
    digest = hashlib.sha256()
    with checkpoint.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return heads[name] if urls[name].split("/")[-2] == digest.hexdigest() else None
