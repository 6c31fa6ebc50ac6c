"""The trained emotion model's weights: the shipped file loads through the real code, and a bad file is refused."""

from pathlib import Path

import numpy as np
import pytest

from agent.perception.emotion_model import (
    WEIGHTS,
    WEIGHTS_SHA256,
    EmotionModel,
    EmotionModelError,
    load_emotion_model,
    save_emotion_model,
)
from agent.perception.minilm import bert_layer
from core.emotion import BASIC_EMOTIONS
from core.provision import sha256_file

_LAYER_SHAPES = {
    "attention.self.query": (8, 8), "attention.self.key": (8, 8), "attention.self.value": (8, 8),
    "attention.output.dense": (8, 8), "intermediate.dense": (16, 8), "output.dense": (8, 16),
}  # fmt: skip


def _tiny_model(seed: int = 0) -> EmotionModel:
    """A random 8-wide, 2-head, one-layer model (the file format, not the trained weights)."""
    rng = np.random.default_rng(seed)
    layer: dict[str, np.ndarray] = {}
    for name, shape in _LAYER_SHAPES.items():
        layer[name + ".weight"] = rng.normal(0, 0.3, shape).astype(np.float32)
        layer[name + ".bias"] = rng.normal(0, 0.1, shape[0]).astype(np.float32)
    for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
        layer[norm + ".weight"] = np.ones(8, dtype=np.float32)
        layer[norm + ".bias"] = np.zeros(8, dtype=np.float32)
    head = rng.normal(0, 1, (7, 8)).astype(np.float32)
    return EmotionModel(BASIC_EMOTIONS, 5, (layer,), head, np.zeros(7, np.float32), 1.5, heads=2, eps=1e-12)


def test_the_shipped_weights_load_and_match_their_checksum():
    assert sha256_file(WEIGHTS) == WEIGHTS_SHA256.read_text().split()[0]
    model = load_emotion_model()
    assert model.labels == BASIC_EMOTIONS
    assert 0.25 < model.temperature < 5.0
    assert model.start_layer + len(model.layers) == 6  # the fine-tuned layers are MiniLM's top ones
    assert model.head_weight.shape == (7, 384)
    assert WEIGHTS.stat().st_size <= 25_000_000


def test_a_corrupted_file_is_refused_with_what_to_do(tmp_path: Path):
    broken = tmp_path / "emotion_head.npz"
    data = bytearray(WEIGHTS.read_bytes())
    data[len(data) // 2] ^= 0xFF
    broken.write_bytes(bytes(data))
    with pytest.raises(EmotionModelError, match=r"corrupt.*research\.emotion_model\.train"):
        load_emotion_model(broken, WEIGHTS_SHA256)


def test_a_missing_file_or_checksum_is_refused(tmp_path: Path):
    with pytest.raises(EmotionModelError, match="missing"):
        load_emotion_model(tmp_path / "none.npz", WEIGHTS_SHA256)
    with pytest.raises(EmotionModelError, match="checksum"):
        load_emotion_model(WEIGHTS, tmp_path / "none.sha256")


def test_a_file_that_is_not_a_model_is_refused_even_with_a_matching_checksum(tmp_path: Path):
    path, checksum = tmp_path / "m.npz", tmp_path / "m.sha256"
    path.write_bytes(b"not a zip file")
    checksum.write_text(f"{sha256_file(path)}  m.npz\n")
    with pytest.raises(EmotionModelError, match="cannot read"):
        load_emotion_model(path, checksum)


def test_save_and_load_round_trip(tmp_path: Path):
    model = _tiny_model()
    path, checksum = tmp_path / "m.npz", tmp_path / "m.sha256"
    digest = save_emotion_model(model, path, checksum)
    assert checksum.read_text() == f"{digest}  m.npz\n"
    loaded = load_emotion_model(path, checksum)
    assert (loaded.labels, loaded.start_layer, loaded.temperature) == (BASIC_EMOTIONS, 5, 1.5)
    states = np.random.default_rng(1).normal(0, 1, (5, 8)).astype(np.float32)
    # Layer weights are stored as float16: the same probabilities to about 1e-3.
    assert loaded.probabilities(states) == pytest.approx(model.probabilities(states), abs=2e-3)
    assert loaded.probabilities(states).sum() == pytest.approx(1.0)


def test_logits_are_the_layers_then_mean_pooling_then_the_read_out():
    model = _tiny_model()
    states = np.random.default_rng(2).normal(0, 1, (4, 8)).astype(np.float32)
    top = bert_layer(states, model.layers[0], "", heads=2)
    assert model.logits(states) == pytest.approx(top.mean(0) @ model.head_weight.T, abs=1e-5)
    calibrated = model.probabilities(states)
    raw = np.exp(model.logits(states)) / np.exp(model.logits(states)).sum()
    # A temperature above 1 flattens the mixture without changing its order.
    assert calibrated.max() < raw.max() and calibrated.argmax() == raw.argmax()


def test_texts_packed_in_one_pass_read_as_each_alone():
    """pooled_many packs texts end to end; each attends only to its own tokens, so each row is its text's `pooled`
    (a pass attending across texts would mix them)."""
    model = _tiny_model()
    rng = np.random.default_rng(3)
    texts = [rng.normal(0, 1, (n, 8)).astype(np.float32) for n in (4, 1, 7)]
    packed = model.pooled_many(texts)
    assert packed.shape == (3, 8)
    for row, states in zip(packed, texts, strict=True):
        assert row == pytest.approx(bert_layer(states, model.layers[0], "", heads=2).mean(0), abs=1e-5)
    mixed = bert_layer(np.concatenate(texts), model.layers[0], "", heads=2)[:4].mean(0)
    assert not np.allclose(packed[0], mixed, atol=1e-3)
