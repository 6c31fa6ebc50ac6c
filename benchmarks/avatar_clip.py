"""Cost of the face routes: an idle/listening loop (render + encode) and a portrait upload's checks, per call.

Prints wall and process-CPU seconds (on a shared machine the CPU figure is the one-core cost) and the clip size.

Usage: OMP_NUM_THREADS=1 python benchmarks/avatar_clip.py [--size 512] [--fps 25] [--seconds 4]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from agent.personas import portrait_path
from avatar.landmarks import LandmarkDetector
from avatar.loop import LOOP_STATES
from avatar.portrait import load_portrait
from avatar.renderer import FaceRenderer
from server.web.clips import make_clip
from server.web.portraits import PortraitStore

T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    """(result, wall seconds, CPU seconds) of fn()."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    detector = LandmarkDetector()
    image = load_portrait(None, args.size, detector)
    renderer = FaceRenderer(image, detector.detect(image), fps=args.fps)
    for state in LOOP_STATES:
        clip, wall, cpu = timed(partial(make_clip, renderer, state, args.fps, args.seconds))
        print(
            f"clip {state:9s} {args.size}px {clip.frames} frames: {wall:.2f} s wall, {cpu:.2f} s CPU, "
            f"{len(clip.data) / 1024:.0f} KiB"
        )
    photo = Path(portrait_path("grace_hopper") or "").read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        store = PortraitStore(Path(tmp), args.size)
        store.add(photo)  # the first call also imports mediapipe
        stored, wall, cpu = timed(lambda: store.add(photo))
        size = f"{len(photo) / 1024:.0f} KiB JPEG -> {stored.width}px portrait"
        print(f"upload {size}: {wall:.2f} s wall, {cpu:.2f} s CPU")


if __name__ == "__main__":
    main()
