"""Idle and listening clips, rendered once per (face, state, mirrored emotion) and kept in a small in-memory cache.

Between replies the web client loops one of these in a <video>, so the face breathes, blinks and (listening)
nods instead of freezing. Rendering takes a few seconds of CPU, on the same renderer the turns use, so it runs in
a worker thread while holding the server's turn lock: a FaceRenderer is not thread-safe (its eye editor keeps
the last edit), and a turn's latency should not share the cores with it. Concurrent requests for a clip that is
being rendered wait for that one rendering.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from avatar.base import LoopRenderer
from avatar.clip_encoder import encode_clip
from avatar.loop import LoopState, render_loop
from core.emotion import EmotionState


@dataclass(frozen=True)
class Clip:
    """One encoded loop and its HTTP entity tag (a hash of the bytes)."""

    data: bytes
    etag: str
    frames: int


def make_clip(
    renderer: LoopRenderer, state: LoopState, fps: int, seconds: float, emotion: EmotionState | None = None
) -> Clip:
    """Render and encode one seamless loop showing `emotion` (neutral if None; blocking: seconds of CPU)."""
    frames = render_loop(renderer, state, fps, seconds, emotion)
    data = encode_clip(frames, fps)
    return Clip(data, f'"{hashlib.sha256(data).hexdigest()[:32]}"', len(frames))


class ClipCache:
    """The clips rendered so far, the `max_clips` most recently used of them (each is ~50-200 kB)."""

    def __init__(
        self, fps: int, seconds: float, guard: AbstractAsyncContextManager[None], max_clips: int = 32
    ) -> None:
        """`guard`: the renderer's and the encoder's, shared with every session's turns (server.turn.engine_guards)."""
        self.fps = fps
        self.seconds = seconds
        self.max_clips = max_clips
        self._guard = guard
        self._clips: OrderedDict[Hashable, Clip] = OrderedDict()
        self._rendering: dict[Hashable, asyncio.Task[Clip]] = {}

    def cached(self, key: Hashable) -> Clip | None:
        """The clip for `key` if it has been rendered and is still kept."""
        clip = self._clips.get(key)
        if clip is not None:
            self._clips.move_to_end(key)
        return clip

    async def get(
        self,
        key: Hashable,
        renderer: Callable[[], LoopRenderer],
        state: LoopState,
        emotion: EmotionState | None = None,
    ) -> Clip:
        """The clip for `key` (a face, a state and an emotion), rendering it with `renderer()` (blocking) if needed."""
        clip = self.cached(key)
        if clip is not None:
            return clip
        task = self._rendering.get(key)
        if task is None:
            task = asyncio.create_task(self._render(key, renderer, state, emotion))
            self._rendering[key] = task
            task.add_done_callback(lambda _: self._rendering.pop(key, None))
        # shield: one impatient client that goes away must not cancel the rendering others wait for.
        return await asyncio.shield(task)

    async def _render(
        self, key: Hashable, renderer: Callable[[], LoopRenderer], state: LoopState, emotion: EmotionState | None
    ) -> Clip:
        async with self._guard:
            clip = await asyncio.to_thread(lambda: make_clip(renderer(), state, self.fps, self.seconds, emotion))
        self._clips[key] = clip
        while len(self._clips) > self.max_clips:
            self._clips.popitem(last=False)
        return clip
