"""A short silent clip as one plain MP4 file (H.264 only, no audio track), e.g. for a looping <video> element.

Plain (not fragmented) with the index at the front (`faststart`), so a browser can start playing and loop it
from the first bytes. No audio track: a looping idle face has nothing to say, and a video without audio may
autoplay everywhere. Keyframes every second keep a loop restart (a seek to 0) cheap.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from avatar.arrays import Image

CLIP_MIME = "video/mp4"


def encode_clip(frames: Sequence[Image], fps: int, crf: int = 20, threads: int = 1) -> bytes:
    """Encode square or rectangular RGB uint8 frames (even width and height) as an MP4 file's bytes."""
    if not frames:
        raise ValueError("a clip needs at least one frame")
    h, w = frames[0].shape[:2]
    if w % 2 or h % 2:
        raise ValueError(f"frame width and height must be even for yuv420p, got {w}x{h}")
    # faststart rewrites the finished file to move its index to the front, which needs a real file to reopen.
    with tempfile.TemporaryDirectory(prefix="empathica-clip-") as tmp:
        path = Path(tmp) / "clip.mp4"
        _write(path, frames, fps, w, h, crf, threads)
        return path.read_bytes()


def _write(path: Path, frames: Sequence[Image], fps: int, w: int, h: int, crf: int, threads: int) -> None:
    with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height = w, h
        video.pix_fmt = "yuv420p"
        video.time_base = Fraction(1, fps)
        video.options = {
            "profile": "main",
            "preset": "veryfast",  # rendered on a request, once per portrait and state: keep the wait short
            "crf": str(crf),
            "threads": str(threads),  # the turn pipeline owns the other cores
            "x264-params": f"keyint={fps}:min-keyint={fps}:scenecut=0",
        }
        for i, image in enumerate(frames):
            if image.shape != (h, w, 3) or image.dtype != np.uint8:
                raise ValueError(f"frames must all be RGB uint8 {w}x{h}, got {image.dtype} {image.shape}")
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts = i
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
