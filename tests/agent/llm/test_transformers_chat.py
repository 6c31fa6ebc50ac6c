"""The transformers chat backend on a tiny local Llama: streaming, the KV-cache loop, LoRA adapters, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.base import ChatMessage

pytestmark = pytest.mark.models

TEXTS = [
    "You are a kind companion. Answer in short sentences.",
    "I lost my job today. I'm so sorry, that is hard to hear.",
    "I passed my driving test! Congratulations, that's brilliant news.",
    "My dog died this morning. Losing her leaves a big empty space.",
] * 4
MESSAGES = [ChatMessage("system", "You are a kind companion."), ChatMessage("user", "I lost my job today.")]


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.research.tiny_lm import build_tiny_lm

    return build_tiny_lm(tmp_path_factory.mktemp("tiny-lm"), TEXTS, vocab_size=300)


@pytest.fixture(scope="module")
def adapter(tiny_lm: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LoRA adapter with random (non-zero) weights, saved the way `empathica finetune` saves one."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(tiny_lm)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    folder = tmp_path_factory.mktemp("adapter")
    get_peft_model(base, config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def llm(tiny_lm: Path):  # type: ignore[no-untyped-def]
    from agent.llm.transformers_chat import TransformersChatLlm

    return TransformersChatLlm(tiny_lm, threads=1)


def test_greedy_stream_matches_transformers_generate(llm) -> None:  # type: ignore[no-untyped-def]
    import torch

    from agent.llm.hf_chat import encode_prompt

    pieces = list(llm.stream(MESSAGES, max_tokens=10, temperature=0.0))
    assert pieces and all(isinstance(p, str) and p for p in pieces)
    # Our KV-cache token loop must pick the same tokens as transformers' own greedy search.
    prompt = encode_prompt(llm.tokenizer, MESSAGES)
    expected = llm.model.generate(
        torch.tensor([prompt]),
        attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
        max_new_tokens=10,
        do_sample=False,
        eos_token_id=sorted(llm.stop_ids),
        pad_token_id=llm.tokenizer.pad_token_id,
    )[0, len(prompt) :]
    expected = [t for t in expected.tolist() if t not in llm.stop_ids]
    assert "".join(pieces) == llm.tokenizer.decode(expected, skip_special_tokens=True)
    assert llm.complete(MESSAGES, 10, 0.0) == "".join(pieces)


def test_sampling_is_seeded_per_generation_and_bounded(tiny_lm: Path) -> None:
    from agent.llm.transformers_chat import TransformersChatLlm

    one, two = TransformersChatLlm(tiny_lm, threads=1, seed=3), TransformersChatLlm(tiny_lm, threads=1, seed=3)
    first = [one.complete(MESSAGES, 8, 1.0) for _ in range(2)]
    assert first == [two.complete(MESSAGES, 8, 1.0) for _ in range(2)]  # same seed, same sequence of replies
    assert one.last_generation is not None and one.last_generation.tokens <= 8
    assert one.last_generation.finish_reason in ("stop", "length")
    assert first[0] != first[1]  # each generation gets its own seed (seed + count), like the embedded backend


def test_closing_the_stream_frees_the_model_for_the_next_turn(llm) -> None:  # type: ignore[no-untyped-def]
    stream = llm.stream(MESSAGES, max_tokens=20, temperature=0.0)
    next(stream)
    stream.close()  # a barge-in: the next generation must not wait on the abandoned one
    assert llm.last_generation.finish_reason == "cancelled"
    assert list(llm.stream(MESSAGES, max_tokens=3, temperature=0.0))


def test_a_lora_adapter_changes_the_models_output(tiny_lm: Path, adapter: Path, llm) -> None:  # type: ignore[no-untyped-def]
    from agent.llm.transformers_chat import TransformersChatLlm

    tuned = TransformersChatLlm(tiny_lm, adapter=adapter, threads=1)
    assert type(tuned.model).__name__.startswith("Peft")
    assert not tuned.logits(MESSAGES).allclose(llm.logits(MESSAGES), atol=1e-4)
    assert list(tuned.stream(MESSAGES, max_tokens=4, temperature=0.0))


def test_json_schema_requests_and_bad_folders_raise_what_to_do(tiny_lm: Path, tmp_path: Path, llm) -> None:  # type: ignore[no-untyped-def]
    from agent.llm.transformers_chat import TransformersChatLlm, TransformersLlmError

    with pytest.raises(TransformersLlmError, match=r"empathy\.enabled = false"):
        llm.stream(MESSAGES, 8, 0.0, json_schema={"type": "object"})
    with pytest.raises(TransformersLlmError, match=r"no adapter_config\.json"):
        TransformersChatLlm(tiny_lm, adapter=tmp_path, threads=1)
    with pytest.raises(TransformersLlmError, match=r"no config\.json"):
        TransformersChatLlm(tmp_path, threads=1)
    small = TransformersChatLlm(tiny_lm, threads=1, context_tokens=8)
    with pytest.raises(TransformersLlmError, match=r"llm\.context_tokens"):
        small.stream(MESSAGES, 8, 0.0)
