"""Load the avatar's portrait: a user photo or the default public-domain one, cropped square around the face."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import cv2
import numpy as np

from avatar.arrays import Floats, Image
from avatar.landmarks import FACE_OVAL, LandmarkDetector

log = logging.getLogger(__name__)

# The face (oval from forehead to chin) fills about this fraction of the square crop's height: enough margin
# for hair, ears and neck so the warp has room, while the mouth stays big enough to read at 512x512.
_FACE_FRACTION = 0.55


# Beyond these the rig still runs, but a turned face shows expressions and lip-sync foreshortened (the near-profile
# cameraman of benchmarks/expression.py, turned about 40 degrees, reads as almost unchanged) and a tilted one makes
# brows and mouth move askew of the frame's vertical.
_MAX_TURN = 25.0  # degrees to either side
_MAX_TILT = 15.0  # degrees
_NOSE_TIP, _CHEEK_LEFT, _CHEEK_RIGHT, _EYE_LEFT, _EYE_RIGHT = 1, 234, 454, 33, 263


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


def face_square(
    points: Floats, width: int, height: int, fraction: float = _FACE_FRACTION, lower: float = 0.05
) -> tuple[int, int, int]:
    """The square (x0, y0, side) around the face oval, which fills `fraction` of its side, centred `lower` of the side
    below the oval's middle (the chin and neck), shifted to stay inside the image if it can."""
    oval = points[list(FACE_OVAL)]
    (x0, y0), (x1, y1) = oval.min(axis=0), oval.max(axis=0)
    side = round(max(y1 - y0, x1 - x0) / fraction)
    side = min(side, width, height)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 + lower * side
    left = round(min(max(cx - side / 2, 0), width - side))
    top = round(min(max(cy - side / 2, 0), height - side))
    return left, top, side


def pose_advice(points: Floats) -> list[str]:
    """What to change about a photo whose face (face-mesh `points`, pixels) is turned or tilted too far for the
    avatar to read well; empty for a roughly frontal, upright face.

    The turn is estimated from how far the nose tip sits off the middle of the cheeks' outline (the asin of the
    offset over the half width), the tilt from the line through the outer eye corners: rough, a few degrees, enough
    to tell a frontal photo from a three-quarter view.
    """
    nose, left, right = (float(points[i][0]) for i in (_NOSE_TIP, _CHEEK_LEFT, _CHEEK_RIGHT))
    to_left, to_right = abs(nose - left), abs(right - nose)
    turn = math.degrees(math.asin((to_left - to_right) / max(to_left + to_right, 1e-6)))
    (x0, y0), (x1, y1) = points[_EYE_LEFT][:2], points[_EYE_RIGHT][:2]
    tilt = math.degrees(math.atan2(float(y1 - y0), float(x1 - x0)))
    advice = []
    if abs(turn) > _MAX_TURN:
        advice.append(
            f"the face is turned about {abs(turn):.0f} degrees to the side, so its expressions and lip movements "
            "will be hard to see: a photo looking straight at the camera works best"
        )
    if abs(tilt) > _MAX_TILT:
        advice.append(f"the head is tilted about {abs(tilt):.0f} degrees: an upright photo works best")
    return advice


def glasses_marker(path: Path) -> Path:
    """The file whose presence beside the portrait at `path` says that its face wears glasses (an empty file:
    `face.png` -> `face.glasses`). Uploads marked so get one (server.web.portraits); for configured portraits,
    `avatar.glasses_portraits` says the same. The renderer then keeps the rims still (avatar.brows)."""
    return Path(path).with_suffix(".glasses")


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
    for advice in pose_advice(marks.points):
        log.warning("portrait %s: %s", path or "(default)", advice)
    left, top, side = face_square(marks.points, image.shape[1], image.shape[0])
    crop = image[top : top + side, left : left + side]
    interp = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(crop, (size, size), interpolation=interp))
