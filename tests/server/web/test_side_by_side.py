"""Sessions side by side over the real websocket: a remote LLM writes two sessions' replies at once, a local one
serves them one after the other (server.turn.engine_guards)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.web.app import PIPELINE_KEY
from tests.server.fakes import FakeResponder
from tests.server.web.test_app import connect, fake_engines, start, until_reply_end


class HeldResponder(FakeResponder):
    """A reply model whose every call blocks until the test releases it: the n-th call waits for `release(n)`."""

    def __init__(self) -> None:
        super().__init__(sentences=("I hear you.",))
        self.log: list[str] = []  # "start n" / "end n", in the order the calls did them
        self._lock = threading.Lock()
        self._started = threading.Semaphore(0)
        self._releases = [threading.Event() for _ in range(8)]

    def _gen(self) -> Iterator[str]:
        with self._lock:
            n = sum(entry.startswith("start") for entry in self.log)
            self.log.append(f"start {n}")
        self._started.release()
        self._releases[n].wait(60)  # at most: a broken test fails on its own timeouts long before this
        yield self.sentences[0]
        with self._lock:
            self.log.append(f"end {n}")

    async def started(self) -> None:
        """Wait until one more call has started (10 s at most: a call that never starts fails the test)."""
        assert await asyncio.to_thread(self._started.acquire, True, 10), f"no further call started: {self.log}"

    def release(self, n: int) -> None:
        self._releases[n].set()

    def release_all(self) -> None:
        for event in self._releases:
            event.set()


async def typed(ws: Any, text: str) -> None:
    await ws.send_json({"type": "text", "text": text})


@dataclass
class TwoSessions:
    """A server with a held reply model and two connected sessions; the first has a turn whose reply is being
    written and the second has just sent one."""

    responder: HeldResponder
    client: Any
    store: Any
    first: Any
    second: Any
    second_ready: dict[str, Any]


@asynccontextmanager
async def two_sessions(tmp_path: Path, **env: str) -> AsyncIterator[TwoSessions]:
    responder = HeldResponder()
    client, store = await start(tmp_path / "db.sqlite3", fake_engines(responder), **env)
    try:
        first, _ = await connect(client)
        second, ready = await connect(client)
        await typed(first, "I feel sad today")
        await responder.started()
        await typed(second, "I feel sad about my exam")
        yield TwoSessions(responder, client, store, first, second, ready)
    finally:
        responder.release_all()
        await client.close()
        store.close()


async def test_a_remote_llm_writes_two_sessions_replies_at_once(tmp_path: Path) -> None:
    async with two_sessions(tmp_path, EMPATHICA_LLM_BACKEND="openai") as s:
        await s.responder.started()  # while the first reply is still being written
        assert s.responder.log == ["start 0", "start 1"]
        s.responder.release_all()
        for ws in (s.first, s.second):
            seen = await until_reply_end(ws)
            assert seen[-1]["cancelled"] is False and seen[-1]["text"] == "I hear you."
            assert any("binary" in m for m in seen), "the reply was voiced and sent as media"


async def test_a_local_llm_serves_one_session_at_a_time(tmp_path: Path) -> None:
    async with two_sessions(tmp_path) as s:  # llm.backend: embedded
        llm = s.client.server.app[PIPELINE_KEY].guards.llm
        await asyncio.wait_for(_until(lambda: llm.waiting == 1), 10)  # the second reply waits for the model
        assert s.responder.log == ["start 0"]
        s.responder.release(0)
        assert (await until_reply_end(s.first))[-1]["text"] == "I hear you."
        await s.responder.started()
        s.responder.release(1)
        assert (await until_reply_end(s.second))[-1]["text"] == "I hear you."
        assert s.responder.log == ["start 0", "end 0", "start 1", "end 1"]


async def test_a_turn_cancelled_while_waiting_for_the_local_llm_never_calls_it(tmp_path: Path) -> None:
    async with two_sessions(tmp_path) as s:
        llm = s.client.server.app[PIPELINE_KEY].guards.llm
        await asyncio.wait_for(_until(lambda: llm.waiting == 1), 10)
        await s.second.send_json({"type": "cancel"})
        await asyncio.wait_for(_until(lambda: llm.waiting == 0), 10)  # it stops waiting while the model is busy
        await typed(s.second, "still there?")  # the next turn waits for the model in its place
        await asyncio.wait_for(_until(lambda: llm.waiting == 1), 10)
        s.responder.release_all()
        assert (await until_reply_end(s.first))[-1]["cancelled"] is False
        end = (await until_reply_end(s.second))[-1]
        assert end["turn_id"] == 1 and end["cancelled"] is False and end["text"] == "I hear you."
        assert s.responder.log == ["start 0", "end 0", "start 1", "end 1"]  # the cancelled turn never called it
        turns = s.store.turns(s.second_ready["session_id"])
        assert [(t.turn_index, t.cancelled, t.reply_text) for t in turns] == [(0, True, ""), (1, False, "I hear you.")]


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.01)
