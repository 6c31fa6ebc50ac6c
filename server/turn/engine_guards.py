"""Which engine calls may run at once, across every session: one at a time on each local engine, many on a remote LLM.

Sessions' turns run side by side. A local engine (ASR, perception, TTS, face renderer, video encoder, an embedded
llama.cpp or transformers model) is one native model on the machine's cores, and some are not safe to call from two
threads, so each has a guard that admits one call at a time. A remote OpenAI-compatible server (llama.cpp's server
with parallel slots, vLLM) batches requests itself: its guard admits every caller, so one session's reply is
generated while another's is voiced, and the server's own queue decides the rest.

The turn pipeline takes the guard of the engine each stage uses (`EngineGuards.for_stage`); the microphone's partial
transcripts take the ASR guard, the idle clips the renderer's and the encoder's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import TypeVar

T = TypeVar("T")


class CancelledWhileWaiting(Exception):
    """The turn was cancelled while it waited for a busy engine (it never used the engine)."""


class EngineGuard:
    """Admits at most `limit` callers at once (None: any number); `async with guard:` around one engine call."""

    def __init__(self, name: str, limit: int | None = 1) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"the {name} guard needs a limit of at least 1 (or None for any number), not {limit}")
        self.name = name
        self.limit = limit
        self._slots = asyncio.Semaphore(limit) if limit is not None else None
        self.waiting = 0  # callers queued for a slot now (a gauge for tests and metrics)

    @property
    def busy(self) -> bool:
        """A new caller would have to wait (e.g. skip an optional call, like a partial transcript)."""
        return self._slots is not None and self._slots.locked()

    async def acquire(self) -> None:
        """Take a slot, waiting for one; pair with `release`."""
        if self._slots is None:
            return
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1

    def release(self) -> None:
        """Give back a slot taken by `acquire`."""
        if self._slots is not None:
            self._slots.release()

    async def acquire_unless(self, cancel: asyncio.Event) -> bool:
        """Take a slot, or give up waiting as soon as `cancel` is set (returns False; nothing is held then).

        A free slot is taken at once, cancelled or not: only waiting for a busy engine stops on a cancel, so a lone
        session's turn behaves as before (it notices the cancel at its usual places).
        """
        if not self.busy:
            await self.acquire()
            return True
        if cancel.is_set():
            return False
        taking = asyncio.ensure_future(self.acquire())
        stopping = asyncio.ensure_future(cancel.wait())
        try:
            await asyncio.wait({taking, stopping}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # the waiting task itself was cancelled: hold nothing
            await _drop(taking, self)
            raise
        finally:
            stopping.cancel()
        if not taking.done():
            await _drop(taking, self)
            return False
        taking.result()
        return True

    @contextlib.asynccontextmanager
    async def held_unless(self, cancel: asyncio.Event) -> AsyncIterator[None]:
        """Hold a slot for the `async with` block; raises CancelledWhileWaiting if `cancel` is set first."""
        if not await self.acquire_unless(cancel):
            raise CancelledWhileWaiting(f"cancelled while waiting for the {self.name} engine")
        try:
            yield
        finally:
            self.release()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()


async def _drop(taking: asyncio.Future[None], guard: EngineGuard) -> None:
    """Stop waiting for a slot; a slot granted meanwhile is given back."""
    taking.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await taking
    if not taking.cancelled() and taking.exception() is None:
        guard.release()


class JointGuard:
    """Several guards held together, always taken in the order given (a fixed order cannot deadlock)."""

    def __init__(self, *guards: EngineGuard) -> None:
        self.guards = guards

    async def __aenter__(self) -> None:
        taken: list[EngineGuard] = []
        try:
            for guard in self.guards:
                await guard.acquire()
                taken.append(guard)
        except BaseException:
            for guard in reversed(taken):
                guard.release()
            raise

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for guard in reversed(self.guards):
            guard.release()


# The pipeline's stage names (server.turn.pipeline `_stage`) and the guard each one takes.
_STAGES = {
    "asr": "asr",
    "voice affect": "perception",
    "perception": "perception",
    "prompt": "llm",  # the reply model's tokenizer counts the prompt
    "persona engines": "setup",
    "tts": "tts",
    "render": "render",
    "video encoder set-up": "encode",
    "encode": "encode",
}


@dataclass(frozen=True)
class EngineGuards:
    """One guard per kind of engine, shared by every session of a server."""

    asr: EngineGuard = field(default_factory=lambda: EngineGuard("asr"))
    # Reading the user: text perception, the crisis screen, the reply emotion, the voice's affect.
    perception: EngineGuard = field(default_factory=lambda: EngineGuard("perception"))
    llm: EngineGuard = field(default_factory=lambda: EngineGuard("llm"))  # the reply model and the summarizer
    tts: EngineGuard = field(default_factory=lambda: EngineGuard("tts"))
    render: EngineGuard = field(default_factory=lambda: EngineGuard("render"))
    encode: EngineGuard = field(default_factory=lambda: EngineGuard("encode"))
    setup: EngineGuard = field(default_factory=lambda: EngineGuard("setup"))  # loading a persona's engines
    other: EngineGuard = field(default_factory=lambda: EngineGuard("other"))  # a stage not named above

    @classmethod
    def create(cls, remote_llm: bool = False) -> EngineGuards:
        """Guards for a server; `remote_llm`: the reply model is an OpenAI-compatible server (called concurrently)."""
        return cls(llm=EngineGuard("llm", None)) if remote_llm else cls()

    def for_stage(self, stage: str) -> EngineGuard:
        """The guard a pipeline stage takes, by the stage's name."""
        guard: EngineGuard = getattr(self, _STAGES.get(stage, "other"))
        return guard

    def media(self) -> JointGuard:
        """The renderer's and the encoder's guards together (a clip renders and encodes in one call)."""
        return JointGuard(self.render, self.encode)

    def partials(self) -> JointGuard:
        """The recognizer's and perception's guards together (a partial transcript, and how its words read)."""
        return JointGuard(self.asr, self.perception)


def hold_from_thread(
    guard: EngineGuard, loop: asyncio.AbstractEventLoop, cancel: asyncio.Event, start: Callable[[], Iterator[T]]
) -> Iterator[T]:
    """Iterate `start()` in a worker thread while holding `guard` (the event loop grants it; this thread waits).

    For a generator that runs in its own thread, e.g. the LLM's sentences (server.turn.llm_stream): the slot is
    held until the iterator is exhausted or closed. A turn cancelled while waiting yields nothing.
    """
    asyncio.run_coroutine_threadsafe(guard.acquire(), loop).result()
    try:
        if not cancel.is_set():  # read from this thread: a plain flag, and a late answer only costs one sentence
            yield from start()
    finally:
        with contextlib.suppress(RuntimeError):  # the loop has closed (shutdown): nobody waits any more
            loop.call_soon_threadsafe(guard.release)
