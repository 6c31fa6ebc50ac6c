"""What every OpenAI-compatible server must do for the HTTP backend: one set of checks, run against each real server
(llama.cpp's in tests/agent/test_openai_http.py, vLLM's on a GPU in test_vllm.py)."""

from __future__ import annotations

import json
import time

from agent.base import ChatMessage
from agent.empathy.chain import EmpathyChain, EmpathyTurn
from agent.llm.openai_http import OpenAiHttpLlm
from agent.prompt_budget import estimate_tokens
from agent.prompts import PromptLibrary
from core.emotion import EmotionState

HI = [ChatMessage("user", "Say hello.")]
_SCHEMA = {
    "type": "object",
    "properties": {
        "mood": {"type": "string", "enum": ["calm", "sad"]},
        "note": {"type": "string", "maxLength": 20},
    },
    "required": ["mood", "note"],
}


def check_streams_a_reply(model: OpenAiHttpLlm, max_tokens: int) -> None:
    """A streamed reply arrives in several non-empty pieces."""
    pieces = list(model.stream(HI, max_tokens, 0.0))
    assert len(pieces) > 1 and "".join(pieces).strip()


def check_json_schema_constrains_the_output(model: OpenAiHttpLlm) -> None:
    """The server's JSON-schema response format holds the output to the enum and the length limit."""
    # Room for the longest output the schema allows: 20 characters can be 20 emoji of up to 4 byte-tokens each
    # (a sampled small model did write them), so a 60-token budget could cut the object off mid-string.
    data = json.loads(model.complete(HI, 200, 0.7, json_schema=_SCHEMA))
    assert data["mood"] in ("calm", "sad") and len(data["note"]) <= 20


def check_the_chain_of_empathy_follows_its_plan(model: OpenAiHttpLlm, message: str) -> tuple[EmpathyTurn, float]:
    """A grief turn through the chain: the model's own plan (not the scripted fallback) is what is said.

    Returns the turn and the seconds to its first sentence.
    """
    chain = EmpathyChain(model, PromptLibrary().load("persona_default"))
    started = time.perf_counter()
    turn = chain.turn(message, EmotionState.from_label("sadness", 0.9), EmotionState.from_label("sadness", 0.4), [])
    sentences = iter(turn)
    first = next(sentences)
    first_s = time.perf_counter() - started
    rest = list(sentences)
    assert turn.schema_valid and turn.plan is not None, (turn.errors, turn.raw)
    assert turn.plan.response == " ".join([first, *rest])
    return turn, first_s


def check_closing_the_stream_early_leaves_the_server_usable(model: OpenAiHttpLlm) -> None:
    """A stream dropped after its first piece does not block the next request."""
    stream = model.stream(HI, 200, 0.7)
    next(stream)
    stream.close()
    assert model.complete(HI, 8, 0.0)


def check_tokens_are_counted_by_the_servers_tokenizer(model: OpenAiHttpLlm) -> None:
    """`count_tokens` asks the server's tokenizer (about four characters a token), not the estimate."""
    text = "I lost my job today and I do not know what to tell my family."
    assert 0 < model.count_tokens(text) < estimate_tokens(text) // 2
