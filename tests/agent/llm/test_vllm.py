"""The OpenAI-compatible backend against a real vLLM server on a GPU (docs/gpu.md).

Marked `gpu`: deselected unless EMPATHICA_VLLM_URL names the server's API root (e.g. http://127.0.0.1:8000/v1;
tests/conftest.py), so CI without a GPU runs the rest of the suite. EMPATHICA_VLLM_MODEL is the served model name
(default qwen2.5-coder-1.5b, as `--served-model-name` in docs/gpu.md). Run:
    EMPATHICA_VLLM_URL=http://127.0.0.1:8000/v1 .venv/bin/python -m pytest -m gpu tests/agent/llm/test_vllm.py
"""

from __future__ import annotations

import os

import pytest

from agent.llm.openai_http import OpenAiHttpLlm
from tests.agent.llm import openai_contract as contract

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def vllm() -> OpenAiHttpLlm:
    url = os.environ.get("EMPATHICA_VLLM_URL", "")
    assert url, "set EMPATHICA_VLLM_URL to a running `vllm serve` (docs/gpu.md)"
    return OpenAiHttpLlm(url, os.environ.get("EMPATHICA_VLLM_MODEL", "qwen2.5-coder-1.5b"), read_timeout=120)


def test_streams_a_reply(vllm: OpenAiHttpLlm) -> None:
    contract.check_streams_a_reply(vllm, 24)


def test_json_schema_constrains_the_output(vllm: OpenAiHttpLlm) -> None:
    contract.check_json_schema_constrains_the_output(vllm)


def test_the_chain_of_empathy_streams_its_plan(vllm: OpenAiHttpLlm) -> None:
    # vLLM's structured output held the model to the plan: its own plan, not the scripted fallback.
    _, first_s = contract.check_the_chain_of_empathy_follows_its_plan(vllm, "My dog died this morning.")
    print(f"vLLM: first sentence of the chain's reply after {first_s * 1000:.0f} ms")  # a figure, not a check


def test_closing_the_stream_early_leaves_the_server_usable(vllm: OpenAiHttpLlm) -> None:
    contract.check_closing_the_stream_early_leaves_the_server_usable(vllm)


def test_tokens_are_counted_by_the_servers_tokenizer(vllm: OpenAiHttpLlm) -> None:
    contract.check_tokens_are_counted_by_the_servers_tokenizer(vllm)
