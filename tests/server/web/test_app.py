"""The websocket server with fake engines: session protocol, errors, busy, audio validation, resume, 1009."""

from __future__ import annotations

import asyncio
import io
import json
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer

from compose.config import load_config
from compose.engines import Engines, MediaEngines
from server.web.app import create_app
from storage.store import ConversationStore
from tests.server.fakes import (
    INIT,
    MIME,
    FakeEncoder,
    FakeRecognizer,
    FakeRenderer,
    FakeResponder,
    FakeSynthesizer,
    fake_choose,
    fake_perceive,
)


def fake_engines(responder: FakeResponder | None = None) -> Engines:
    media = MediaEngines(FakeSynthesizer(), FakeRenderer(), FakeEncoder, MIME)
    return Engines(FakeRecognizer(), fake_perceive, fake_choose, responder or FakeResponder(), media)


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return tmp_path / "db.sqlite3"


async def start(db: Path, engines: Engines | None = None, **env: str) -> tuple[TestClient, ConversationStore]:
    environ = {"EMPATHICA_SERVER_MAX_MESSAGE_BYTES": "200000", **env}
    config = load_config(environ=environ)
    store = ConversationStore(db)
    app: web.Application = create_app(config, engines or fake_engines(), store)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client, store


@pytest.fixture()
async def client(db: Path) -> AsyncIterator[TestClient]:
    client, store = await start(db)
    yield client
    await client.close()
    store.close()


async def receive_json(ws: Any) -> dict[str, Any]:
    msg = await asyncio.wait_for(ws.receive(), 10)
    assert msg.type == WSMsgType.TEXT, msg
    return json.loads(msg.data)


async def until_reply_end(ws: Any) -> list[dict[str, Any]]:
    """Every message up to reply_end; binary media frames are recorded as {'binary': bytes}."""
    seen: list[dict[str, Any]] = []
    while True:
        msg = await asyncio.wait_for(ws.receive(), 10)
        if msg.type == WSMsgType.BINARY:
            seen.append({"binary": msg.data})
            continue
        data = json.loads(msg.data)
        seen.append(data)
        if data["type"] == "reply_end":
            return seen


async def connect(client: TestClient) -> tuple[Any, dict[str, Any]]:
    ws = await client.ws_connect("/ws")
    ready = await receive_json(ws)
    return ws, ready


async def test_ready_then_text_turn(client: TestClient) -> None:
    ws, ready = await connect(client)
    assert ready["type"] == "ready" and ready["media_mime"] == MIME and ready["protocol"] == 1
    await ws.send_json({"type": "text", "text": "I feel sad"})
    seen = await until_reply_end(ws)
    types = [m.get("type", "binary") for m in seen]
    assert types[:3] == ["user_emotion", "reply_start", "reply_text"]
    first_media = types.index("media")
    assert seen[first_media + 1]["binary"] == INIT and seen[first_media]["index"] == 0
    assert seen[-1]["timings_ms"]["total"] > 0 and seen[-1]["turn_id"] == 0


async def test_health_and_page(client: TestClient) -> None:
    health = await client.get("/healthz")
    assert (await health.json()) == {"ok": True}
    page = await client.get("/")
    assert page.status == 200 and "<html" in (await page.text()).lower()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{oops", "bad_json"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "text", "text": 1}', "invalid_message"),
        ('{"type": "text", "text": "   "}', "empty_input"),
        ('{"type": "audio_end"}', "invalid_message"),
        ('{"type": "hello", "protocol": 2}', "invalid_message"),
        ('{"type": "audio_start", "format": "pcm16", "sample_rate": 8000}', "bad_audio"),
    ],
)
async def test_errors_keep_the_session(client: TestClient, frame: str, code: str) -> None:
    ws, _ = await connect(client)
    await ws.send_str(frame)
    error = await receive_json(ws)
    assert error["type"] == "error" and error["code"] == code, error
    await ws.send_json({"type": "text", "text": "still there?"})
    assert (await until_reply_end(ws))[-1]["type"] == "reply_end"


async def test_audio_errors(client: TestClient) -> None:
    ws, _ = await connect(client)
    await ws.send_bytes(b"\x00\x00")
    assert (await receive_json(ws))["code"] == "unexpected_binary"
    await ws.send_json({"type": "audio_start", "format": "pcm16", "sample_rate": 16000})
    await ws.send_bytes(b"\x00\x01\x02")
    await ws.send_json({"type": "audio_end"})
    assert (await receive_json(ws))["code"] == "bad_audio"
    await ws.send_json({"type": "audio_start", "format": "wav"})
    await ws.send_bytes(b"not a wav file at all")
    await ws.send_json({"type": "audio_end"})
    assert (await receive_json(ws))["code"] == "bad_audio"


async def test_audio_too_long(db: Path) -> None:
    client, store = await start(db, EMPATHICA_SERVER_MAX_UTTERANCE_SECONDS="1")
    ws, _ = await connect(client)
    await ws.send_json({"type": "audio_start", "format": "pcm16", "sample_rate": 16000})
    for _ in range(3):
        await ws.send_bytes(np.zeros(16000, np.int16).tobytes())
    await ws.send_json({"type": "audio_end"})
    assert (await receive_json(ws))["code"] == "audio_too_long"
    await ws.send_json({"type": "text", "text": "ok"})
    assert (await until_reply_end(ws))[-1]["type"] == "reply_end"
    await client.close()
    store.close()


async def test_wav_turn_gets_transcript(client: TestClient) -> None:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes((np.sin(np.arange(22050) / 10) * 8000).astype(np.int16).tobytes())
    ws, _ = await connect(client)
    await ws.send_json({"type": "audio_start", "format": "wav"})
    await ws.send_bytes(buffer.getvalue())
    await ws.send_json({"type": "audio_end"})
    seen = await until_reply_end(ws)
    assert seen[0]["type"] == "transcript" and seen[0]["text"] == "I feel sad today"


async def test_busy_then_cancel_then_next_turn(db: Path) -> None:
    import threading

    gate = threading.Event()
    client, store = await start(db, fake_engines(FakeResponder(gate=gate)))
    ws, ready = await connect(client)
    await ws.send_json({"type": "text", "text": "one"})
    await ws.send_json({"type": "text", "text": "two"})
    seen: list[dict[str, Any]] = []
    # Cancel once the first reply has started: a cancel that lands before the turn's first step ends it unanswered.
    while not (any(m.get("code") == "busy" for m in seen) and any(m.get("type") == "reply_start" for m in seen)):
        msg = await asyncio.wait_for(ws.receive(), 10)
        if msg.type == WSMsgType.TEXT:
            seen.append(json.loads(msg.data))
    await ws.send_json({"type": "cancel"})
    await ws.send_json({"type": "text", "text": "three"})  # queues behind the cancelled turn
    gate.set()
    first = await until_reply_end(ws)
    assert first[-1]["cancelled"] is True
    second = await until_reply_end(ws)
    assert second[-1]["turn_id"] == 1 and not second[-1]["cancelled"]
    turns = store.turns(ready["session_id"])
    assert [t.user_text for t in turns] == ["one", "three"] and turns[0].cancelled
    await client.close()
    store.close()


async def test_resume_after_restart(db: Path) -> None:
    client, store = await start(db)
    ws, ready = await connect(client)
    await ws.send_json({"type": "text", "text": "remember me"})
    await until_reply_end(ws)
    await client.close()
    store.close()

    responder = FakeResponder()
    client, store = await start(db, fake_engines(responder))
    ws, fresh = await connect(client)
    assert fresh["session_id"] != ready["session_id"]
    await ws.send_json({"type": "hello", "session_id": ready["session_id"]})  # the bare id opens nothing
    assert (await receive_json(ws))["code"] == "unauthorized"
    await ws.send_json({"type": "hello", "session_id": ready["session_id"], "resume_secret": ready["resume_secret"]})
    resumed = await receive_json(ws)
    assert resumed["type"] == "ready" and resumed["session_id"] == ready["session_id"]
    await ws.send_json({"type": "text", "text": "again"})
    end = (await until_reply_end(ws))[-1]
    assert end["turn_id"] == 1
    assert responder.calls[0][0].content == "remember me"
    assert [t.user_text for t in store.turns(ready["session_id"])] == ["remember me", "again"]
    await client.close()
    store.close()


async def test_token_required(db: Path) -> None:
    client, store = await start(db, EMPATHICA_SERVER_TOKEN="sesame")
    ws, _ = await connect(client)
    await ws.send_json({"type": "text", "text": "hi"})
    assert (await receive_json(ws))["code"] == "unauthorized"
    await ws.send_json({"type": "hello", "token": "wrong"})
    assert (await receive_json(ws))["code"] == "unauthorized"
    await ws.send_json({"type": "hello", "token": "sesame"})
    assert (await receive_json(ws))["type"] == "ready"
    await ws.send_json({"type": "text", "text": "hi"})
    assert (await until_reply_end(ws))[-1]["type"] == "reply_end"
    await client.close()
    store.close()


async def test_oversized_message_closes_1009_others_unaffected(client: TestClient) -> None:
    big, _ = await connect(client)
    other, _ = await connect(client)
    await big.send_bytes(b"\x00" * 300_000)
    msg = await asyncio.wait_for(big.receive(), 10)
    assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
    assert msg.data == 1009 or big.close_code == 1009, (msg, big.close_code)
    await other.send_json({"type": "text", "text": "fine?"})
    assert (await until_reply_end(other))[-1]["type"] == "reply_end"


async def _primed(responder: FakeResponder, count: int) -> None:
    for _ in range(200):
        if len(responder.primed) >= count:
            return
        await asyncio.sleep(0.02)


async def test_after_a_reply_the_model_is_warmed_with_the_history_the_next_turn_reads(db: Path) -> None:
    responder = FakeResponder()
    client, store = await start(db, fake_engines(responder))
    ws, _ = await connect(client)
    await ws.send_json({"type": "text", "text": "my cat is ill"})
    await until_reply_end(ws)
    await _primed(responder, 1)
    await ws.send_json({"type": "text", "text": "he stopped eating"})
    await until_reply_end(ws)
    assert [m.content for m in responder.primed[0]][:1] == ["my cat is ill"]
    assert responder.primed[0] == responder.calls[1]  # exactly what the next reply was given
    await client.close()
    store.close()


async def test_priming_can_be_switched_off(db: Path) -> None:
    responder = FakeResponder()
    client, store = await start(db, fake_engines(responder), EMPATHICA_LLM_PRIME_CACHE="false")
    ws, _ = await connect(client)
    await ws.send_json({"type": "text", "text": "my cat is ill"})
    await until_reply_end(ws)
    await asyncio.sleep(0.3)  # priming would have run by now
    await ws.send_json({"type": "text", "text": "he stopped eating"})
    await until_reply_end(ws)
    assert responder.primed == [] and len(responder.calls) == 2
    await client.close()
    store.close()
