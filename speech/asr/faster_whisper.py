"""Speech recognition with faster-whisper (CTranslate2 Whisper models, int8 on the CPU).

Models: any CTranslate2 Whisper directory (the provisioned `whisper-base`, `whisper-tiny-en`, or one converted
by the user). An openai-whisper `.pt` checkpoint is a torch pickle that CTranslate2 cannot read: it runs on
`speech.asr.openai_whisper.OpenAiWhisperRecognizer` instead (chosen by the server for an `asr.model` ending in
`.pt`), or can be converted to a CTranslate2 directory once for faster CPU inference (`OPENAI_CHECKPOINT_HELP`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from faster_whisper import WhisperModel

from core.media import TimedWord, Transcript
from core.provision import ModelError
from speech.asr.whisper_input import whisper_audio

_MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")
OPENAI_CHECKPOINT_HELP = (
    "load it with speech.asr.openai_whisper.OpenAiWhisperRecognizer (the server does so for an asr.model path "
    "ending in .pt), or, for faster CPU inference, convert it once: `pip install transformers`, then "
    "`python -m transformers.models.whisper.convert_openai_to_hf --checkpoint_path MODEL.pt "
    "--pytorch_dump_folder_path hf-model --convert_preprocessor True` and `ct2-transformers-converter --model "
    "hf-model --output_dir ct2-model --quantization int8 --copy_files tokenizer.json preprocessor_config.json`; "
    "then set asr.model to the ct2-model directory"
)


class FasterWhisperRecognizer:
    """A `Recognizer` running a faster-whisper model directory on the CPU.

    model_dir: a CTranslate2 Whisper directory (model.bin, config.json, tokenizer.json, vocabulary.txt); an
    openai-whisper `.pt` file raises a `ModelError` that names the engine for it and how to convert it.
    threads: CPU threads for inference. language: ISO 639-1 code to force, or None to detect it.
    beam_size: 1 is greedy decoding (fastest); larger beams trade latency for a little accuracy.
    """

    def __init__(self, model_dir: Path, threads: int = 2, language: str | None = None, beam_size: int = 1) -> None:
        model_dir = Path(model_dir)
        if model_dir.is_file() and model_dir.suffix == ".pt":
            raise ModelError(
                f"{model_dir} is an openai-whisper checkpoint, which faster-whisper cannot load; "
                + OPENAI_CHECKPOINT_HELP
            )
        missing = [name for name in _MODEL_FILES if not (model_dir / name).is_file()]
        if missing:
            raise ModelError(
                f"{model_dir} is not a faster-whisper model directory (missing {', '.join(missing)}); "
                "install one with `empathica models install whisper-base`"
            )
        try:
            self._model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads)
        except Exception as error:  # CTranslate2 raises bare RuntimeErrors for unreadable models
            raise ModelError(
                f"could not load the Whisper model in {model_dir} ({error}); it may be corrupt: reinstall it with "
                "`empathica models install whisper-base`"
            ) from error
        self._language = language
        self._beam_size = beam_size

    def transcribe(self, pcm: npt.NDArray[np.int16], sample_rate: int) -> Transcript:
        """Transcribe mono int16 PCM; silent or empty audio gives an empty transcript."""
        audio = whisper_audio(pcm, sample_rate)
        if audio is None:
            return Transcript(text="", words=(), language=self._language or "en")
        segments, info = self._model.transcribe(
            audio,
            language=self._language,
            beam_size=self._beam_size,
            word_timestamps=True,
            # One utterance at a time: conditioning on earlier windows only spreads hallucinations.
            condition_on_previous_text=False,
        )
        texts: list[str] = []
        words: list[TimedWord] = []
        for segment in segments:  # a lazy generator: decoding happens here
            texts.append(segment.text.strip())
            for word in segment.words or ():
                text = word.word.strip()
                if text:
                    words.append(TimedWord(text=text, start=round(word.start, 3), end=round(word.end, 3)))
        return Transcript(text=" ".join(t for t in texts if t), words=tuple(words), language=info.language)
