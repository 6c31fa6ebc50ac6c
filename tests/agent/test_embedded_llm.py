"""The real llama.cpp engine on real GGUF models (SmolLM2-135M; one short reply from the default 1.5B)."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.base import ChatMessage
from agent.llm.embedded import EmbeddedLlm, LlmError
from agent.prompt_budget import estimate_tokens
from agent.prompts import PromptLibrary
from agent.responder import Responder
from core.emotion import EmotionState
from core.provision import model_dir

pytestmark = pytest.mark.models

MESSAGES = [
    ChatMessage("system", "You are a friendly assistant."),
    ChatMessage("user", "Tell me a long story about a cat and a dog."),
]


@pytest.fixture(scope="module")
def small() -> Iterator[EmbeddedLlm]:
    yield EmbeddedLlm(model_dir("smollm2-135m") / "model.gguf", threads=2, context_tokens=1024)


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


def test_json_schema_constrains_the_output(small: EmbeddedLlm):

    schema = {
        "type": "object",
        "properties": {"emotion": {"type": "string", "enum": ["joy", "sadness"]}},
        "required": ["emotion"],
    }
    text = small.complete([ChatMessage("user", "I lost my job. How do I feel?")], 30, 0.0, json_schema=schema)
    assert json.loads(text)["emotion"] in {"joy", "sadness"}


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


def test_default_model_replies_through_responder():
    library = PromptLibrary()
    with EmbeddedLlm(model_dir("qwen2.5-coder-1.5b") / "model.gguf", threads=2, context_tokens=2048) as model:
        responder = Responder(model, library.load("persona_default"), max_tokens=40, temperature=0.0)
        sentences = list(
            responder.reply(
                "My dog died yesterday.",
                EmotionState.from_label("sadness", 0.9),
                EmotionState.from_label("sadness", 0.4),
                [],
            )
        )
    assert sentences
    assert all(sentence.strip() for sentence in sentences)
    assert "*" not in " ".join(sentences)


def test_closed_model_says_so(tmp_path: Path):
    model = EmbeddedLlm(model_dir("smollm2-135m") / "model.gguf", context_tokens=256)
    model.close()
    with pytest.raises(LlmError, match="closed"):
        model.complete(MESSAGES, 4, 0.0)


def test_the_ram_prompt_cache_is_bounded(monkeypatch: pytest.MonkeyPatch):
    # llama.cpp keeps earlier prompts' KV states in RAM, 8 GiB by default: a server's memory grew with every new
    # conversation (benchmarks/soak.py). The engine caps it; benchmarks/llm_prompt_cache.py shows the plateau.
    import xllamacpp

    seen: list[int] = []
    real = xllamacpp.Server

    def recording(params: xllamacpp.CommonParams) -> xllamacpp.Server:
        seen.append(params.cache_ram_mib)
        return real(params)

    monkeypatch.setattr(xllamacpp, "Server", recording)
    model = EmbeddedLlm(model_dir("smollm2-135m") / "model.gguf", threads=1, context_tokens=512)
    assert model.complete([ChatMessage("user", "Hi")], 2, 0.0).strip()  # the capped model still answers
    assert seen == [128]
    model.close()  # one llama.cpp server at a time: a second one beside a live one can hang in native code
    uncapped = EmbeddedLlm(model_dir("smollm2-135m") / "model.gguf", threads=1, context_tokens=512, cache_ram_mib=0)
    assert seen == [128, 0]
    uncapped.close()


def test_tokens_are_counted_by_the_models_own_tokenizer(small: EmbeddedLlm):
    text = "I lost my job today and I do not know what to tell my family."
    assert 0 < small.count_tokens(text) < estimate_tokens(text) // 2
    assert small.count_tokens("\U0001f600" * 2000) == 6000  # the probe's message: 6,000 tokens for SmolLM2
