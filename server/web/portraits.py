"""Uploaded portraits: validated, cropped around the one face, stored by content hash, bounded in number.

A kiosk or a user may bring their own face for the avatar. The upload is checked (server.web.image_upload), must show
exactly one face, and is normalised to what the renderer wants: a square crop around the face at the avatar size
(avatar.portrait.face_square, as for configured portraits). The result is stored as `<sha256>.png` in the data
folder, named by its content and never by anything the client sent, so the same photo always gets the same id and
no name can reach outside the folder. Storing touches the file; the least recently used files beyond
`max_portraits` are deleted, so uploads cannot fill the disk.

An upload marked as wearing glasses is the same pixels under another id (the hash covers the mark) with an empty
`<sha256>.glasses` file beside it (avatar.portrait.glasses_marker): its renderer keeps the glasses' rims still, and
a renderer already loaded for the unmarked upload is never reused for it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from avatar.portrait import face_square, glasses_marker, pose_advice
from server.web.image_upload import ImageLimits, UploadRejected, decode_image

log = logging.getLogger(__name__)

PORTRAIT_ID = re.compile(r"[0-9a-f]{64}")
SUFFIX = ".png"  # lossless: the renderer re-detects landmarks on exactly these pixels


@dataclass(frozen=True)
class StoredPortrait:
    """A portrait that passed every check, as stored: its id, the normalised image's size, and what would make a
    better photo (avatar.portrait.pose_advice; empty for a frontal, upright face)."""

    portrait_id: str
    width: int
    height: int
    path: Path
    advice: tuple[str, ...] = ()
    glasses: bool = False  # marked as wearing glasses (see the module docstring)


def portraits_dir(database: Path) -> Path:
    """Where uploaded portraits live: a `portraits` folder next to the conversation database."""
    return Path(database).expanduser().parent / "portraits"


def is_portrait_id(value: str) -> bool:
    """Whether `value` has the form of a portrait id (64 lower-case hex digits, a sha256)."""
    return PORTRAIT_ID.fullmatch(value) is not None


class PortraitStore:
    """Validates, normalises and keeps uploaded portraits; `add` is blocking (run it in a worker thread)."""

    def __init__(
        self,
        directory: Path,
        size: int,
        limits: ImageLimits | None = None,
        max_portraits: int = 200,
        find_faces: Callable[[np.ndarray], list[np.ndarray]] | None = None,
    ) -> None:
        """`size`: the avatar's frame size (the crop is resized to size x size); `find_faces`: avatar.faces."""
        self.directory = Path(directory)
        self.size = size
        self.limits = limits or ImageLimits()
        self.max_portraits = max_portraits
        self._find_faces = find_faces
        self._lock = threading.Lock()  # adding and evicting from several upload threads

    def add(self, data: bytes, glasses: bool = False) -> StoredPortrait:
        """Check, normalise and store one uploaded image (`glasses`: its face wears glasses); raises UploadRejected
        saying what to upload instead."""
        image = decode_image(data, self.limits)
        portrait, advice = self._normalise(image)
        png = _encode_png(portrait)
        # Named by the normalised pixels (not the PNG bytes, which an encoder change could alter) and the mark.
        digest = hashlib.sha256(np.ascontiguousarray(portrait).data)
        if glasses:
            digest.update(b"glasses")
        portrait_id = digest.hexdigest()
        path = self.directory / f"{portrait_id}{SUFFIX}"
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            if glasses:
                glasses_marker(path).touch()  # before the image: a renderer never sees the image unmarked
            if path.is_file():
                os.utime(path)  # uploaded again: the most recently used now
            else:
                _write_atomically(path, png)
            self._evict(keep=path)
        return StoredPortrait(portrait_id, self.size, self.size, path, tuple(advice), glasses)

    def path_of(self, portrait_id: str) -> Path | None:
        """The stored file of `portrait_id` (marked as used), or None when there is no such portrait."""
        if not is_portrait_id(portrait_id):
            return None
        path = self.directory / f"{portrait_id}{SUFFIX}"
        try:
            os.utime(path)
        except OSError:  # never stored, or evicted since
            return None
        return path

    def _normalise(self, image: np.ndarray) -> tuple[np.ndarray, list[str]]:
        if self._find_faces is None:
            from avatar.faces import find_faces

            self._find_faces = find_faces
        faces = self._find_faces(image)
        if not faces:
            raise UploadRejected(
                422, "no_face", "no face found; upload a well-lit photo with one clearly visible, roughly frontal face"
            )
        if len(faces) > 1:
            raise UploadRejected(422, "several_faces", f"{len(faces)} faces found; upload a photo of one person alone")
        h, w = image.shape[:2]
        left, top, side = face_square(faces[0], w, h)
        if side < self.limits.min_side:
            raise UploadRejected(
                422, "face_too_small",
                f"the face is too small ({side} px with its margin); upload a closer photo where the face and hair "
                f"span at least {self.limits.min_side} pixels",
            )  # fmt: skip
        crop = image[top : top + side, left : left + side]
        interp = cv2.INTER_AREA if side > self.size else cv2.INTER_CUBIC
        portrait = np.ascontiguousarray(cv2.resize(crop, (self.size, self.size), interpolation=interp))
        return portrait, pose_advice(faces[0])

    def _evict(self, keep: Path) -> None:
        """Delete the least recently used portraits beyond `max_portraits` (never `keep`, the one just stored)."""
        stored = []
        for path in self.directory.glob(f"*{SUFFIX}"):
            try:
                stored.append((path.stat().st_mtime_ns, path))
            except OSError:  # deleted meanwhile
                continue
        excess = len(stored) - self.max_portraits
        for _, path in sorted(stored):  # oldest use first
            if excess <= 0:
                break
            if path != keep:
                path.unlink(missing_ok=True)
                glasses_marker(path).unlink(missing_ok=True)
                excess -= 1


def _encode_png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(SUFFIX, cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:  # pragma: no cover - encoding a valid uint8 array does not fail
        raise RuntimeError("could not encode the portrait as PNG")
    return buf.tobytes()


def _write_atomically(path: Path, data: bytes) -> None:
    # Write then rename: a reader (a renderer loading this portrait) never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
