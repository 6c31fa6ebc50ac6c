"""Regression tests for the holes an outside probe found in a running server (issue 16), each over the real route.

Every test replays the probe's exact input against a real aiohttp server (fake engines behind it) and checks what
the user expects instead: one clear error, and the session and the server go on.
"""

from __future__ import annotations

import asyncio
import sqlite3
import struct
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import WSMsgType, WSServerHandshakeError
from aiohttp.test_utils import TestClient

from agent.prompt_budget import PromptBudget
from agent.prompt_cache import PLACEHOLDER
from agent.responder import Responder
from compose.engines import Engines, MediaEngines
from core.emotion import EmotionState
from tests.agent.test_prompt_budget import ContextModel
from tests.server.fakes import (
    MIME,
    FakeEncoder,
    FakeRecognizer,
    FakeRenderer,
    FakeResponder,
    FakeSynthesizer,
    fake_choose,
    fake_perceive,
)
from tests.server.web.test_app import connect, fake_engines, receive_json, start, until_reply_end


def _wav_header(rate: int, data_bytes: int, channels: int = 1) -> bytes:
    """A 44-byte PCM16 WAV header declaring `rate` Hz (the byte rate wraps like a careless writer's would)."""
    block = 2 * channels
    fmt = struct.pack("<HHIIHH", 1, channels, rate, (rate * block) & 0xFFFFFFFF, block, 16)
    return (
        b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
        + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", data_bytes)
    )  # fmt: skip


async def _still_works(ws: Any) -> None:
    await ws.send_json({"type": "text", "text": "still there?"})
    assert (await until_reply_end(ws))[-1]["type"] == "reply_end", "the session goes on"


async def _send_wav(ws: Any, data: bytes) -> dict[str, Any]:
    await ws.send_json({"type": "audio_start", "format": "wav"})
    await ws.send_bytes(data)
    await ws.send_json({"type": "audio_end"})
    return await receive_json(ws)


@pytest.fixture()
async def client(tmp_path: Path) -> Any:
    client, store = await start(tmp_path / "db.sqlite3")
    yield client
    await client.close()
    store.close()


# ---------------------------------------------------------------- 1. a tiny WAV that asks for 640 GiB


async def test_a_244_byte_wav_declaring_4294967291_hz_is_bad_audio_and_the_socket_lives(client: TestClient) -> None:
    wav = _wav_header(4294967291, 200) + bytes(200)
    assert len(wav) == 244
    ws, _ = await connect(client)
    error = await _send_wav(ws, wav)
    assert (error["type"], error["code"]) == ("error", "bad_audio"), error
    assert "8000 to 192000 Hz" in error["message"]
    await _still_works(ws)


async def test_a_4_kb_wav_at_1_hz_is_bad_audio(client: TestClient) -> None:
    ws, _ = await connect(client)
    error = await _send_wav(ws, _wav_header(1, 4000) + bytes(4000))
    assert (error["type"], error["code"]) == ("error", "bad_audio"), error
    await _still_works(ws)


async def test_a_wav_longer_than_the_limit_is_refused_from_its_header(tmp_path: Path) -> None:
    client, store = await start(tmp_path / "db.sqlite3", EMPATHICA_SERVER_MAX_UTTERANCE_SECONDS="1")
    try:
        ws, _ = await connect(client)
        # 2 s at 8 kHz: few enough bytes to pass the byte bound, too long by its header.
        error = await _send_wav(ws, _wav_header(8000, 32000) + bytes(32000))
        assert (error["type"], error["code"]) == ("error", "audio_too_long"), error
        await _still_works(ws)
    finally:
        await client.close()
        store.close()


# ---------------------------------------------------------------- 3. malformed frames that killed the session


@pytest.mark.parametrize(
    "frame",
    [
        "[" * 10_000 + "]" * 10_000,
        '{"type": "text", "text": "hi", "deep": ' + "[" * 10_000 + "]" * 10_000 + "}",
        '{"type": "played", "turn_id": ' + "7" * 5_000 + ', "seconds": 1}',
        '{"type": "hello", "protocol": ' + "9" * 5_000 + "}",
        '{"type": "hello", "protocol": ' + "9" * 4_000 + "}",  # short enough to convert: still refused, briefly
    ],
    ids=["10000-deep", "10000-deep-field", "5000-digit-turn-id", "5000-digit-protocol", "4000-digit-protocol"],
)
async def test_a_malformed_frame_gets_one_error_and_the_session_goes_on(client: TestClient, frame: str) -> None:
    ws, _ = await connect(client)
    await ws.send_str(frame)
    error = await receive_json(ws)
    assert error["type"] == "error" and error["code"] in ("bad_json", "invalid_message"), error
    assert len(error["message"]) < 400, "the error does not echo the number back"
    await ws.send_json({"type": "hello"})
    assert (await receive_json(ws))["type"] == "ready", "exactly one error, then the next answer"
    await _still_works(ws)


class _StillFace(FakeRenderer):
    """A face that can render loop frames (a plain grey square): enough for the clip route's HTTP behaviour."""

    size = (64, 64)
    loops = True

    def render_frame(self, shape: Any, emotion: EmotionState, pose: Any = None, speaking: bool = False) -> Any:
        return np.full((64, 64, 3), 128, np.uint8)


def _engines_with_clips() -> Engines:
    media = MediaEngines(FakeSynthesizer(), _StillFace(), FakeEncoder, MIME)
    return Engines(FakeRecognizer(), fake_perceive, fake_choose, FakeResponder(), media)


@pytest.mark.parametrize("value", ["bytes=" + "9" * 5_000 + "-", "bytes=0-" + "9" * 5_000, "bytes=-" + "9" * 5_000])
async def test_a_5000_digit_range_is_unsatisfiable_not_a_server_error(tmp_path: Path, value: str) -> None:
    env = {"EMPATHICA_AVATAR_FPS": "10", "EMPATHICA_AVATAR_CLIP_SECONDS": "1"}
    client, store = await start(tmp_path / "db.sqlite3", _engines_with_clips(), **env)
    try:
        response = await client.get("/avatar/clip", headers={"Range": value})
        assert response.status in (400, 416), response.status
        whole = await client.get("/avatar/clip")
        assert whole.status == 200 and (await whole.read())[4:8] == b"ftyp", "the route goes on serving"
        part = await client.get("/avatar/clip", headers={"Range": "bytes=0-9"})
        assert part.status == 206 and len(await part.read()) == 10
    finally:
        await client.close()
        store.close()


# ---------------------------------------------------------------- 4. DNS rebinding


async def test_an_origin_equal_to_the_host_header_but_not_allowlisted_is_refused(tmp_path: Path) -> None:
    client, store = await start(tmp_path / "db.sqlite3", EMPATHICA_SERVER_ALLOWED_ORIGINS="https://kiosk.example")
    try:
        # The attacker's domain resolves to this server: the browser sends its name as both Host and Origin.
        rebound = f"rebind.attacker.example:{client.port}"
        headers = {"Host": rebound, "Origin": f"http://{rebound}"}
        with pytest.raises(WSServerHandshakeError) as refused:
            await client.ws_connect("/ws", headers=headers)
        assert refused.value.status == 403
        assert (await client.get("/avatar/clip", headers=headers)).status == 403
        assert (await client.post("/portraits", data=b"x", headers=headers)).status == 403
        # The server's own page (a loopback name on the port it listens at) still connects, and so do listed ones.
        for origin in (f"http://127.0.0.1:{client.port}", f"http://localhost:{client.port}", "https://kiosk.example"):
            ws = await client.ws_connect("/ws", headers={"Origin": origin})
            assert (await receive_json(ws))["type"] == "ready", origin
            await ws.close()
        with pytest.raises(WSServerHandshakeError):  # a loopback name on another port is another local site
            await client.ws_connect("/ws", headers={"Origin": f"http://localhost:{client.port + 1}"})
    finally:
        await client.close()
        store.close()


# ---------------------------------------------------------------- 6. a long turn that poisoned the conversation


async def test_a_2000_emoji_turn_does_not_poison_later_turns(tmp_path: Path) -> None:
    model = ContextModel(6000)  # refuses a prompt beyond its context, as llama.cpp does
    responder = Responder(model, "You are kind.", max_tokens=64, budget=PromptBudget.for_model(model, 64))
    engines = Engines(FakeRecognizer(), fake_perceive, fake_choose, responder, fake_engines().media)
    client, store = await start(tmp_path / "db.sqlite3", engines)
    long_turn = "\U0001f600" * 1400  # 5,600 bytes: fits alone, not beside a later message
    story = "I keep thinking about what happened last week, and it is still hard to talk about it with anyone."
    later = [f"{opening} {story} {story}" for opening in ("How are you?", "I am still here.", "Thanks.")]
    try:
        ws, ready = await connect(client)
        await ws.send_json({"type": "text", "text": "\U0001f600" * 2000})  # 8,000 bytes: cannot fit even alone
        seen = [await receive_json(ws), await receive_json(ws)]
        assert [m["type"] for m in seen] == ["user_emotion", "error"], seen
        assert seen[1]["code"] == "input_too_long" and "shorter message" in seen[1]["message"]
        for text in [long_turn, *later]:
            await ws.send_json({"type": "text", "text": text})
            seen = await until_reply_end(ws)
            assert [m.get("code") for m in seen if m.get("type") == "error"] == [], (text[:20], seen)
            assert seen[-1]["text"] == "I hear you.", "the model's reply, not the scripted fallback"
        # Between turns the model's cache is warmed with the history (agent.prompt_cache), fitted like a turn's.
        replies = [p for p in model.prompts if p[-1].content != PLACEHOLDER]
        assert len(model.prompts) > len(replies)
        first_after = replies[1]
        assert all(long_turn not in m.content for m in first_after), "the long turn left the history first"
        assert [m.role for m in replies[-1]] == ["system", "user", "assistant", "user", "assistant", "user"]
        stored = [t.user_text for t in store.turns(ready["session_id"])]
        assert stored == [long_turn, *later], "the refused message was not stored"
    finally:
        await client.close()
        store.close()


# ---------------------------------------------------------------- 2. a session id was a key to the conversation


async def test_a_session_id_alone_does_not_resume_a_conversation(tmp_path: Path) -> None:
    responder = FakeResponder()
    engines = Engines(FakeRecognizer(), fake_perceive, fake_choose, responder, fake_engines().media)
    client, store = await start(tmp_path / "db.sqlite3", engines)
    try:
        owner, ready = await connect(client)
        assert len(ready["resume_secret"]) >= 40
        await owner.send_json({"type": "text", "text": "My PIN is 4921, keep it secret."})
        await until_reply_end(owner)
        probe, fresh = await connect(client)
        assert "resume_secret" in fresh and fresh["resume_secret"] != ready["resume_secret"]
        for secret in (None, "", "guess", fresh["resume_secret"]):
            hello = {"type": "hello", "session_id": ready["session_id"]}
            if secret is not None:
                hello["resume_secret"] = secret
            await probe.send_json(hello)
            error = await receive_json(probe)
            assert (error["type"], error["code"]) == ("error", "unauthorized"), (secret, error)
        await probe.send_json({"type": "text", "text": "What is my PIN?"})
        await until_reply_end(probe)
        assert responder.calls[-1] == [], "the prober's turn saw none of the owner's conversation"
        assert [t.user_text for t in store.turns(ready["session_id"])] == ["My PIN is 4921, keep it secret."]
        await owner.send_json({"type": "text", "text": "Still mine?"})
        assert (await until_reply_end(owner))[-1]["turn_id"] == 1, "the owner was not disturbed"
    finally:
        await client.close()
        store.close()


async def test_resuming_with_the_secret_takes_over_and_closes_the_old_socket(tmp_path: Path) -> None:
    gate = threading.Event()
    engines = Engines(FakeRecognizer(), fake_perceive, fake_choose, FakeResponder(gate=gate), fake_engines().media)
    client, store = await start(tmp_path / "db.sqlite3", engines)
    try:
        first, ready = await connect(client)
        await first.send_json({"type": "text", "text": "one"})  # turn 0, held mid-reply by the gate
        assert (await receive_json(first))["type"] == "user_emotion"
        second, _ = await connect(client)
        await second.send_json(_resume(ready))
        resumed = await receive_json(second)
        assert resumed["type"] == "ready" and resumed["session_id"] == ready["session_id"]
        assert resumed["resume_secret"] == ready["resume_secret"]
        closed = await _closed(first)
        assert closed == (4001, "this conversation continued on another connection")
        gate.set()
        await second.send_json({"type": "text", "text": "two"})
        end = (await until_reply_end(second))[-1]
        assert end["turn_id"] == 1, "turn 0 is still the first connection's (stored once it wound down)"
        turns = store.turns(ready["session_id"])
        assert [(t.turn_index, t.user_text) for t in turns] == [(0, "one"), (1, "two")]
        assert turns[0].cancelled
        # `played` may name only this connection's replies: turn 0 was the other connection's.
        await second.send_json({"type": "played", "turn_id": 0, "seconds": 0.1})
        error = await receive_json(second)
        assert (error["type"], error["code"]) == ("error", "invalid_message")
        assert store.turns(ready["session_id"])[0].reply_text == turns[0].reply_text, "its reply is untouched"
        await second.send_json({"type": "played", "turn_id": 1, "seconds": 0.1})  # its own: cut to what was heard
        await second.send_json({"type": "hello"})
        assert (await receive_json(second))["type"] == "ready"
        assert store.turns(ready["session_id"])[1].reply_text.endswith("…")
    finally:
        gate.set()
        await client.close()
        store.close()


async def test_a_reconnect_before_the_first_turn_resumes_and_an_unknown_id_starts_afresh(tmp_path: Path) -> None:
    client, store = await start(tmp_path / "db.sqlite3")
    try:
        ws, ready = await connect(client)
        await ws.close()  # nothing stored yet
        again, _ = await connect(client)
        await again.send_json(
            {"type": "hello", "session_id": ready["session_id"], "resume_secret": ready["resume_secret"]}
        )
        assert (await receive_json(again))["session_id"] == ready["session_id"]
        other, fresh = await connect(client)
        await other.send_json({"type": "hello", "session_id": "no-such-conversation", "resume_secret": "x"})
        assert (await receive_json(other))["session_id"] == fresh["session_id"], "an unknown id is not adopted"
    finally:
        await client.close()
        store.close()


def _resume(ready: dict[str, Any]) -> dict[str, Any]:
    """The `hello` that resumes the conversation `ready` started."""
    return {"type": "hello", "session_id": ready["session_id"], "resume_secret": ready["resume_secret"]}


async def _closed(ws: Any, timeout: float = 10.0) -> tuple[int | None, str]:
    """Wait until the server closes `ws`; its close code and reason."""
    while True:
        msg = await asyncio.wait_for(ws.receive(), timeout)
        if msg.type == WSMsgType.CLOSE:  # the close frame's own code (replying to it may fail on a dead socket)
            return msg.data, msg.extra or ""
        if msg.type in (WSMsgType.CLOSING, WSMsgType.CLOSED):
            return ws.close_code, ""


# ---------------------------------------------------------------- 5. slots held without a token


async def test_silent_sockets_do_not_keep_a_real_client_out(tmp_path: Path) -> None:
    env = {"EMPATHICA_SERVER_TOKEN": "sesame", "EMPATHICA_SERVER_HELLO_TIMEOUT_SECONDS": "3"}
    client, store = await start(tmp_path / "db.sqlite3", **env)
    try:
        silent = [(await connect(client))[0] for _ in range(16)]  # every one of max_sessions, none says hello
        real, first = await connect(client)
        assert "resume_secret" not in first, "no secret before the token"
        await real.send_json({"type": "hello", "token": "sesame"})
        ready = await receive_json(real)
        assert ready["type"] == "ready" and ready["resume_secret"]
        await real.send_json({"type": "text", "text": "hello"})
        assert (await until_reply_end(real))[-1]["type"] == "reply_end"
        # The 17th waiting connection displaced the oldest; the rest are closed at the hello deadline.
        codes = [(await _closed(ws))[0] for ws in silent]
        assert codes == [1008] * 16, codes
        await real.send_json({"type": "text", "text": "still here"})
        assert (await until_reply_end(real))[-1]["type"] == "reply_end", "an authorised session is not closed"
    finally:
        await client.close()
        store.close()


async def test_a_later_hello_with_a_wrong_token_withdraws_the_authorisation(tmp_path: Path) -> None:
    env = {"EMPATHICA_SERVER_TOKEN": "sesame", "EMPATHICA_SERVER_HELLO_TIMEOUT_SECONDS": "1"}
    client, store = await start(tmp_path / "db.sqlite3", **env)
    try:
        ws, _ = await connect(client)
        await ws.send_json({"type": "hello", "token": "sesame"})
        assert (await receive_json(ws))["type"] == "ready"
        await ws.send_json({"type": "hello", "token": "wrong"})
        assert (await receive_json(ws))["code"] == "unauthorized"
        await ws.send_json({"type": "text", "text": "hi"})
        assert (await receive_json(ws))["code"] == "unauthorized"
        assert (await _closed(ws))[0] == 1008, "and, like any unauthorised socket, it times out"
    finally:
        await client.close()
        store.close()


# ---------------------------------------------------------------- 7. the lower items


async def test_the_turn_rate_is_limited_per_client_address_across_reconnects(tmp_path: Path) -> None:
    env = {"EMPATHICA_SERVER_MAX_TURNS_PER_MINUTE": "2", "EMPATHICA_SERVER_MAX_TURNS_PER_MINUTE_PER_ADDRESS": "3"}
    client, store = await start(tmp_path / "db.sqlite3", **env)
    try:
        ws, ready = await connect(client)
        for text in ("one", "two"):
            await ws.send_json({"type": "text", "text": text})
            await until_reply_end(ws)
        await ws.send_json({"type": "text", "text": "three"})
        assert (await receive_json(ws))["code"] == "rate_limited"
        await ws.close()
        resumed, _ = await connect(client)  # the same conversation again: its allowance is not refilled
        await resumed.send_json(
            {"type": "hello", "session_id": ready["session_id"], "resume_secret": ready["resume_secret"]}
        )
        await receive_json(resumed)
        await resumed.send_json({"type": "text", "text": "three"})
        assert (await receive_json(resumed))["code"] == "rate_limited"
        fresh, _ = await connect(client)  # a new conversation from the same address: one more, then no more
        await fresh.send_json({"type": "text", "text": "a"})
        await until_reply_end(fresh)
        await fresh.send_json({"type": "text", "text": "b"})
        error = await receive_json(fresh)
        assert error["code"] == "rate_limited" and "one address" in error["message"]
    finally:
        await client.close()
        store.close()


@pytest.mark.parametrize("text", ["\x00", "\x00" * 50, " \x00\t\x01 "])
async def test_nul_only_text_is_empty_input(client: TestClient, text: str) -> None:
    ws, _ = await connect(client)
    await ws.send_json({"type": "text", "text": text})
    error = await receive_json(ws)
    assert (error["type"], error["code"]) == ("error", "empty_input")
    await _still_works(ws)


async def test_a_message_of_exactly_max_message_bytes_is_accepted(client: TestClient) -> None:
    ws, _ = await connect(client)  # the test server's limit is 200,000 bytes
    await ws.send_bytes(b"\x00" * 200_000)
    assert (await receive_json(ws))["code"] == "unexpected_binary", "served like any frame, not refused as too big"
    await ws.send_bytes(b"\x00" * 200_001)
    assert (await _closed(ws))[0] == 1009


async def test_audio_start_while_listening_is_refused(client: TestClient) -> None:
    ws, _ = await connect(client)
    await ws.send_json({"type": "listen_start"})
    await ws.send_json({"type": "audio_start", "format": "pcm16", "sample_rate": 16000})
    error = await receive_json(ws)
    assert (error["type"], error["code"]) == ("error", "invalid_message") and "listen_stop" in error["message"]
    await ws.send_json({"type": "listen_stop"})
    await _still_works(ws)


# ---------------------------------------------------------------- also: store writes off the event loop


async def test_a_locked_database_does_not_stall_other_sessions(tmp_path: Path) -> None:
    client, store = await start(tmp_path / "db.sqlite3")
    other = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
    try:
        writer, ready = await connect(client)
        bystander, _ = await connect(client)
        other.execute("BEGIN EXCLUSIVE")  # another program holds the database: writes wait (busy timeout 5 s)
        await writer.send_json({"type": "text", "text": "I feel sad"})
        while (await asyncio.wait_for(writer.receive(), 10)).data != b"last-fragment":
            pass  # the reply is out: next the turn is written, and that write waits for the lock
        await bystander.send_json({"type": "hello"})
        assert (await receive_json(bystander))["type"] == "ready", "another session is served meanwhile"
        with pytest.raises(TimeoutError):  # ... while the write is still waiting (it holds up only its own turn)
            await asyncio.wait_for(writer.receive(), 0.2)
        other.execute("ROLLBACK")
        end = await receive_json(writer)
        assert end["type"] == "reply_end", end  # no `storage` error: written once the lock was gone
        assert [t.user_text for t in store.turns(ready["session_id"])] == ["I feel sad"]
    finally:
        other.close()
        await client.close()
        store.close()
