"""The real server with its reply model down: the user hears a scripted apology, with an error that says why."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from agent.prompts import PromptLibrary
from tests.e2e.server_process import ServerProcess
from tests.e2e.ws_client import receive_json, text_turn

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def llm_down_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`empathica serve` whose OpenAI-compatible LLM server is not running (nothing listens on its port)."""
    # The port stays bound (never listening: connections are refused) while the server runs, so no other process,
    # the server itself included, can be given it and answer the LLM's requests.
    reserved = socket.socket()
    reserved.bind(("127.0.0.1", 0))
    port = reserved.getsockname()[1]
    directory = tmp_path_factory.mktemp("empathica-llm-down")
    env = {
        "EMPATHICA_LLM_BACKEND": "openai",
        "EMPATHICA_LLM_BASE_URL": f"http://127.0.0.1:{port}/v1",
        "EMPATHICA_LLM_CONNECT_TIMEOUT": "2",
        "EMPATHICA_MEMORY_SUMMARIZER": "extractive",
        # The first reaction would precede the fallback; this test is about what a dead model leaves (the reaction
        # itself: tests/agent/test_acknowledgement.py).
        "EMPATHICA_EMPATHY_ACKNOWLEDGE": "false",
    }
    process = ServerProcess(directory / "db.sqlite3", directory / "server.log", env=env)
    process.start()
    try:
        yield process
    finally:
        process.stop()
        reserved.close()


async def test_llm_down_gives_spoken_fallback_and_error(llm_down_server: ServerProcess) -> None:
    fallback = PromptLibrary().load("fallback_llm")
    url = llm_down_server.url.replace("http://", "ws://") + "/ws"
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        ready = await receive_json(ws)
        result = await text_turn(ws, "I had a rough day at work.")
    errors = result.of_type("error")
    assert [e["code"] for e in errors] == ["llm_unavailable"], errors
    assert "cannot reach the LLM server" in errors[0]["message"]
    assert " ".join(m["text"] for m in result.of_type("reply_text")) == fallback
    assert result.media[4:8] == b"ftyp" and len(result.media) > 10_000, "voiced and shown as real fMP4 video"
    assert result.end["text"] == fallback and not result.end["cancelled"]
    assert ready["session_id"]
    log = Path(llm_down_server.log_path).read_text()
    assert "the reply model failed" in log
