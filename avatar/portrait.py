"""Load the avatar's portrait: a user photo or the default public-domain one, cropped square around the face."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from avatar.arrays import Floats, Image
from avatar.landmarks import FACE_OVAL, LandmarkDetector

# The face (oval from forehead to chin) fills about this fraction of the square crop's height: enough margin
# for hair, ears and neck so the warp has room, while the mouth stays big enough to read at 512x512.
_FACE_FRACTION = 0.55


class PortraitError(ValueError):
    """The portrait file is missing, unreadable or not an image."""


def default_portrait() -> Image:
    """NASA's astronaut portrait (public domain), as bundled with scikit-image."""
    try:
        from skimage import data
    except ImportError as exc:  # pragma: no cover - scikit-image is a declared dependency
        raise PortraitError("the default portrait needs scikit-image: pip install scikit-image") from exc
    return np.ascontiguousarray(data.astronaut())


def read_image(path: Path) -> Image:
    """Read a JPEG/PNG (anything OpenCV decodes) as RGB uint8; alpha is dropped, grey is expanded."""
    path = Path(path)
    if not path.is_file():
        raise PortraitError(f"portrait file {path} does not exist; pass the path of a JPEG or PNG photo")
    raw = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(raw, cv2.IMREAD_COLOR) if raw.size else None
    if image is None:
        raise PortraitError(f"cannot read {path} as an image; use a JPEG or PNG photo of a face")
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), np.uint8)


def face_square(points: Floats, width: int, height: int) -> tuple[int, int, int]:
    """The square (x0, y0, side) around the face oval, with margin, shifted to stay inside the image if it can."""
    oval = points[list(FACE_OVAL)]
    (x0, y0), (x1, y1) = oval.min(axis=0), oval.max(axis=0)
    side = round(max(y1 - y0, x1 - x0) / _FACE_FRACTION)
    side = min(side, width, height)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 + 0.05 * side  # a little lower: show the chin and neck
    left = round(min(max(cx - side / 2, 0), width - side))
    top = round(min(max(cy - side / 2, 0), height - side))
    return left, top, side


def load_portrait(path: Path | None, size: int, detector: LandmarkDetector | None = None) -> Image:
    """The portrait as an RGB uint8 (size, size, 3) array, cropped square around its (largest) face.

    `path` None gives the default astronaut portrait. Raises PortraitError for unreadable files and
    avatar.landmarks.NoFaceError when the image shows no face.
    """
    if size < 64:
        raise ValueError(f"portrait size must be at least 64 pixels, got {size}")
    image = default_portrait() if path is None else read_image(Path(path))
    detector = detector or LandmarkDetector()
    marks = detector.detect(image)
    left, top, side = face_square(marks.points, image.shape[1], image.shape[0])
    crop = image[top : top + side, left : left + side]
    interp = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(crop, (size, size), interpolation=interp))
