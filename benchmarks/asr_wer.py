"""Print ASR load time, real-time factor, WER and detected language on the LibriVox clips of pocketsphinx-testdata.

Usage: OMP_WAIT_POLICY=PASSIVE python -m benchmarks.asr_wer [model ...] [--threads N] [--beam N]
(a model is a name from core/models.toml or a path to a CTranslate2 Whisper directory; default whisper-base
and whisper-tiny-en). The clips come from the Debian package pocketsphinx-testdata.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from core.provision import model_dir
from speech.asr.faster_whisper import FasterWhisperRecognizer
from speech.audio import decode_wav
from speech.metrics import normalize_words, word_error_rate

LIBRIVOX_DIR = Path("/usr/share/pocketsphinx/test/data/librivox")


def _clips() -> list[tuple[Path, str]]:
    clips = []
    for line in (LIBRIVOX_DIR / "transcription").read_text().splitlines():
        words, _, file_id = line.partition("</s>")
        clips.append((LIBRIVOX_DIR / f"{file_id.strip(' ()')}.wav", words.replace("<s>", "").strip()))
    return clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=["whisper-base", "whisper-tiny-en"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam", type=int, default=1, help="beam size (1 = greedy, the server default)")
    args = parser.parse_args()
    clips = [(decode_wav(path.read_bytes()), reference) for path, reference in _clips()]
    audio_s = sum(len(pcm) / rate for (pcm, rate), _ in clips)
    for name in args.models:
        started = time.perf_counter()
        path = Path(name).expanduser() if "/" in name else model_dir(name)
        recognizer = FasterWhisperRecognizer(path, threads=args.threads, beam_size=args.beam)
        load_s = time.perf_counter() - started
        (pcm, rate), _ = clips[0]
        recognizer.transcribe(pcm, rate)  # warm-up: the first call allocates buffers
        errors = words = 0.0
        languages: set[str] = set()
        started = time.perf_counter()
        for (pcm, rate), reference in clips:
            transcript = recognizer.transcribe(pcm, rate)
            languages.add(transcript.language)
            n = len(normalize_words(reference))
            errors += word_error_rate(reference, transcript.text) * n
            words += n
        busy_s = time.perf_counter() - started
        print(
            f"{name}: load {load_s:.2f} s, {len(clips)} clips / {audio_s:.1f} s audio in {busy_s:.2f} s "
            f"(RTF {busy_s / audio_s:.3f}, {args.threads} threads, beam {args.beam}), WER {100 * errors / words:.1f}% "
            f"({int(words)} words), language {'/'.join(sorted(languages))}"
        )


if __name__ == "__main__":
    main()
