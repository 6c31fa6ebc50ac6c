"""Sample faces beyond the personas' portraits, for tests and benchmarks that need a hard case.

scikit-image's cameraman (CC0, Lav Varshney; `skimage.data.camera`), cropped to his head: a grey face turned about
40 degrees to the side and looking down, small in the frame (the full frame is mostly tripod and field).
"""

from __future__ import annotations

import cv2
import numpy as np

CAMERAMAN_HEAD = (40, 300, 110, 370)  # rows, columns of the 512x512 `camera` image around the head


def cameraman(scale: int = 1) -> np.ndarray:
    """The cameraman's head as an RGB uint8 image, enlarged `scale` times (his face is about 120 px across)."""
    from skimage import data

    r0, r1, c0, c1 = CAMERAMAN_HEAD
    grey = data.camera()[r0:r1, c0:c1]
    if scale != 1:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(np.repeat(grey[..., None], 3, axis=2))


def cameraman_png(scale: int = 1) -> bytes:
    """`cameraman(scale)` encoded as PNG."""
    ok, buf = cv2.imencode(".png", cv2.cvtColor(cameraman(scale), cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes()
