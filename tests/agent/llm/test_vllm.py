"""The OpenAI-compatible backend against a real vLLM server on a GPU (docs/gpu.md).

Marked `gpu`: deselected unless EMPATHICA_VLLM_URL names the server's API root (e.g. http://127.0.0.1:8000/v1;
tests/conftest.py), so CI without a GPU runs the rest of the suite. EMPATHICA_VLLM_MODEL is the served model name
(default qwen2.5-coder-1.5b, as `--served-model-name` in docs/gpu.md). Run:
    EMPATHICA_VLLM_URL=http://127.0.0.1:8000/v1 .venv/bin/python -m pytest -m gpu tests/agent/llm/test_vllm.py
"""

from __future__ import annotations

import json
import os
import time

import pytest

from agent.base import ChatMessage
from agent.empathy.chain import EmpathyChain
from agent.llm.openai_http import OpenAiHttpLlm
from agent.prompt_budget import estimate_tokens
from agent.prompts import PromptLibrary
from core.emotion import EmotionState

pytestmark = pytest.mark.gpu

HI = [ChatMessage("user", "Say hello.")]


@pytest.fixture(scope="module")
def vllm() -> OpenAiHttpLlm:
    url = os.environ.get("EMPATHICA_VLLM_URL", "")
    assert url, "set EMPATHICA_VLLM_URL to a running `vllm serve` (docs/gpu.md)"
    return OpenAiHttpLlm(url, os.environ.get("EMPATHICA_VLLM_MODEL", "qwen2.5-coder-1.5b"), read_timeout=120)


def test_streams_a_reply(vllm: OpenAiHttpLlm) -> None:
    pieces = list(vllm.stream(HI, 24, 0.0))
    assert len(pieces) > 1 and "".join(pieces).strip()


def test_json_schema_constrains_the_output(vllm: OpenAiHttpLlm) -> None:
    schema = {
        "type": "object",
        "properties": {
            "mood": {"type": "string", "enum": ["calm", "sad"]},
            "note": {"type": "string", "maxLength": 20},
        },
        "required": ["mood", "note"],
    }
    data = json.loads(vllm.complete(HI, 60, 0.7, json_schema=schema))
    assert data["mood"] in ("calm", "sad") and len(data["note"]) <= 20


def test_the_chain_of_empathy_streams_its_plan(vllm: OpenAiHttpLlm) -> None:
    chain = EmpathyChain(vllm, PromptLibrary().load("persona_default"))
    grief = EmotionState.from_label("sadness", 0.9)
    started = time.perf_counter()
    turn = chain.turn("My dog died this morning.", grief, EmotionState.from_label("sadness", 0.4), [])
    sentences = iter(turn)
    first = next(sentences)
    first_s = time.perf_counter() - started
    rest = list(sentences)
    # vLLM's structured output held the model to the plan: its own plan, not the scripted fallback.
    assert turn.schema_valid and turn.plan is not None, (turn.errors, turn.raw)
    assert turn.plan.response == " ".join([first, *rest])
    print(f"vLLM: first sentence of the chain's reply after {first_s * 1000:.0f} ms")  # a figure, not a check


def test_closing_the_stream_early_leaves_the_server_usable(vllm: OpenAiHttpLlm) -> None:
    stream = vllm.stream(HI, 200, 0.7)
    next(stream)
    stream.close()
    assert vllm.complete(HI, 8, 0.0)


def test_tokens_are_counted_by_the_servers_tokenizer(vllm: OpenAiHttpLlm) -> None:
    text = "I lost my job today and I do not know what to tell my family."
    assert 0 < vllm.count_tokens(text) < estimate_tokens(text) // 2  # vLLM's /tokenize, not the estimate
