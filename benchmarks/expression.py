"""Expressions of the rendered avatar, measured independently: a landmark reader reads mouth-corner, brow and
lip-gap heights off silent rendered frames, relative to the neutral frame, in percent of the outer eye-corner
distance.

Two readers (avatar.landmark_readers): mediapipe's face mesh (which also places the renderer's rig) and dlib's
68-point predictor (`ibug68`, a different model on different data; installed by EMPATHICA_MEASURE=1
scripts/setup.sh). Where dlib's fit on the neutral frame lies far from the mesh's (its corners more than 10 % of
the eye-corner distance away), its figures for that portrait are left out as a misfit.

Prints every emotion's figures per reader, portrait and intensity, then per reader the median over the portraits
at intensity 1 against the targets (avatar.metrics.EXPRESSION_TARGETS), each marked ok or MISS.

Usage: python -m benchmarks.expression [--portrait face.jpg ...] [--held-out] [--intensity 0.5 ...]
[--reader mesh|ibug68 ...] (default: the personas' built-in portraits, the astronaut and Grace Hopper, plus
scikit-image's cameraman, at intensities 0.5 and 1, both readers; --held-out adds four photos the rig was never
tuned on, fetched once from PyPI: benchmarks.held_out_faces)

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

import numpy as np

from agent.personas import BUILTIN_PORTRAITS, portrait_path
from avatar.arrays import Floats, Image
from avatar.landmark_readers import READERS, Reader, ReaderMissing, corner_offsets
from avatar.landmarks import LandmarkDetector
from avatar.metrics import EXPRESSION_TARGETS, FaceReading, expression_changes
from avatar.portrait import load_portrait
from avatar.renderer import REST_MOUTH, FaceRenderer
from benchmarks.held_out_faces import held_out_portraits
from compose.config import load_config
from compose.engines import wears_glasses
from core.emotion import BASIC_EMOTIONS, EmotionState
from tests.sample_faces import cameraman_png

LABELS = tuple(e for e in BASIC_EMOTIONS if e != "neutral")
_MISFIT = 10.0  # % of the eye-corner distance: past this a reader's neutral fit disagrees with the mesh's


def _cameraman(folder: Path) -> Path:
    """scikit-image's cameraman (tests.sample_faces) written as a PNG in `folder`: the face mesh does not find his
    small near-profile face in the full frame."""
    path = folder / "cameraman.png"
    path.write_bytes(cameraman_png())
    return path


def _row(name: str, label: str, intensity: float, change: FaceReading | None) -> str:
    if change is None:
        return f"{name:>14} {label:>9} {intensity:4.1f}  no face found"
    return (
        f"{name:>14} {label:>9} {intensity:4.1f} {change.corner_height:+8.1f} {change.brow_height:+7.1f} "
        f"{change.inner_brow_height:+12.1f} {change.mouth_open:+11.1f}"
    )


def _fit(reader: Reader, neutral: Image, mesh: Floats) -> float:
    """How far `reader`'s eye and mouth corners on the neutral frame lie from the face mesh's (mean, % of the outer
    eye-corner distance): a gross misfit (dlib's box slipping down a glasses-framed face) makes its figures noise."""
    points = reader.read([neutral])[0]
    if points is None:
        return float("inf")
    return 100 * float(corner_offsets(points, reader.layout, mesh).mean())


def _summary(reader: str, names: list[str], full: dict[str, dict[str, FaceReading]]) -> None:
    print(f"\n[{reader}] median over {len(names)} portrait(s) at intensity 1 vs the targets (then each portrait):")
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
    print(f"[{reader}] {len(EXPRESSION_TARGETS) - missed}/{len(EXPRESSION_TARGETS)} targets met by the median; per "
          "portrait: " + ", ".join(f"{n} {k}/{len(EXPRESSION_TARGETS)}" for n, k in met_by.items()))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--portrait", type=Path, action="append", help="a JPEG/PNG with a face (repeatable)")
    parser.add_argument(
        "--held-out", action="store_true", help="add the held-out photos of benchmarks.held_out_faces (from PyPI)"
    )
    parser.add_argument("--intensity", type=float, action="append", help="intensities (default 0.5 and 1.0)")
    parser.add_argument(
        "--reader", choices=sorted(READERS), action="append", help="landmark readers (default: mesh and ibug68)"
    )
    args = parser.parse_args()
    readers = [READERS[r] for r in args.reader or ["mesh", "ibug68"]]
    detector = LandmarkDetector()
    scratch = tempfile.TemporaryDirectory()
    config = load_config()
    portraits: list[tuple[str, Path | None]] = (
        [(p.stem, p) for p in args.portrait]
        if args.portrait
        else [(n, portrait_path(n)) for n in BUILTIN_PORTRAITS] + [("cameraman", _cameraman(Path(scratch.name)))]
    )
    if args.held_out:
        portraits += held_out_portraits()
    intensities = sorted(set(args.intensity or [0.5, 1.0]))
    print(f"{'portrait':>14} {'emotion':>9} {'int':>4} {'corners':>8} {'brows':>7} {'inner brows':>12} "
          f"{'mouth open':>11}  (% of the outer eye-corner distance, vs neutral)")  # fmt: skip
    full: dict[str, dict[str, dict[str, FaceReading]]] = {r.name: {e: {} for e in LABELS} for r in readers}
    names: dict[str, list[str]] = {r.name: [] for r in readers}
    for name, path in portraits:
        portrait = load_portrait(path, 512, detector)
        glasses = wears_glasses(config, name if name in BUILTIN_PORTRAITS else str(path))
        renderer = FaceRenderer(portrait, detector.detect(portrait), glasses=glasses)
        neutral = renderer.render_frame(REST_MOUTH, EmotionState.from_label("neutral", 0.0))
        mesh = READERS["mesh"].read([neutral])[0]
        for reader in list(readers):
            try:
                fit = 0.0 if reader.name == "mesh" or mesh is None else _fit(reader, neutral, mesh)
            except ReaderMissing as missing:
                print(f"[{reader.name}] skipped: {missing}")
                readers.remove(reader)
                continue
            if fit > _MISFIT:
                print(f"[{reader.name}] {name}: its corners lie {fit:.0f} % of the eye-corner distance from the "
                      f"mesh's on the neutral frame: a misfit, left out")  # fmt: skip
                continue
            names[reader.name].append(name)
            for intensity in intensities:
                changes = expression_changes(renderer, LABELS, intensity, reader)
                for label in LABELS:
                    change = changes[label]
                    print(f"[{reader.name:>6}] " + _row(name, label, intensity, change))
                    if intensity == 1.0 and change is not None:
                        full[reader.name][label][name] = change
    if 1.0 in intensities:
        for reader in readers:
            _summary(reader.name, names[reader.name], full[reader.name])
    scratch.cleanup()


if __name__ == "__main__":
    main()
