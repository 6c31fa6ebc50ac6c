"""Run a blocking sentence iterator (the LLM) in its own thread and read it from asyncio.

The LLM writes sentence n+1 in this thread while the event loop voices, renders and encodes sentence n. After the
first sentence the thread may hold (`hold_after_first`): on two cores the model writing on and the first
sentence's voice and face fight for the CPU, and the first video fragment is what the user waits for.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Sentence:
    text: str


@dataclass(frozen=True)
class Failed:
    error: BaseException


@dataclass(frozen=True)
class Done:
    pass


StreamItem = Sentence | Failed | Done


class SentenceStream:
    """Iterates `start()` in a worker thread; items arrive on an asyncio queue; `stop()` ends it early.

    Stopping takes effect at the next sentence boundary: the iterator is closed then, which stops generation.
    `hold_after_first` is called in the worker once the first sentence is queued and before the next is asked for
    (the iterator is lazy, so a model generating it pauses meanwhile); it should return within a bounded time.
    """

    def __init__(
        self,
        start: Callable[[], Iterator[str]],
        loop: asyncio.AbstractEventLoop,
        hold_after_first: Callable[[], object] | None = None,
    ) -> None:
        self._start = start
        self._hold_after_first = hold_after_first
        self._loop = loop
        self._queue: asyncio.Queue[StreamItem] = asyncio.Queue()
        self._stop = threading.Event()
        self._finished = asyncio.Event()
        self._thread = threading.Thread(target=self._run, name="empathica-llm", daemon=True)
        self.started_at = 0.0
        self.first_sentence_s: float | None = None
        self.total_s: float | None = None

    def start(self) -> None:
        """Start generating."""
        self.started_at = time.perf_counter()
        self._thread.start()

    def stop(self) -> None:
        """Ask the generator to stop at the next sentence boundary."""
        self._stop.set()

    async def next(self, cancel: asyncio.Event) -> StreamItem | None:
        """The next item, or None as soon as `cancel` is set."""
        if cancel.is_set():
            return None
        getter = asyncio.ensure_future(self._queue.get())
        waiter = asyncio.ensure_future(cancel.wait())
        try:
            done, _ = await asyncio.wait({getter, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if getter in done:
            return getter.result()
        getter.cancel()
        return None

    async def wait_finished(self) -> None:
        """Wait until the worker thread has returned (so the model is free for the next turn)."""
        if self._thread.ident is not None:
            await self._finished.wait()

    def _call(self, fn: Callable[..., object], *args: object) -> None:
        # RuntimeError: the event loop has closed (shutdown), nobody is listening any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(fn, *args)

    def _put(self, item: StreamItem) -> None:
        self._call(self._queue.put_nowait, item)

    def _run(self) -> None:
        iterator: Iterator[str] | None = None
        try:
            iterator = self._start()
            for sentence in iterator:
                first = self.first_sentence_s is None
                if first:
                    self.first_sentence_s = time.perf_counter() - self.started_at
                if self._stop.is_set():
                    break
                self._put(Sentence(sentence))
                if first and self._hold_after_first is not None:
                    self._hold_after_first()
            else:
                self.total_s = time.perf_counter() - self.started_at
            self._put(Done())
        except BaseException as exc:  # the event loop reports it as a stage failure
            self._put(Failed(exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):  # must not hide the real outcome
                    close()
            self._call(self._finished.set)
