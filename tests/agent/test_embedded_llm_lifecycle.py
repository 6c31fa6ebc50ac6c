"""The real llama.cpp engine, one model at a time: the default 1.5B replies, a closed model, the RAM prompt cache.

Apart from test_embedded_llm.py, whose module-wide SmolLM2 stays loaded for its tests: two llama.cpp models alive
in one process at once can hang in native code, so every test here closes its model before the next starts.
"""

import pytest

from agent.base import ChatMessage
from agent.llm.embedded import EmbeddedLlm, LlmError
from agent.prompts import PromptLibrary
from agent.responder import Responder
from core.emotion import EmotionState
from core.provision import model_dir

pytestmark = pytest.mark.models

MESSAGES = [
    ChatMessage("system", "You are a friendly assistant."),
    ChatMessage("user", "Tell me a long story about a cat and a dog."),
]


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


def test_closed_model_says_so():
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
