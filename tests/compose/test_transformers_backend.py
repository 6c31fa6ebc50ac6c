"""Wiring of llm.backend = "transformers" (agent/llm/transformers_chat.py) and of llm.adapter on each backend."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from compose.config import load_config
from compose.engines import EngineError, load_llm


def test_transformers_backend_needs_the_plain_responder() -> None:
    config = load_config(environ={"EMPATHICA_LLM_BACKEND": "transformers", "EMPATHICA_LLM_ADAPTER": "/x/adapter"})
    assert config.llm.backend == "transformers" and config.llm.adapter == "/x/adapter"
    assert config.empathy.enabled  # the default: the chain of empathy, which needs JSON-constrained decoding
    with pytest.raises(EngineError, match=r"empathy\.enabled = false"):
        load_llm(config)


@pytest.mark.models
def test_transformers_backend_loads_the_model_and_adapter(tmp_path: Path) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from agent.llm.transformers_chat import TransformersChatLlm
    from tests.research.tiny_lm import build_tiny_lm

    model = build_tiny_lm(tmp_path / "lm", ["I lost my job today.", "I'm so sorry to hear that."] * 8, vocab_size=200)
    adapter = tmp_path / "adapter"
    lora = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj"], init_lora_weights=False)
    get_peft_model(AutoModelForCausalLM.from_pretrained(model), lora).save_pretrained(adapter)
    environ = {
        "EMPATHICA_LLM_BACKEND": "transformers",
        "EMPATHICA_LLM_MODEL": str(model),
        "EMPATHICA_LLM_ADAPTER": str(adapter),
        "EMPATHICA_EMPATHY_ENABLED": "false",
    }
    llm = load_llm(load_config(environ=environ))
    assert isinstance(llm, TransformersChatLlm) and llm.adapter == adapter
    assert type(llm.model).__name__.startswith("Peft")
    with pytest.raises(EngineError, match=r"no config\.json"):
        load_llm(load_config(environ={**environ, "EMPATHICA_LLM_MODEL": str(tmp_path)}))


def test_the_openai_backend_refuses_an_adapter() -> None:
    # It cannot load one: running the base model would make a report look like an adapter run.
    config = load_config(environ={"EMPATHICA_LLM_BACKEND": "openai", "EMPATHICA_LLM_ADAPTER": "/x/adapter"})
    with pytest.raises(EngineError, match="vLLM") as error:
        load_llm(config)
    assert "llm.adapter = '/x/adapter'" in str(error.value)


def test_the_embedded_backend_converts_a_peft_adapter_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from compose.engines import embedded_adapter
    from tests.agent.llm.lora_fixtures import write_base_gguf, write_peft_adapter

    monkeypatch.setenv("EMPATHICA_ADAPTERS", str(tmp_path / "cache"))
    base = tmp_path / "base.gguf"
    write_peft_adapter(tmp_path / "peft", write_base_gguf(base))
    messages = io.StringIO()
    converted = embedded_adapter(str(tmp_path / "peft"), base, messages)
    assert converted.parent == tmp_path / "cache" and converted.suffix == ".gguf"
    assert "converted the peft adapter" in messages.getvalue() and "6 weights, rank 2, alpha 4" in messages.getvalue()
    again = io.StringIO()
    assert embedded_adapter(str(tmp_path / "peft"), base, again) == converted and not again.getvalue()  # cached
    assert embedded_adapter(str(converted), base) == converted  # a GGUF adapter is used as it is


def test_the_embedded_backend_refuses_an_adapter_it_cannot_use(tmp_path: Path) -> None:
    from tests.agent.llm.lora_fixtures import write_base_gguf

    base = tmp_path / "base.gguf"
    write_base_gguf(base)
    environ = {"EMPATHICA_LLM_MODEL": str(base), "EMPATHICA_LLM_ADAPTER": "/x/adapter"}
    with pytest.raises(EngineError, match=r"llm\.adapter = '/x/adapter' cannot be used with .*does not exist"):
        load_llm(load_config(environ=environ))
    with pytest.raises(EngineError, match="is not a GGUF LoRA adapter"):
        load_llm(load_config(environ={**environ, "EMPATHICA_LLM_ADAPTER": str(base)}))
