"""A peft LoRA adapter on the default embedded llama.cpp backend (SmolLM2-135M): converted to GGUF, loaded through
the configuration, applied the way peft applies it, and the chain of empathy still plans with it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from agent.base import ChatMessage
from agent.empathy.chain import EmpathyChain
from agent.llm.embedded import EmbeddedLlm
from agent.llm.gguf_lora import gguf_adapter_for, read_base_model
from agent.prompts import PromptLibrary
from compose.config import load_config
from compose.engines import load_llm
from core.emotion import EmotionState
from core.provision import model_dir
from tests.agent.llm.lora_fixtures import write_peft_adapter

pytestmark = pytest.mark.models

QUESTION = [ChatMessage("user", "Tell me about cats.")]


@pytest.fixture(scope="module")
def model_path() -> Path:
    return model_dir("smollm2-135m") / "model.gguf"


def _greedy(llm: EmbeddedLlm, tokens: int = 16) -> str:
    return "".join(llm.stream(QUESTION, tokens, 0.0))


@pytest.fixture(scope="module")
def base_reply(model_path: Path) -> str:
    """The base model's greedy reply; the model is closed before any tuned one starts (two llama.cpp models alive
    in one process at once can hang in native code)."""
    with EmbeddedLlm(model_path, threads=2, context_tokens=2048) as llm:
        return _greedy(llm)


def test_a_converted_adapter_changes_the_reply_and_the_chain_still_plans(
    model_path: Path, base_reply: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Known non-zero A and B on the attention's q, k and v of all 30 blocks, as `empathica finetune` would train.
    shapes = read_base_model(model_path).shapes
    write_peft_adapter(tmp_path / "peft", shapes, rank=4, scale=0.05, blocks=30, seed=0)
    monkeypatch.setenv("EMPATHICA_ADAPTERS", str(tmp_path / "cache"))
    environ = {"EMPATHICA_LLM_MODEL": "smollm2-135m", "EMPATHICA_LLM_ADAPTER": str(tmp_path / "peft")}
    messages = io.StringIO()
    with load_llm(load_config(environ=environ), messages) as tuned:  # the default backend, the chain on
        assert isinstance(tuned, EmbeddedLlm) and tuned.lora is not None and tuned.lora.parent == tmp_path / "cache"
        assert "converted the peft adapter" in messages.getvalue() and "90 weights" in messages.getvalue()
        assert _greedy(tuned) != base_reply

        chain = EmpathyChain(tuned, PromptLibrary().load("persona_default"), temperature=0.0, retries=0)
        grief, compassion = EmotionState.from_label("sadness", 0.9), EmotionState.from_label("sadness", 0.5)
        turn = chain.turn("My dog died yesterday.", grief, compassion, [])
        sentences = list(turn)
    assert turn.schema_valid and turn.plan is not None and turn.plan.source == "model", (turn.errors, turn.raw)
    assert sentences and turn.plan.response.startswith(sentences[0])


def test_llama_cpp_applies_the_adapter_as_peft_does(model_path: Path, base_reply: str, tmp_path: Path) -> None:
    """transformers + peft on the de-quantized GGUF weights is the reference: llama.cpp with the converted adapter
    writes the same greedy words. A LoRA on k_proj only: llama GGUFs reorder q/k rows for their rotary embedding,
    and B must be reordered the same way (without it llama.cpp writes other words)."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    shapes = read_base_model(model_path).shapes
    peft_dir = tmp_path / "peft"
    write_peft_adapter(peft_dir, shapes, projections=("k_proj",), rank=4, blocks=30, seed=3)
    torch.set_num_threads(2)
    folder, name = str(model_path.parent), model_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    reference = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32), str(peft_dir)
    )
    prompt = tokenizer.apply_chat_template(
        [{"role": m.role, "content": m.content} for m in QUESTION], add_generation_prompt=True, return_tensors="pt"
    )
    prompt = prompt if torch.is_tensor(prompt) else prompt["input_ids"]
    generated = reference.generate(prompt, max_new_tokens=16, do_sample=False)
    expected = tokenizer.decode(generated[0, prompt.shape[1] :], skip_special_tokens=True)

    lora, _ = gguf_adapter_for(peft_dir, model_path, tmp_path / "cache")
    with EmbeddedLlm(model_path, threads=2, context_tokens=2048, lora=lora) as tuned:
        written = _greedy(tuned)
    # The first words, not all: llama.cpp computes on quantized weights, so long continuations may drift apart.
    assert written.split()[:7] == expected.split()[:7], (written, expected)
    assert base_reply.split()[:7] != expected.split()[:7]  # the adapter, not the base model, wrote them


def test_llama_cpp_refuses_a_gguf_adapter_for_another_model(model_path: Path, tmp_path: Path) -> None:
    from compose.engines import EngineError
    from tests.agent.llm.lora_fixtures import write_base_gguf

    other = tmp_path / "qwen.gguf"
    write_peft_adapter(tmp_path / "peft", write_base_gguf(other, architecture="qwen2"))
    lora, _ = gguf_adapter_for(tmp_path / "peft", other, tmp_path / "cache")
    environ = {"EMPATHICA_LLM_MODEL": "smollm2-135m", "EMPATHICA_LLM_ADAPTER": str(lora)}
    with pytest.raises(EngineError, match=r"with the LoRA adapter .* made for another base model"):
        load_llm(load_config(environ=environ))
