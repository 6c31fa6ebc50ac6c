"""Regression tests for the holes an outside probe found in a running server (issue 16), each over the real route.

Every test replays the probe's exact input against a real aiohttp server (fake engines behind it) and checks what
the user expects instead: one clear error, and the session and the server go on.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient

from agent.prompt_budget import PromptBudget
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
        first_after = model.prompts[1]
        assert all(long_turn not in m.content for m in first_after), "the long turn left the history first"
        assert [m.role for m in model.prompts[-1]] == ["system", "user", "assistant", "user", "assistant", "user"]
        stored = [t.user_text for t in store.turns(ready["session_id"])]
        assert stored == [long_turn, *later], "the refused message was not stored"
    finally:
        await client.close()
        store.close()
