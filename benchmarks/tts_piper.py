"""Print Piper voice load time and real-time factor per emotion (synthesis seconds / audio seconds).

Usage: OMP_WAIT_POLICY=PASSIVE python -m benchmarks.tts_piper [--threads N]
"""

from __future__ import annotations

import argparse
import time

from core.emotion import EmotionState
from core.provision import model_dir
from speech.tts.piper import PiperSynthesizer

SENTENCES = (
    "I'm really sorry to hear that you had such a hard day.",
    "It makes sense that you feel tired after all of that.",
    "What would help you most right now?",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    synthesizer = PiperSynthesizer(model_dir("piper-joe") / "en_US-joe-medium.onnx", threads=args.threads)
    print(f"piper-joe: load {time.perf_counter() - started:.2f} s, model durations: {synthesizer.uses_model_durations}")
    synthesizer.synthesize("Warm up.", EmotionState.from_label("neutral", 0.0))
    for label in ("neutral", "joy", "sadness"):
        emotion = EmotionState.from_label(label, 0.0 if label == "neutral" else 1.0)
        busy = audio = 0.0
        for sentence in SENTENCES:
            started = time.perf_counter()
            speech = synthesizer.synthesize(sentence, emotion)
            busy += time.perf_counter() - started
            audio += speech.duration
        print(f"  {label:8s} {audio:5.2f} s audio in {busy:.2f} s (RTF {busy / audio:.3f}, {args.threads} thread)")


if __name__ == "__main__":
    main()
