"""The interfaces of the face: a renderer and the video encoder; concrete ones are chosen by configuration.

Callers (the turn pipeline, the idle-clip route, the offline render) depend on these, never on FaceRenderer or
Mp4StreamEncoder, so tests can hand in fakes. Kept free of heavy imports (OpenCV, PyAV).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from avatar.arrays import Image
from core.emotion import EmotionState
from core.media import Speech

if TYPE_CHECKING:
    from avatar.renderer import FramePose


class LoopRenderer(Protocol):
    """What a seamless idle/listening loop needs from a face (avatar.loop.render_loop)."""

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of its frames."""
        ...

    def render_frame(self, shape: Any, emotion: EmotionState, pose: FramePose = ..., speaking: bool = False) -> Image:
        """One frame for a mouth shape, an emotion and a pose, without advancing any clock."""
        ...


class Renderer(LoopRenderer, Protocol):
    """A talking face (avatar.renderer.FaceRenderer)."""

    @property
    def fps(self) -> int:
        """Frames per second of what it renders."""
        ...

    @property
    def loops(self) -> bool:
        """Whether `render_frame` works, so idle and listening clips can be made of this face."""
        ...

    @property
    def base(self) -> Image | None:
        """The still portrait (lips closed) shown when animating fails; None: there is none."""
        ...

    def render_speech(self, speech: Speech, emotion: EmotionState) -> Sequence[Image]:
        """Frames of the face speaking `speech` in `emotion`, round(duration * fps) of them."""
        ...

    def speech_chunks(self, speech: Speech, emotion: EmotionState, chunk_frames: int) -> Iterator[Sequence[Image]]:
        """`render_speech`'s frames, `chunk_frames` at a time, each chunk drawn when the iterator is advanced (so
        the first can be encoded and sent before the rest exist); the motion is planned for the whole speech."""
        ...


class MediaEncoder(Protocol):
    """One fragmented-MP4 stream of frames and their audio (avatar.encoder.Mp4StreamEncoder)."""

    @property
    def mime(self) -> str:
        """The MSE type string of the stream."""
        ...

    @property
    def size(self) -> int:
        """Width and height of its (square) frames."""
        ...

    @property
    def fps(self) -> int:
        """Frames per second."""
        ...

    def add(self, frames: Sequence[Image], pcm: npt.NDArray[np.int16], keyframe: bool = True) -> list[bytes]:
        """Encode frames with their audio; returns finished fMP4 pieces (the first ever is the init segment).
        `keyframe`: start this chunk with a keyframe (the first chunk of a sentence; a part of one goes on without)."""
        ...

    def finish(self) -> list[bytes]:
        """Flush the remaining pieces."""
        ...


EncoderFactory = Callable[[], MediaEncoder]
"""A fresh encoder (one fMP4 stream) per turn."""
