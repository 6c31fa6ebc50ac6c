"""The safety loader refuses to start without its learned detector (no silent fall-back to the rules)."""

from pathlib import Path

import numpy as np
import pytest

from agent.safety.semantic import MODEL_FILE
from compose.config import load_config
from compose.engines import EngineError, load_safety


class _NeverCalledEncoder:
    """Stands in for MiniLM where loading must fail on the weights before any encoding."""

    def encode(self, texts: list[str]) -> np.ndarray:
        raise AssertionError("the weights should have been rejected first")


def test_missing_weights_refuse_to_start(tmp_path: Path):
    with pytest.raises(EngineError, match=r"crisis detector.*missing"):
        load_safety(load_config(environ={}), _NeverCalledEncoder(), model_file=tmp_path / "gone.npz")


def test_corrupt_weights_refuse_to_start(tmp_path: Path):
    broken = tmp_path / "crisis_model.npz"
    broken.write_bytes(MODEL_FILE.read_bytes()[:1000])
    with pytest.raises(EngineError, match="crisis detector"):
        load_safety(load_config(environ={}), _NeverCalledEncoder(), model_file=broken)


def test_a_missing_encoder_model_refuses_to_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("EMPATHICA_MODELS", str(tmp_path))  # an empty models home: MiniLM is not installed
    with pytest.raises(EngineError, match="minilm"):
        load_safety(load_config(environ={}))


def test_disabled_safety_loads_nothing():
    config = load_config(environ={"EMPATHICA_SAFETY_ENABLED": "false"})
    assert load_safety(config, _NeverCalledEncoder()) == (None, None)


@pytest.mark.models
def test_the_loaded_screen_catches_indirect_language():
    check, _hook = load_safety(load_config(environ={}))
    assert check is not None
    # A training expression beyond the rules: this checks the wiring (held-out figures: tests/agent/safety).
    verdict = check("Nobody would miss me if I was gone")
    assert verdict is not None and verdict.category == "suicide" and verdict.source == "semantic"
    assert check("my doctor appointment went fine") is None
