"""Engine guards: one call at a time on a local engine, any number on a remote LLM, cancel stops a wait."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from server.turn.engine_guards import CancelledWhileWaiting, EngineGuard, EngineGuards, hold_from_thread


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0)


async def test_a_local_engine_admits_one_call_and_queues_the_next() -> None:
    guard = EngineGuard("tts")
    order: list[str] = []

    async def call(name: str, go: asyncio.Event) -> None:
        async with guard:
            order.append(f"{name} in")
            await go.wait()
            order.append(f"{name} out")

    go_a, go_b = asyncio.Event(), asyncio.Event()
    a = asyncio.create_task(call("a", go_a))
    await asyncio.wait_for(_until(lambda: guard.busy), 5)
    b = asyncio.create_task(call("b", go_b))
    await asyncio.wait_for(_until(lambda: guard.waiting == 1), 5)
    assert order == ["a in"]
    go_a.set()
    go_b.set()
    await asyncio.gather(a, b)
    assert order == ["a in", "a out", "b in", "b out"] and not guard.busy and guard.waiting == 0


async def test_a_remote_llm_admits_every_caller() -> None:
    guards = EngineGuards.create(remote_llm=True)
    async with guards.llm, guards.llm, guards.llm:
        assert not guards.llm.busy
    assert EngineGuards.create().llm.limit == 1 and guards.tts.limit == 1  # everything else stays serial


async def test_cancel_stops_the_wait_and_holds_nothing() -> None:
    guard = EngineGuard("llm")
    cancel = asyncio.Event()
    await guard.acquire()
    waiting = asyncio.create_task(guard.acquire_unless(cancel))
    await asyncio.wait_for(_until(lambda: guard.waiting == 1), 5)
    cancel.set()
    assert await waiting is False
    assert guard.busy and guard.waiting == 0
    with pytest.raises(CancelledWhileWaiting):
        async with guard.held_unless(cancel):
            pass
    guard.release()
    assert not guard.busy  # the cancelled waiters took no slot
    async with guard.held_unless(cancel):  # a free engine is used even by a cancelled turn (it stops later)
        assert guard.busy
    assert not guard.busy


def test_stages_take_their_engines_guard() -> None:
    guards = EngineGuards()
    assert guards.for_stage("asr") is guards.asr
    assert guards.for_stage("tts") is guards.tts
    assert guards.for_stage("render") is guards.render
    assert guards.for_stage("encode") is guards.for_stage("video encoder set-up") is guards.encode
    assert guards.for_stage("prompt") is guards.llm  # the reply model's tokenizer
    assert guards.for_stage("perception") is guards.for_stage("voice affect") is guards.perception
    assert guards.for_stage("something new") is guards.other  # an unknown stage is still serialised


async def test_a_joint_guard_holds_both_engines() -> None:
    guards = EngineGuards()
    async with guards.media():
        assert guards.render.busy and guards.encode.busy
    assert not guards.render.busy and not guards.encode.busy


async def test_a_thread_holds_the_guard_while_it_iterates() -> None:
    guard = EngineGuard("llm")
    loop = asyncio.get_running_loop()
    seen: list[bool] = []

    def words() -> list[str]:
        seen.append(guard.busy)  # read from the worker thread: held while the model runs
        return ["a", "b"]

    out = await asyncio.to_thread(lambda: list(hold_from_thread(guard, loop, asyncio.Event(), lambda: iter(words()))))
    assert out == ["a", "b"] and seen == [True]
    await asyncio.wait_for(_until(lambda: not guard.busy), 5)  # released through the event loop


async def test_a_thread_cancelled_before_it_got_the_model_runs_nothing() -> None:
    guard = EngineGuard("llm")
    loop = asyncio.get_running_loop()
    cancel = asyncio.Event()
    cancel.set()
    called = threading.Event()

    def start() -> list[str]:
        called.set()
        return ["a"]

    out = await asyncio.to_thread(lambda: list(hold_from_thread(guard, loop, cancel, lambda: iter(start()))))
    assert out == [] and not called.is_set()
    await asyncio.wait_for(_until(lambda: not guard.busy), 5)
