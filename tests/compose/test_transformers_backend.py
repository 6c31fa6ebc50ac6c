"""Wiring of llm.backend = "transformers" (agent/llm/transformers_chat.py) in the configuration and engines."""

from __future__ import annotations

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


@pytest.mark.parametrize(("backend", "advice"), [("embedded", "no maintained offline converter"), ("openai", "vLLM")])
def test_an_adapter_the_backend_cannot_use_is_refused(backend: str, advice: str) -> None:
    # Before, the embedded backend ran the base model and the report looked like an adapter run.
    config = load_config(environ={"EMPATHICA_LLM_BACKEND": backend, "EMPATHICA_LLM_ADAPTER": "/x/adapter"})
    with pytest.raises(EngineError, match=advice) as error:
        load_llm(config)
    assert "llm.adapter = '/x/adapter'" in str(error.value)
