"""Lip-sync of the rendered avatar, measured independently: the face mesh reads the mouth opening off the rendered
frames and it is correlated with the loudness envelope of real synthesised speech (Piper, voice joe).

Prints Pearson r at the best lag and that lag (positive: the mouth follows the sound). Target: r >= 0.6 with
|lag| <= 40 ms.

Usage: python benchmarks/lip_sync.py [--text "..."] [--portrait face.jpg]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from pathlib import Path

from avatar.landmarks import LandmarkDetector
from avatar.metrics import lip_sync
from avatar.portrait import load_portrait
from avatar.renderer import FaceRenderer
from core import provision
from core.emotion import EmotionState
from speech.tts.piper import PiperSynthesizer

TEXTS = (
    "I am really glad you told me about this. Maybe we can look at it together, step by step.",
    "Hello, my name is Joe. What brings you here today? Please, take your time.",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--text", action="append", help="sentences to voice (default: two built-in ones)")
    parser.add_argument("--portrait", type=Path, help="a JPEG/PNG with a face (default: the astronaut)")
    parser.add_argument("--emotion", default="neutral")
    args = parser.parse_args()

    voice = provision.model_dir("piper-joe") / "en_US-joe-medium.onnx"
    tts = PiperSynthesizer(voice, threads=1)
    detector = LandmarkDetector()
    portrait = load_portrait(args.portrait, 512, detector)
    renderer = FaceRenderer(portrait, detector.detect(portrait), fps=25, seed=1)
    emotion = EmotionState.from_label(args.emotion, 0.6 if args.emotion != "neutral" else 0.0)
    for text in args.text or TEXTS:
        speech = tts.synthesize(text, emotion)
        frames = renderer.render_speech(speech, emotion)
        result = lip_sync(frames, speech.pcm, speech.sample_rate, renderer.fps)
        print(
            f"{speech.duration:5.2f} s, {result.frames} frames measured: "
            f"r = {result.r:.3f} at lag {result.lag_ms:+.0f} ms"
        )


if __name__ == "__main__":
    main()
