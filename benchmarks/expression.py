"""Expressions of the rendered avatar, measured independently: the face mesh reads mouth-corner and brow heights
off silent rendered frames, relative to the neutral frame, in percent of the inter-ocular distance.

Expected directions: joy corners up; sadness corners down and inner brows up; anger brows down; surprise brows up.

Usage: python benchmarks/expression.py [--portrait face.jpg] [--intensity 1.0]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from pathlib import Path

from avatar.landmarks import LandmarkDetector
from avatar.metrics import read_faces, reading
from avatar.portrait import load_portrait
from avatar.renderer import REST_MOUTH, FaceRenderer
from core.emotion import BASIC_EMOTIONS, EmotionState


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--portrait", type=Path, help="a JPEG/PNG with a face (default: the astronaut)")
    parser.add_argument("--intensity", type=float, action="append", help="intensities (default 0.5 and 1.0)")
    args = parser.parse_args()
    detector = LandmarkDetector()
    portrait = load_portrait(args.portrait, 512, detector)
    renderer = FaceRenderer(portrait, detector.detect(portrait))
    neutral_frame = renderer.render_frame(REST_MOUTH, EmotionState.from_label("neutral", 0.0))
    print(f"{'emotion':>9} {'int':>4} {'corners':>8} {'brows':>7} {'inner brows':>12} {'mouth open':>11}  (% IOD)")
    for intensity in args.intensity or [0.5, 1.0]:
        labels = [e for e in BASIC_EMOTIONS if e != "neutral"]
        frames = [renderer.render_frame(REST_MOUTH, EmotionState.from_label(e, intensity)) for e in labels]
        marks = read_faces([neutral_frame, *frames])
        if marks[0] is None:
            raise SystemExit("the face mesh finds no face in the neutral frame")
        base = reading(marks[0])
        for label, m in zip(labels, marks[1:], strict=True):
            if m is None:
                print(f"{label:>9} {intensity:4.1f}  no face found")
                continue
            r = reading(m)
            print(
                f"{label:>9} {intensity:4.1f} {100 * (r.corner_height - base.corner_height):+8.1f} "
                f"{100 * (r.brow_height - base.brow_height):+7.1f} "
                f"{100 * (r.inner_brow_height - base.inner_brow_height):+12.1f} "
                f"{100 * (r.mouth_open - base.mouth_open):+11.1f}"
            )


if __name__ == "__main__":
    main()
