"""Render + encode speed of the avatar at 512x512 on one core: prints median frames/s over several runs.

Speech frames include everything the server renders: visemes, the emotion's action units, blinks, gaze and head
motion. Figures are given by wall-clock time and by this process's CPU time; on a shared machine the CPU-time
figure is the one-core speed (wall time then also counts time spent waiting for a core).

Usage: OMP_NUM_THREADS=1 python benchmarks/render_fps.py [--runs 5] [--seconds 4]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import cv2
import numpy as np

from avatar.encoder import Mp4StreamEncoder
from avatar.landmarks import LandmarkDetector
from avatar.portrait import load_portrait
from avatar.renderer import FaceRenderer
from core.emotion import EmotionState
from core.media import Phoneme, Speech

SYMBOLS = [
    "h",
    "ə",
    "l",
    "oʊ",
    "_",
    "m",
    "aɪ",
    "n",
    "eɪ",
    "m",
    "ɪ",
    "z",
    "ɛ",
    "m",
    "p",
    "ə",
    "θ",
    "ɪ",
    "k",
    "ə",
    "_",
    "aɪ",
    "æ",
    "m",
    "h",
    "ɪ",
    "ɹ",
    "t",
    "ə",
    "h",
    "ɛ",
    "l",
    "p",
    "j",
    "u",
    "_",
]


def _speech(seconds: float, sample_rate: int = 22050) -> Speech:
    step = seconds / len(SYMBOLS)
    phonemes = tuple(Phoneme(s, i * step, (i + 1) * step) for i, s in enumerate(SYMBOLS))
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    pcm = (7000 * np.sin(2 * np.pi * 160 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))).astype(np.int16)
    return Speech(pcm, sample_rate, phonemes)


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4.0, help="speech length per run")
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    cv2.setNumThreads(1)

    detector = LandmarkDetector()
    portrait = load_portrait(None, args.size, detector)
    renderer = FaceRenderer(portrait, detector.detect(portrait), fps=25)
    emotion = EmotionState.from_label("joy", 0.5)
    speech = _speech(args.seconds)

    render_fps, total_fps, render_cpu, total_cpu = [], [], [], []
    for _ in range(args.runs):
        encoder = Mp4StreamEncoder(args.size, 25, speech.sample_rate, threads=1)
        t0, c0 = time.perf_counter(), time.process_time()
        frames = renderer.render_speech(speech, emotion)
        t1, c1 = time.perf_counter(), time.process_time()
        size = sum(map(len, encoder.add(frames, speech.pcm) + encoder.finish()))
        t2, c2 = time.perf_counter(), time.process_time()
        render_fps.append(len(frames) / (t1 - t0))
        total_fps.append(len(frames) / (t2 - t0))
        render_cpu.append(len(frames) / (c1 - c0))
        total_cpu.append(len(frames) / (c2 - c0))

    print(f"machine: {_cpu_name()} ({os.cpu_count()} logical CPUs), {platform.system()} {platform.machine()}")
    print(f"threads: OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, cv2 {cv2.getNumThreads()}; x264 threads=1")
    print(f"{args.size}x{args.size}, {len(frames)} frames per run, {args.runs} runs, {size / 1024:.0f} KiB per run")
    print(f"load average:    {os.getloadavg()[0]:.1f}")
    print(
        f"render only:     median {statistics.median(render_fps):.0f} frames/s wall, "
        f"{statistics.median(render_cpu):.0f} frames/s CPU time"
    )
    print(
        f"render + encode: median {statistics.median(total_fps):.0f} frames/s wall, "
        f"{statistics.median(total_cpu):.0f} frames/s CPU time"
    )


if __name__ == "__main__":
    main()
