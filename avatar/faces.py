"""Every face in a photo, as face-mesh points: to check that an uploaded portrait shows exactly one person.

`avatar.landmarks.LandmarkDetector` animates the largest face and only logs when there are more; a portrait
upload must instead refuse a group photo, so this counts them. It uses the same legacy mediapipe face mesh
route as the renderer, so a face found here is a face the renderer can animate.
"""

from __future__ import annotations

import cv2
import numpy as np

from avatar.arrays import Floats, Image

# Face mesh works on a small internal image anyway; detecting on a bounded copy keeps a 4096 px photo cheap.
_DETECT_SIDE = 1024


def find_faces(image: Image, max_faces: int = 3) -> list[Floats]:
    """The face-mesh points (468 or more, (N, 2) float32 pixels of `image`) of up to `max_faces` faces, largest first.

    `image` is RGB uint8 (H, W, 3). An empty list means no face.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 image (H, W, 3), got {image.dtype} {image.shape}")
    # Imported here: mediapipe pulls in a lot and only this path needs it.
    from mediapipe.python.solutions import face_mesh

    h, w = image.shape[:2]
    scale = min(1.0, _DETECT_SIDE / max(h, w))
    small = image
    if scale < 1.0:
        small = np.asarray(cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA))
    with face_mesh.FaceMesh(
        static_image_mode=True, refine_landmarks=False, max_num_faces=max_faces, min_detection_confidence=0.5
    ) as mesh:
        found = mesh.process(np.ascontiguousarray(small)).multi_face_landmarks or []
    # Normalised coordinates are fractions of the image, so they map straight back to the full-size photo.
    faces = [np.array([(p.x * w, p.y * h) for p in face.landmark], np.float32) for face in found]
    return sorted(faces, key=lambda f: -float(np.prod(f.max(axis=0) - f.min(axis=0))))
