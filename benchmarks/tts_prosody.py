"""Print, per TTS engine and emotion at full intensity, the measured change of median f0 and speaking rate
against neutral, the ASR word error rate on the output, the timeline coverage and the real-time factor.

f0 is measured with the cepstral tracker in `speech.pitch_check` (independent of the pitch shifter and of
hibari's f0 scaling); the speaking rate from the length of the audible speech (neutral length / emotion
length - 1); WER with faster-whisper base on the output resampled to 16 kHz. Targets (issue 4): joy, anger,
fear and surprise raise f0 by >= 8 %; sadness lowers it by >= 5 % and slows speech by >= 10 %; WER <= 5 %.

Usage: OMP_WAIT_POLICY=PASSIVE python -m benchmarks.tts_prosody [--engines piper-joe hibari] [--threads N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from core.emotion import EmotionState
from core.provision import model_dir
from speech.asr.faster_whisper import FasterWhisperRecognizer
from speech.audio import resample
from speech.metrics import normalize_words, word_error_rate
from speech.pitch_check import cepstral_f0, speech_span
from speech.prosody import prosody_for

SENTENCES = (
    "I'm really sorry to hear that you had such a hard day.",
    "It makes sense that you feel tired after all of that.",
    "What would help you most right now?",
    "Maybe my mum can pop by in the morning.",
    "We could go for a walk by the river this weekend.",
    "Tell me more about what happened at work.",
)
EMOTIONS = ("neutral", "joy", "anger", "fear", "surprise", "sadness", "disgust")


def _load(name: str, threads: int):
    if name == "hibari":
        from speech.tts.hibari import HibariSynthesizer

        return HibariSynthesizer(threads=threads)
    from speech.tts.piper import PiperSynthesizer

    return PiperSynthesizer(next(model_dir(name).glob("*.onnx")), threads=threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="*", default=["piper-joe", "hibari"])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    asr = FasterWhisperRecognizer(model_dir("whisper-base"), threads=2)
    for engine in args.engines:
        started = time.perf_counter()
        synthesizer = _load(engine, args.threads)
        print(f"{engine}: load {time.perf_counter() - started:.2f} s, {synthesizer.sample_rate} Hz")
        synthesizer.synthesize("Warm up.", EmotionState.from_label("neutral", 0.0))
        print("  emotion   target pitch/rate   f0 median  change   rate change   WER    timeline err   RTF")
        neutral: tuple[float, float] | None = None
        for label in EMOTIONS:
            emotion = EmotionState.from_label(label, 0.0 if label == "neutral" else 1.0)
            prosody = prosody_for(emotion)
            busy = 0.0
            speeches = []
            for sentence in SENTENCES:
                started = time.perf_counter()
                speeches.append(synthesizer.synthesize(sentence, emotion))
                busy += time.perf_counter() - started
            audio_s = sum(s.duration for s in speeches)
            f0 = float(np.median(np.concatenate([cepstral_f0(s.pcm, s.sample_rate) for s in speeches])))
            span = sum(speech_span(s.pcm, s.sample_rate) for s in speeches)
            neutral = neutral or (f0, span)
            errors = words = 0.0
            for sentence, speech in zip(SENTENCES, speeches, strict=True):
                heard = asr.transcribe(resample(speech.pcm, speech.sample_rate, 16000), 16000).text
                n = len(normalize_words(sentence))
                errors += word_error_rate(sentence, heard) * n
                words += n
            timeline_error = max(abs(s.phonemes[-1].end - s.duration) for s in speeches)
            print(
                f"  {label:9s} {prosody.pitch_pct:+6.1f}% {prosody.rate_pct:+6.1f}%   {f0:7.1f} Hz "
                f"{100 * (f0 / neutral[0] - 1):+6.1f}%   {100 * (neutral[1] / span - 1):+6.1f}%     "
                f"{100 * errors / words:4.1f}%   {1000 * timeline_error:6.1f} ms    {busy / audio_s:.3f}"
            )


if __name__ == "__main__":
    main()
