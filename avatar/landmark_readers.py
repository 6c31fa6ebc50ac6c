"""Landmark readers that measure rendered frames: two independent models, each with its own point layout.

The renderer places its rig on mediapipe's face mesh, so reading its frames back with that same mesh is only
half independent: the mesh's shape prior both drives the warp and judges it. The second reader is dlib's
68-point shape predictor (an ensemble of regression trees trained on iBUG 300-W), a different model family on
different data. Figures that both readers agree on are about the face, not about one model's habits.

The dlib reader is optional: `scripts/setup.sh` installs it for the tests and when EMPATHICA_MEASURE=1
(`requirements-measure.lock`). Its landmark model comes from the `face_recognition_models` package (CC0), but it
was trained on iBUG 300-W, whose licence excludes commercial use: it measures, it is never part of the product.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from avatar.arrays import Floats, Image
from avatar.face_field import BROWS
from avatar.landmarks import LOWER_LIP_INNER, MOUTH_LEFT, MOUTH_RIGHT, UPPER_LIP_INNER

_UPSAMPLE = 2
_INSTALL = (
    "run EMPATHICA_MEASURE=1 scripts/setup.sh (or pip install --no-deps --require-hashes -r requirements-measure.lock)"
)


@dataclass(frozen=True)
class Layout:
    """Where a reader's points are: the indices that FaceReading's heights are taken from."""

    eye_corners: tuple[int, int]  # outer eye corners: the face's scale, unmoved by mouth and brows
    brows: tuple[int, ...]  # every brow point
    inner_brows: tuple[int, ...]  # the brows' inner ends
    mouth_corners: tuple[int, int]
    upper_lip_inner: int  # the lips' inner edges on the midline
    lower_lip_inner: int


MESH = Layout(
    eye_corners=(33, 263),
    brows=tuple(i for upper, lower in BROWS for i in upper + lower),
    inner_brows=tuple([upper[0] for upper, _ in BROWS] + [lower[0] for _, lower in BROWS]),
    mouth_corners=(MOUTH_LEFT, MOUTH_RIGHT),
    upper_lip_inner=UPPER_LIP_INNER,
    lower_lip_inner=LOWER_LIP_INNER,
)
# iBUG 300-W's 68 points (0-based): brows 17-26 (inner ends 21, 22), outer eye corners 36 and 45, mouth corners 48
# and 54, inner lips on the midline 62 and 66.
IBUG68 = Layout(
    eye_corners=(36, 45),
    brows=tuple(range(17, 27)),
    inner_brows=(21, 22),
    mouth_corners=(48, 54),
    upper_lip_inner=62,
    lower_lip_inner=66,
)


@dataclass(frozen=True)
class Reader:
    """A landmark model that reads RGB frames: points (N, 2) in pixels per frame, or None where no face is found."""

    name: str
    layout: Layout
    read: Callable[[Sequence[Image]], list[Floats | None]]


class ReaderMissing(RuntimeError):
    """The optional reader's packages are not installed."""


def read_mesh(frames: Sequence[Image]) -> list[Floats | None]:
    """Face-mesh landmarks (468, 2) for each RGB frame, or None where no face is found."""
    from mediapipe.python.solutions import face_mesh  # heavy: only measurements need it here

    out: list[Floats | None] = []
    with face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=False) as mesh:
        for frame in frames:
            h, w = frame.shape[:2]
            found = mesh.process(np.ascontiguousarray(frame)).multi_face_landmarks
            out.append(np.array([(p.x * w, p.y * h) for p in found[0].landmark]) if found else None)
    return out


def read_ibug68(frames: Sequence[Image]) -> list[Floats | None]:
    """dlib's 68 landmarks (68, 2) for each RGB frame (the largest face dlib's detector finds), or None.

    Raises ReaderMissing, saying how to install it, when dlib or its landmark model is not installed.
    """
    try:
        import dlib
    except ImportError as error:
        raise ReaderMissing(f"the ibug68 reader needs dlib, which is not installed: {_INSTALL}") from error
    predictor = dlib.shape_predictor(str(_ibug68_model()))
    detector = dlib.get_frontal_face_detector()
    out: list[Floats | None] = []
    for frame in frames:
        # dlib places points on whole pixels; on a frame upsampled twice they land on half pixels of the original
        # (a pixel is about 1 % of the outer eye-corner distance on a 512 px portrait, as much as a small change).
        image = cv2.resize(np.ascontiguousarray(frame), None, fx=_UPSAMPLE, fy=_UPSAMPLE, interpolation=cv2.INTER_CUBIC)
        faces = detector(image, 0)
        if not faces:
            out.append(None)
            continue
        shape = predictor(image, max(faces, key=lambda r: r.area()))
        out.append(np.array([(p.x, p.y) for p in shape.parts()], np.float64) / _UPSAMPLE)
    return out


def _ibug68_model() -> Path:
    """The 68-point model file in the face_recognition_models package, found without importing the package (its
    __init__ needs setuptools' pkg_resources, which a modern venv lacks)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ReaderMissing(f"the ibug68 reader needs its landmark model, which is not installed: {_INSTALL}")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / "shape_predictor_68_face_landmarks.dat"
    if not path.is_file():
        raise ReaderMissing(f"{path} is missing: reinstall it ({_INSTALL})")
    return path


def corner_offsets(points: Floats, layout: Layout, mesh: Floats) -> Floats:
    """How far a reader's outer eye corners and mouth corners (`points`, placed as `layout` says) lie from the face
    mesh's on the same frame (`mesh`), each in outer eye-corner distances (as the mesh measures it): a reader whose
    fit strays far from the mesh's on a neutral frame is measuring a misplaced face."""
    ours = [*layout.eye_corners, *layout.mouth_corners]
    theirs = [*MESH.eye_corners, *MESH.mouth_corners]
    scale = float(np.linalg.norm(mesh[MESH.eye_corners[1]] - mesh[MESH.eye_corners[0]]))
    offsets: Floats = np.linalg.norm(points[ours] - mesh[theirs], axis=1) / scale
    return offsets


READERS: dict[str, Reader] = {
    "mesh": Reader("mesh", MESH, read_mesh),
    "ibug68": Reader("ibug68", IBUG68, read_ibug68),
}
