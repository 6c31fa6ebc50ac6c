"""Hardening of the websocket server: property-based fuzzing of every client message type and of binary frames,
static-file path traversal, what the logs may hold, and a client that answers right after `reply_end`."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.protocol import _CLIENT_TYPES, MAX_TURN_ID
from server.web.app import STATIC_DIR
from storage.store import ConversationStore
from tests.server.web.test_app import connect, fake_engines, receive_json, start, until_reply_end

FUZZ = settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
PROTOCOL_ERRORS = {"bad_json", "unknown_type", "invalid_message"}

# ---------------------------------------------------------------- strategies

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
# Lists and objects are the wrong type for every field of every client message (all are scalars).
wrong_field_values = st.lists(json_values, max_size=3) | st.dictionaries(st.text(max_size=8), json_values, max_size=3)


def _fields(kind: str) -> list[str]:
    return [name for name in _CLIENT_TYPES[kind].model_fields if name != "type"]


@st.composite
def wrong_typed_message(draw: st.DrawFn) -> str:
    """A message of a known type with one of its fields of the wrong type, plus random extra fields."""
    kind = draw(st.sampled_from([k for k in _CLIENT_TYPES if _fields(k)]))
    extra = draw(st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: k != "type"), json_values))
    data: dict[str, Any] = {k: v for k, v in extra.items() if k not in _CLIENT_TYPES[kind].model_fields}
    data["type"] = kind
    data[draw(st.sampled_from(_fields(kind)))] = draw(wrong_field_values)
    return json.dumps(data)


@st.composite
def bad_type_message(draw: st.DrawFn) -> str:
    """An object whose `type` is missing, not a string, or not a message type (covers the field-less types)."""
    data = draw(st.dictionaries(st.text(max_size=8), json_values, max_size=4))
    kind = draw(
        st.sampled_from(sorted(_CLIENT_TYPES)).map(lambda k: [k])  # the right name, wrapped in a list
        | st.sampled_from(sorted(_CLIENT_TYPES)).map(str.upper)
        | st.text(max_size=12).filter(lambda k: k not in _CLIENT_TYPES)
        | json_scalars.filter(lambda v: not isinstance(v, str))
    )
    if draw(st.booleans()):
        data["type"] = kind
    else:
        data.pop("type", None)
    return json.dumps(data)


not_an_object = (json_scalars | st.lists(json_values, max_size=3)).map(json.dumps) | st.text(max_size=40).filter(
    lambda t: not t.strip().startswith("{")
)


@st.composite
def hostile_json(draw: st.DrawFn) -> str:
    """Shapes that break parsers rather than schemas: nesting thousands deep, integers of thousands of digits,
    placed as the whole frame or inside a message (as a field's value or an extra field)."""
    kind = draw(st.sampled_from(sorted(_CLIENT_TYPES)))
    depth = draw(st.integers(1_000, 20_000))
    opener = draw(st.sampled_from(["[", '{"a":']))
    closer = "]" if opener == "[" else "}"
    nested = opener * depth + "0" + closer * depth
    number = draw(st.sampled_from(["", "-"])) + "1" + "0" * draw(st.integers(4_300, 6_000))
    value = draw(st.sampled_from([nested, number]))
    key = draw(st.sampled_from([*_fields(kind), "extra"]) if _fields(kind) else st.just("extra"))
    return draw(st.sampled_from([value, f'{{"type": "{kind}", "{key}": {value}}}']))


bad_frames = wrong_typed_message() | bad_type_message() | not_an_object | hostile_json()


def _run(coro: Any) -> Any:
    """Hypothesis drives plain functions: each example gets its own event loop and server."""
    return asyncio.run(coro)


async def _server(tmp: Path, **env: str) -> tuple[TestClient, ConversationStore]:
    return await start(tmp / "db.sqlite3", fake_engines(), **env)


async def _sync(ws: Any) -> list[dict[str, Any]]:
    """Send `hello` (always answered by `ready`) and return what arrived before that `ready`."""
    await ws.send_json({"type": "hello"})
    seen: list[dict[str, Any]] = []
    while True:
        message = await receive_json(ws)
        if message["type"] == "ready":
            return seen
        seen.append(message)


# ---------------------------------------------------------------- fuzzing


@FUZZ
@given(frames=st.lists(bad_frames, min_size=1, max_size=6))
def test_every_bad_message_gets_one_error_and_nothing_else_breaks(tmp_path_factory: Any, frames: list[str]) -> None:
    async def scenario() -> None:
        client, store = await _server(tmp_path_factory.mktemp("fuzz"))
        try:
            ws, _ = await connect(client)
            other, _ = await connect(client)
            await other.send_json({"type": "text", "text": "meanwhile, another user"})
            for frame in frames:
                await ws.send_str(frame)
                answers = await _sync(ws)
                assert [a["type"] for a in answers] == ["error"], (frame, answers)
                assert answers[0]["code"] in PROTOCOL_ERRORS, (frame, answers)
                assert answers[0]["message"]
            assert (await until_reply_end(other))[-1]["type"] == "reply_end", "other sessions are unaffected"
            await ws.send_json({"type": "text", "text": "still there?"})
            assert (await until_reply_end(ws))[-1]["type"] == "reply_end", "the fuzzed session goes on"
        finally:
            await client.close()
            store.close()

    _run(scenario())


@FUZZ
@given(
    persona=st.text(min_size=1, max_size=100),
    session_id=st.none() | st.text(min_size=1, max_size=100),
    text=st.text(min_size=1, max_size=400),
    played=st.tuples(st.integers(0, MAX_TURN_ID), st.floats(0.0, 3600.0)),
)
def test_valid_messages_with_any_content_are_served(
    tmp_path_factory: Any, persona: str, session_id: str | None, text: str, played: tuple[int, float]
) -> None:
    async def scenario() -> None:
        client, store = await _server(tmp_path_factory.mktemp("fuzz"))
        try:
            ws, fresh = await connect(client)
            hello: dict[str, Any] = {"type": "hello", "persona": persona}
            if session_id is not None:
                hello["session_id"] = session_id
            await ws.send_json(hello)
            ready = await receive_json(ws)
            # An id the server knows nothing about is not adopted: the connection keeps its own new conversation.
            assert ready["type"] == "ready" and ready["session_id"] == fresh["session_id"]
            await ws.send_json({"type": "played", "turn_id": played[0], "seconds": played[1]})
            answers = await _sync(ws)
            assert [(a["type"], a["code"]) for a in answers] == [("error", "invalid_message")], "not this client's"
            await ws.send_json({"type": "text", "text": text})
            words = "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc").strip()
            if words:
                seen = await until_reply_end(ws)
                assert "error" not in [m.get("type") for m in seen], seen
                assert store.turns(ready["session_id"])[-1].user_text == words
            else:  # whitespace, NULs and other control characters are no message
                assert (await receive_json(ws))["code"] == "empty_input"
        finally:
            await client.close()
            store.close()

    _run(scenario())


@FUZZ
@given(chunks=st.lists(st.binary(max_size=2000), min_size=1, max_size=5))
def test_binary_frames_outside_an_utterance_each_get_an_error(tmp_path_factory: Any, chunks: list[bytes]) -> None:
    async def scenario() -> None:
        client, store = await _server(tmp_path_factory.mktemp("fuzz"))
        try:
            ws, _ = await connect(client)
            for chunk in chunks:
                await ws.send_bytes(chunk)
                answers = await _sync(ws)
                assert [(a["type"], a["code"]) for a in answers] == [("error", "unexpected_binary")]
        finally:
            await client.close()
            store.close()

    _run(scenario())


@FUZZ
@given(
    audio_format=st.sampled_from(["pcm16", "wav"]),
    chunks=st.lists(st.binary(max_size=3000), max_size=5),
)
def test_random_audio_gets_a_turn_or_one_error(tmp_path_factory: Any, audio_format: str, chunks: list[bytes]) -> None:
    async def scenario() -> None:
        client, store = await _server(tmp_path_factory.mktemp("fuzz"))
        try:
            ws, _ = await connect(client)
            await ws.send_json({"type": "audio_start", "format": audio_format, "sample_rate": 16000})
            for chunk in chunks:
                await ws.send_bytes(chunk)
            await ws.send_json({"type": "audio_end"})
            data = b"".join(chunks)
            first = await receive_json(ws)
            if audio_format == "wav" or len(data) % 2:
                # Random bytes are no WAV file; raw PCM16 of odd length is no audio.
                assert (first["type"], first["code"]) == ("error", "bad_audio"), first
            else:  # any even-length bytes are valid PCM16: the (fake) recogniser hears something
                assert first["type"] == "transcript", first
                await until_reply_end(ws)
            await ws.send_json({"type": "text", "text": "still there?"})
            assert (await until_reply_end(ws))[-1]["type"] == "reply_end"
        finally:
            await client.close()
            store.close()

    _run(scenario())


# ---------------------------------------------------------------- static files


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app.py",
        "/static/../../../compose/config.py",
        "/static/%2e%2e/%2e%2e/%2e%2e/compose/config.py",
        "/static/%2E%2E/%2E%2E/%2E%2E/compose/config.py",
        "/static/..%2f..%2f..%2fcompose%2fconfig.py",
        "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fcompose%2fconfig.py",
        "/static/%252e%252e%252f%252e%252e%252f%252e%252e%252fcompose%252fconfig.py",
        "/static/..%5c..%5c..%5ccompose%5cconfig.py",
        "/static/....//....//....//compose/config.py",
        "/static/.%2e/.%2e/.%2e/compose/config.py",
        "/static//work/main/compose/config.py",
        "/static/%2fetc%2fpasswd",
        "/static/../../../../../../etc/passwd",
    ],
)
async def test_no_path_traversal_out_of_static(client: TestClient, path: str) -> None:
    # A raw request: HTTP client libraries normalise `..` away before it could reach the server.
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    response = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    status = int(response.split(b" ", 2)[1])
    assert status in (400, 403, 404), (path, response[:200])
    assert b"ENV_PREFIX" not in response and b"root:" not in response


async def test_static_files_are_still_served(client: TestClient) -> None:
    page = STATIC_DIR / "style.css"
    response = await client.get("/static/style.css")
    assert response.status == 200 and await response.read() == page.read_bytes()


# ---------------------------------------------------------------- logs


async def test_logs_hold_no_token_and_no_raw_audio(db: Path, caplog: pytest.LogCaptureFixture) -> None:
    token = "tok-S3CRET-4f9c"
    audio = bytes(range(7, 247)) * 40  # a recognisable pattern, even length: valid PCM16
    caplog.set_level(logging.DEBUG)
    client, store = await start(db, fake_engines(), EMPATHICA_SERVER_TOKEN=token)
    try:
        ws, _ = await connect(client)
        await ws.send_json({"type": "hello", "token": token + "-wrong"})
        assert (await receive_json(ws))["code"] == "unauthorized"
        await ws.send_json({"type": "hello", "token": token})
        assert (await receive_json(ws))["type"] == "ready"
        await ws.send_json({"type": "text", "text": "I feel sad"})
        await until_reply_end(ws)
        await ws.send_json({"type": "audio_start", "format": "pcm16", "sample_rate": 16000})
        await ws.send_bytes(audio)
        await ws.send_json({"type": "audio_end"})
        await until_reply_end(ws)
        await ws.send_bytes(audio)  # outside an utterance: an error, and nothing of it in the log
        assert (await receive_json(ws))["code"] == "unexpected_binary"
        await ws.send_str('{"type": "hello", "token": ' + json.dumps(token) + ', "protocol": "x"}')
        assert (await receive_json(ws))["code"] == "invalid_message"
        await ws.close()
    finally:
        await client.close()
        store.close()
    text = "\n".join(
        f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records
    )
    assert token not in text
    for needle in (audio[:24], audio[100:124]):
        assert repr(needle)[2:-1] not in text and needle.hex() not in text
        assert base64.b64encode(needle).decode()[:16] not in text
    assert "S3CRET" not in caplog.text


# ---------------------------------------------------------------- answering right after reply_end


class _SlowSummary:
    """A summariser that holds the turn after its reply_end until released (like an LLM summary does)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.updates = 0

    def due(self, turns_done: int, summarised_through: int) -> bool:
        return True

    def update(self, summary: str, turns: Any) -> str:
        self.release.wait(10)
        self.updates += 1
        return "summary"


async def test_a_text_right_after_reply_end_queues_instead_of_busy(db: Path) -> None:
    engines = fake_engines()
    memory = _SlowSummary()
    engines.memory = memory
    client, store = await start(db, engines, EMPATHICA_SERVER_HISTORY_TURNS="0")
    try:
        ws, _ = await connect(client)
        await ws.send_json({"type": "text", "text": "first"})
        assert (await until_reply_end(ws))[-1]["type"] == "reply_end"
        await ws.send_json({"type": "text", "text": "second"})  # the first turn is still summarising
        await asyncio.sleep(0.05)
        memory.release.set()
        seen = await until_reply_end(ws)
        assert "error" not in [m.get("type") for m in seen], seen
        assert seen[-1]["turn_id"] == 1
        assert [t.user_text for t in store.turns(next(iter(_session_ids(store))))] == ["first", "second"]
    finally:
        memory.release.set()
        await client.close()
        store.close()


def _session_ids(store: ConversationStore) -> list[str]:
    return sorted({turn.session_id for _, turn in store.export_turns()})


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return tmp_path / "db.sqlite3"


@pytest.fixture()
async def client(db: Path) -> Any:
    client, store = await start(db, fake_engines())
    yield client
    await client.close()
    store.close()

