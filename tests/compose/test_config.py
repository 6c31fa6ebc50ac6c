"""Configuration: defaults, a file, environment overrides, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from compose.config import ConfigError, load_config


def test_defaults() -> None:
    config = load_config(environ={})
    assert config.server.port == 8765 and config.llm.model == "qwen2.5-coder-1.5b"
    assert config.server.max_message_bytes == 8_000_000


def test_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "empathica.toml"
    path.write_text('[server]\nport = 9000\n[llm]\nmodel = "smollm2-135m"\nthreads = 1\n')
    config = load_config(path, environ={"EMPATHICA_LLM_THREADS": "2", "EMPATHICA_STORAGE_DATABASE": "/tmp/x.db"})
    assert config.server.port == 9000 and config.llm.model == "smollm2-135m"
    assert config.llm.threads == 2, "the environment wins over the file"
    assert config.storage.path == Path("/tmp/x.db")


@pytest.mark.parametrize(
    ("environ", "needle"),
    [({"EMPATHICA_SERVER_PORT": "eighty"}, "server.port"), ({"EMPATHICA_LLM_TEMPERATURE": "9"}, "llm.temperature")],
)
def test_bad_value_names_the_key(environ: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle.replace(".", r"\.")):
        load_config(environ=environ)


def test_unknown_key_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[server]\nprot = 1\n")
    with pytest.raises(ConfigError, match="prot"):
        load_config(path, environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml", environ={})


def test_openai_backend_settings_and_its_model_is_not_a_local_model():
    from compose.config import load_config
    from compose.engines import load_llm
    from compose.models import config_model_names

    config = load_config(
        environ={
            "EMPATHICA_LLM_BACKEND": "openai",
            "EMPATHICA_LLM_BASE_URL": "http://127.0.0.1:9/v1",
            "EMPATHICA_LLM_MODEL": "qwen2.5-7b-instruct",
            "EMPATHICA_EMPATHY_LENS": "reality",
            "EMPATHICA_SAFETY_HOTLINE_TEXT": "Call 988.",
        }
    )
    assert config.llm.backend == "openai" and config.empathy.lens == "reality"
    assert config.safety.hotline_text == "Call 988."
    assert "qwen2.5-7b-instruct" not in config_model_names(config)
    model = load_llm(config)
    assert model.url == "http://127.0.0.1:9/v1/chat/completions" and model.model == "qwen2.5-7b-instruct"


def test_the_transition_parameters_are_configured_and_reach_the_chooser():
    from compose.engines import load_reply_emotion
    from core.emotion import EmotionState

    config = load_config(environ={"EMPATHICA_PERSONA_TRANSITION_MAX_SHIFT": "0.05"})
    assert config.persona.transition_max_shift == 0.05 and config.persona.transition_k == 0.5
    joy = EmotionState.from_label("joy", 0.9)
    slow = load_reply_emotion(config)(joy, None, persona="kai")
    usual = load_reply_emotion(load_config(environ={}))(joy, None, persona="kai")
    rest = load_reply_emotion(config)(EmotionState.from_label("neutral", 0.0), None, persona="kai")
    # A tiny max shift keeps Kai near rest; the default moves it a long way toward shared joy.
    assert slow.vad.distance(rest.vad) < 0.2 < usual.vad.distance(rest.vad)


def test_the_prompt_cache_is_primed_between_turns_where_the_backend_keeps_one() -> None:
    assert load_config(environ={}).llm.primes_cache
    assert load_config(environ={"EMPATHICA_LLM_BACKEND": "openai"}).llm.primes_cache
    assert not load_config(environ={"EMPATHICA_LLM_PRIME_CACHE": "false"}).llm.primes_cache
    # Its every call starts from scratch: priming would only spend the CPU.
    assert not load_config(environ={"EMPATHICA_LLM_BACKEND": "transformers"}).llm.primes_cache
