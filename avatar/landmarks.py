"""Face landmarks of a portrait, from mediapipe's legacy face mesh (468 points + 10 iris points).

Only the legacy `mediapipe.solutions.face_mesh` route places the points correctly; a `.task` bundle
for the newer Tasks API loads but misplaces them, so that route is deliberately not used here.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avatar.arrays import Floats, Image

log = logging.getLogger(__name__)

# Indices into the 468-point canonical face mesh, named once so the renderer and tests read clearly.
NOSE_TIP = 1
CHIN = 152
UPPER_LIP_TOP = 0  # outer edge of the upper lip, on the midline
UPPER_LIP_INNER = 13
LOWER_LIP_INNER = 14
LOWER_LIP_BOTTOM = 17
MOUTH_LEFT = 61  # mouth corner on the image's left
MOUTH_RIGHT = 291
FOREHEAD = 10

# Inner and outer lip contours, each from the image-left corner to the image-right corner.
UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LOWER_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
UPPER_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LOWER_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
# Face oval, clockwise from the forehead.
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
    148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip


class NoFaceError(ValueError):
    """The image shows no face the landmark model can find."""


@dataclass(frozen=True)
class FaceLandmarks:
    """Landmark pixel coordinates (x, y) as float32 (N, 2), for an image of `width` x `height` pixels."""

    points: Floats
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.points.ndim != 2 or self.points.shape[1] != 2:
            raise ValueError(f"landmark points must have shape (N, 2), got {self.points.shape}")

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, index: int) -> Floats:
        point: Floats = self.points[index]
        return point

    def bbox(self) -> tuple[float, float, float, float]:
        """The tight box (x0, y0, x1, y1) around all points."""
        x0, y0 = self.points.min(axis=0)
        x1, y1 = self.points.max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)

    def scaled(
        self, sx: float, sy: float, dx: float = 0.0, dy: float = 0.0, size: tuple[int, int] | None = None
    ) -> FaceLandmarks:
        """These landmarks after an axis-aligned scale then shift, e.g. to follow a crop and resize."""
        pts = self.points * np.array([sx, sy], np.float32) + np.array([dx, dy], np.float32)
        w, h = size if size is not None else (self.width, self.height)
        return FaceLandmarks(pts.astype(np.float32), w, h)


# Bump when the detection route or its settings change, so stale on-disk results are not reused.
_CACHE_VERSION = "fm-legacy-refine-v1"


def default_cache_dir() -> Path:
    """Where callers that want an on-disk landmark cache usually keep it: ~/.cache/empathica/landmarks."""
    return Path.home() / ".cache" / "empathica" / "landmarks"


class LandmarkDetector:
    """Finds face landmarks with mediapipe's legacy face mesh; results are cached per image content.

    The cache is in memory, and also on disk under `cache_dir` when one is given (one small .npz per image,
    keyed by a hash of its pixels), so a portrait is analysed once per machine rather than once per start.
    """

    def __init__(self, max_faces: int = 4, cache_dir: Path | None = None) -> None:
        self._max_faces = max_faces
        self._cache: dict[str, FaceLandmarks] = {}
        self._lock = threading.Lock()
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None

    def detect(self, image: Image) -> FaceLandmarks:
        """Landmarks of the largest face in an RGB uint8 image.

        Raises NoFaceError when no face is found; logs a warning and keeps the largest face when there are several.
        """
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 image (H, W, 3), got {image.dtype} {image.shape}")
        digest = hashlib.sha1(np.ascontiguousarray(image).data, usedforsecurity=False)
        digest.update(f"{image.shape}{_CACHE_VERSION}".encode())
        key = digest.hexdigest()
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        result = self._load(key, image.shape) or self._run(image)
        self._store(key, result)
        with self._lock:
            self._cache[key] = result
        return result

    def _load(self, key: str, shape: tuple[int, ...]) -> FaceLandmarks | None:
        if self._cache_dir is None:
            return None
        path = self._cache_dir / f"{key}.npz"
        try:
            with np.load(path) as data:
                points = data["points"].astype(np.float32)
            if points.ndim == 2 and points.shape[1] == 2 and len(points) >= 468:
                return FaceLandmarks(points, int(shape[1]), int(shape[0]))
        except (OSError, KeyError, ValueError):  # missing or damaged: detect again
            pass
        return None

    def _store(self, key: str, marks: FaceLandmarks) -> None:
        if self._cache_dir is None:
            return
        path = self._cache_dir / f"{key}.npz"
        if path.exists():
            return
        try:
            self._cache_dir.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a concurrent reader never sees half a file.
            fd, tmp = tempfile.mkstemp(dir=self._cache_dir, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                np.savez(f, points=marks.points)
            os.replace(tmp, path)
        except OSError as exc:  # a read-only home must not stop the avatar
            log.warning("cannot write the landmark cache in %s (%s); continuing without it", self._cache_dir, exc)

    def _run(self, image: Image) -> FaceLandmarks:
        # Imported here: mediapipe pulls in a lot (jax, tflite) and only this path needs it.
        from mediapipe.python.solutions import face_mesh

        h, w = image.shape[:2]
        with face_mesh.FaceMesh(
            static_image_mode=True, refine_landmarks=True, max_num_faces=self._max_faces, min_detection_confidence=0.5
        ) as mesh:
            found = mesh.process(np.ascontiguousarray(image)).multi_face_landmarks
        if not found:
            raise NoFaceError(
                "no face found in the portrait; use a photo with one clearly visible, roughly frontal face"
            )
        faces = [np.array([(p.x * w, p.y * h) for p in f.landmark], np.float32) for f in found]
        if len(faces) > 1:
            log.warning("portrait shows %d faces; animating the largest one", len(faces))
        areas = [float(np.prod(f.max(axis=0) - f.min(axis=0))) for f in faces]
        return FaceLandmarks(faces[int(np.argmax(areas))], w, h)
