"""The real llama.cpp engine on real GGUF models (SmolLM2-135M; one short reply from the default 1.5B)."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.base import ChatMessage
from agent.llm.embedded import EmbeddedLlm, LlmError
from agent.prompt_budget import estimate_tokens
from agent.prompt_cache import warm_prompt_cache
from core.provision import model_dir

pytestmark = pytest.mark.models

MESSAGES = [
    ChatMessage("system", "You are a friendly assistant."),
    ChatMessage("user", "Tell me a long story about a cat and a dog."),
]


@pytest.fixture(scope="module")
def small() -> Iterator[EmbeddedLlm]:
    # Tests that start models of their own are in test_embedded_llm_lifecycle.py: two llama.cpp models alive in one
    # process at once can hang in native code.
    with EmbeddedLlm(model_dir("smollm2-135m") / "model.gguf", threads=2, context_tokens=1024) as model:
        yield model


def test_streams_several_pieces_of_text(small: EmbeddedLlm):
    pieces = list(small.stream(MESSAGES, max_tokens=24, temperature=0.0))
    assert len(pieces) > 1
    assert "".join(pieces).strip()
    stats = small.last_generation
    assert stats is not None and stats.pieces == len(pieces) and not stats.cancelled


def test_closing_early_stops_generation_and_the_model_stays_usable(small: EmbeddedLlm):
    stream = small.stream(MESSAGES, max_tokens=400, temperature=0.7)
    first = [next(stream) for _ in range(3)]
    assert all(isinstance(piece, str) for piece in first)
    stream.close()
    assert small.wait_idle(timeout=30)
    stats = small.last_generation
    assert stats is not None and stats.cancelled
    assert stats.pieces < 100  # stopped long before max_tokens
    again = "".join(small.stream(MESSAGES, max_tokens=8, temperature=0.0))
    assert again.strip()
    assert not small.last_generation.cancelled


def test_prompt_cache_reuses_the_common_prefix(small: EmbeddedLlm):
    list(small.stream(MESSAGES, max_tokens=4, temperature=0.0))
    follow_up = [*MESSAGES, ChatMessage("assistant", "Once upon a time."), ChatMessage("user", "Go on.")]
    list(small.stream(follow_up, max_tokens=4, temperature=0.0))
    timings = small.last_generation.timings
    assert timings["cache_n"] > 0


def test_warming_with_the_history_leaves_only_the_new_message_to_process(small: EmbeddedLlm):
    system = "You are a friendly assistant."
    follow_up = ChatMessage("user", "He stopped eating yesterday.")

    def exchange(pet: str) -> list[ChatMessage]:  # a fresh one per measurement: never restored from the RAM cache
        return [
            ChatMessage("user", f"My {pet} has been ill for a week and the vet could not say why."),
            ChatMessage("assistant", f"I'm so sorry about your {pet}. A week of not knowing is hard. What happened?"),
        ]

    def new_tokens(history: list[ChatMessage]) -> float:
        list(small.stream([ChatMessage("system", system), *history, follow_up], max_tokens=1, temperature=0.0))
        return small.last_generation.timings["prompt_n"]

    cold = new_tokens(exchange("cat"))  # the exchange is processed with the new message
    warm_prompt_cache(small, system, exchange("rabbit"), max_messages=8)
    warm = new_tokens(exchange("rabbit"))
    assert warm <= small.count_tokens(follow_up.content) + 12  # the message and its chat-template markers
    assert cold >= warm + small.count_tokens(exchange("cat")[1].content)


def test_json_schema_constrains_the_output_and_writes_it_compactly(small: EmbeddedLlm):
    schema = {
        "type": "object",
        "properties": {
            "emotion": {"type": "string", "enum": ["joy", "sadness"]},
            "why": {"type": "string", "minLength": 3, "maxLength": 30},
        },
        "required": ["emotion", "why"],
    }
    text = small.complete([ChatMessage("user", "I lost my job. How do I feel?")], 60, 0.0, json_schema=schema)
    data = json.loads(text)
    assert data["emotion"] in {"joy", "sadness"} and 3 <= len(data["why"]) <= 30
    # No indentation tokens: the layout json.dumps writes by default, one space after ":" and ",".
    assert text == json.dumps(data)


def test_request_larger_than_the_context_is_a_clear_error(small: EmbeddedLlm):
    with pytest.raises(LlmError, match="context"):
        small.complete([ChatMessage("user", "word " * 2000)], 4, 0.0)
    assert small.complete(MESSAGES, 4, 0.0).strip()


def test_missing_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(LlmError, match=r"does not exist.*models install"):
        EmbeddedLlm(tmp_path / "missing.gguf")


def test_non_gguf_file_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "broken.gguf"
    path.write_bytes(b"<html>not a model</html>")
    with pytest.raises(LlmError, match="not a GGUF file"):
        EmbeddedLlm(path)


def test_truncated_gguf_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "truncated.gguf"
    with (model_dir("smollm2-135m") / "model.gguf").open("rb") as source:
        path.write_bytes(source.read(4096))
    with pytest.raises(LlmError, match="could not load"):
        EmbeddedLlm(path)


def test_tokens_are_counted_by_the_models_own_tokenizer(small: EmbeddedLlm):
    text = "I lost my job today and I do not know what to tell my family."
    assert 0 < small.count_tokens(text) < estimate_tokens(text) // 2
    assert small.count_tokens("\U0001f600" * 2000) == 6000  # the probe's message: 6,000 tokens for SmolLM2
