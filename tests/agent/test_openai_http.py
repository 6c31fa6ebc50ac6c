"""The OpenAI-compatible HTTP backend against a real llama.cpp server process (serving SmolLM2), and its
errors against real sockets that are closed, silent, or answer garbage."""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from agent.llm.openai_http import LlmHttpError, OpenAiHttpLlm
from agent.prompt_budget import estimate_tokens
from tests.agent.llm import openai_contract as contract

HI = contract.HI


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    from core.provision import model_dir

    port = _free_port()
    script = Path(__file__).with_name("llama_server.py")
    model = model_dir("smollm2-135m") / "model.gguf"
    process = subprocess.Popen([sys.executable, str(script), str(model), str(port)], stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the llama.cpp server process exited"
            try:
                if requests.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the llama.cpp server did not come up within 60 s"
            time.sleep(0.2)
        yield f"{base}/v1"
    finally:
        process.kill()
        process.wait()


@pytest.mark.models
def test_streams_a_reply_from_a_real_server(llama_server: str):
    contract.check_streams_a_reply(OpenAiHttpLlm(llama_server, "smollm2"), 16)


@pytest.mark.models
def test_json_schema_constrains_the_output(llama_server: str):
    contract.check_json_schema_constrains_the_output(OpenAiHttpLlm(llama_server, "smollm2"))


@pytest.mark.models
def test_the_chain_of_empathy_runs_over_http(llama_server: str):
    model = OpenAiHttpLlm(llama_server, "smollm2")
    turn, _ = contract.check_the_chain_of_empathy_follows_its_plan(model, "My dog died.")
    assert turn.plan is not None and turn.plan.reply_emotion in ("neutral", "sadness")


@pytest.mark.models
def test_closing_the_stream_early_leaves_the_server_usable(llama_server: str):
    contract.check_closing_the_stream_early_leaves_the_server_usable(OpenAiHttpLlm(llama_server, "smollm2"))


def test_a_server_that_is_down_gives_a_clear_error():
    model = OpenAiHttpLlm(f"http://127.0.0.1:{_free_port()}/v1", "m")
    with pytest.raises(LlmHttpError, match="cannot reach the LLM server"):
        list(model.stream(HI, 8, 0.0))


def test_a_silent_server_times_out_with_a_clear_error():
    with socket.socket() as listener:  # accepts connections (backlog) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        model = OpenAiHttpLlm(f"http://127.0.0.1:{listener.getsockname()[1]}/v1", "m", read_timeout=0.5)
        with pytest.raises(LlmHttpError, match=r"sent nothing for 0\.5 s"):
            list(model.stream(HI, 8, 0.0))


class _Garbage(http.server.BaseHTTPRequestHandler):
    status = 200
    content_type = "text/event-stream"
    body = b"data: {not json\n\n"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def _serve(handler: type[http.server.BaseHTTPRequestHandler]) -> tuple[http.server.HTTPServer, str]:
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


@pytest.mark.parametrize(
    ("status", "content_type", "body", "message"),
    [
        (200, "text/event-stream", b"data: {not json\n\n", "not JSON"),
        (200, "text/html", b"<html>hello</html>", "not JSON"),
        (200, "text/event-stream", b'data: {"error": {"message": "model exploded"}}\n\n', "model exploded"),
        (404, "text/plain", b"no such route", "HTTP 404"),
        (401, "application/json", b'{"error": "bad key"}', "llm.api_key"),
    ],
)
def test_garbage_and_refusals_give_clear_errors(status: int, content_type: str, body: bytes, message: str):
    handler = type("Handler", (_Garbage,), {"status": status, "content_type": content_type, "body": body})
    server, url = _serve(handler)
    try:
        with pytest.raises(LlmHttpError, match=message):
            list(OpenAiHttpLlm(url, "m").stream(HI, 8, 0.0))
    finally:
        server.shutdown()


def test_a_plain_json_answer_is_accepted():
    body = json.dumps({"choices": [{"message": {"content": "Hello there."}}]}).encode()
    handler = type("Handler", (_Garbage,), {"content_type": "application/json", "body": body})
    server, url = _serve(handler)
    try:
        assert OpenAiHttpLlm(url, "m").complete(HI, 8, 0.0) == "Hello there."
    finally:
        server.shutdown()


@pytest.mark.models
def test_tokens_are_counted_by_the_servers_tokenizer(llama_server: str):
    model = OpenAiHttpLlm(llama_server, "smollm2")
    contract.check_tokens_are_counted_by_the_servers_tokenizer(model)
    assert model.count_tokens("\U0001f600" * 100) == 300  # SmolLM2 spells this emoji in three byte tokens


def test_a_server_without_a_tokenizer_gets_the_estimate():
    server, url = _serve(type("Handler", (_Garbage,), {"status": 404, "content_type": "text/plain", "body": b"no"}))
    try:
        model = OpenAiHttpLlm(url, "m")
        assert model.count_tokens("hello") == estimate_tokens("hello")
        assert model.count_tokens("hello there") == estimate_tokens("hello there")
    finally:
        server.shutdown()
