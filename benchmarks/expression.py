"""Expressions of the rendered avatar, measured independently: the face mesh reads mouth-corner, brow and lip-gap
heights off silent rendered frames, relative to the neutral frame, in percent of the outer eye-corner distance.

Prints every emotion's figures per portrait and intensity, then the median over the portraits at intensity 1
against the targets (avatar.metrics.EXPRESSION_TARGETS), each marked ok or MISS.

Usage: python -m benchmarks.expression [--portrait face.jpg ...] [--intensity 0.5 ...]
(default: the personas' built-in portraits, the astronaut and Grace Hopper, plus scikit-image's cameraman, at
intensities 0.5 and 1)

Portraits and licences: the astronaut (NASA, public domain; scikit-image), Grace Hopper (public domain; matplotlib's
sample data) and the cameraman (CC0, Lav Varshney; scikit-image's `camera`, cropped to his head, since the full
frame is mostly tripod and field). Grace Hopper's glasses frame her brows, so the face mesh barely reads brow
motion there; the cameraman is a grey, near-profile face, a hard case for the face mesh and the warp alike.
"""

from __future__ import annotations

import argparse
import os
import tempfile

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from pathlib import Path

import cv2
import numpy as np

from agent.personas import BUILTIN_PORTRAITS, portrait_path
from avatar.landmarks import LandmarkDetector
from avatar.metrics import EXPRESSION_TARGETS, FaceReading, expression_changes
from avatar.portrait import load_portrait
from avatar.renderer import FaceRenderer
from core.emotion import BASIC_EMOTIONS

LABELS = tuple(e for e in BASIC_EMOTIONS if e != "neutral")
_CAMERAMAN_HEAD = (40, 300, 110, 370)  # rows, columns of skimage's 512x512 `camera` around the head


def _cameraman(folder: Path) -> Path:
    """scikit-image's cameraman (CC0), cropped to his head and written as a PNG in `folder`: the face mesh does
    not find his small near-profile face in the full frame."""
    from skimage import data

    r0, r1, c0, c1 = _CAMERAMAN_HEAD
    path = folder / "cameraman.png"
    cv2.imwrite(str(path), data.camera()[r0:r1, c0:c1])
    return path


def _row(name: str, label: str, intensity: float, change: FaceReading | None) -> str:
    if change is None:
        return f"{name:>14} {label:>9} {intensity:4.1f}  no face found"
    return (
        f"{name:>14} {label:>9} {intensity:4.1f} {change.corner_height:+8.1f} {change.brow_height:+7.1f} "
        f"{change.inner_brow_height:+12.1f} {change.mouth_open:+11.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--portrait", type=Path, action="append", help="a JPEG/PNG with a face (repeatable)")
    parser.add_argument("--intensity", type=float, action="append", help="intensities (default 0.5 and 1.0)")
    args = parser.parse_args()
    detector = LandmarkDetector()
    scratch = tempfile.TemporaryDirectory()
    portraits: list[tuple[str, Path | None]] = (
        [(p.stem, p) for p in args.portrait]
        if args.portrait
        else [(n, portrait_path(n)) for n in BUILTIN_PORTRAITS] + [("cameraman", _cameraman(Path(scratch.name)))]
    )
    intensities = sorted(set(args.intensity or [0.5, 1.0]))
    print(f"{'portrait':>14} {'emotion':>9} {'int':>4} {'corners':>8} {'brows':>7} {'inner brows':>12} "
          f"{'mouth open':>11}  (% of the outer eye-corner distance, vs neutral)")  # fmt: skip
    full: dict[str, dict[str, FaceReading]] = {e: {} for e in LABELS}
    for name, path in portraits:
        portrait = load_portrait(path, 512, detector)
        renderer = FaceRenderer(portrait, detector.detect(portrait))
        for intensity in intensities:
            changes = expression_changes(renderer, LABELS, intensity)
            for label in LABELS:
                change = changes[label]
                print(_row(name, label, intensity, change))
                if intensity == 1.0 and change is not None:
                    full[label][name] = change
    if 1.0 not in intensities:
        return
    names = [name for name, _ in portraits]
    print(f"\nmedian over {len(portraits)} portrait(s) at intensity 1 vs the targets (then each portrait):")
    missed = 0
    met_by = dict.fromkeys(names, 0)
    for target in EXPRESSION_TARGETS:
        values = {n: target.value(c) for n, c in full[target.emotion].items()}
        each = "  ".join(f"{n} {values[n]:+5.1f}" if n in values else f"{n} none" for n in names)
        for n, v in values.items():
            met_by[n] += v >= target.minimum
        if not values:
            print(f"  {target.describe():<38} no face found  MISS")
            missed += 1
            continue
        median = float(np.median(list(values.values())))
        ok = median >= target.minimum
        missed += not ok
        print(f"  {target.describe():<38} {median:+6.1f} {'ok  ' if ok else 'MISS'}  {each}")
    print(f"{len(EXPRESSION_TARGETS) - missed}/{len(EXPRESSION_TARGETS)} targets met by the median; per portrait: "
          + ", ".join(f"{n} {k}/{len(EXPRESSION_TARGETS)}" for n, k in met_by.items()))  # fmt: skip
    scratch.cleanup()


if __name__ == "__main__":
    main()
