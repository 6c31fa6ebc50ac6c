import numpy as np
import pytest

from agent.perception.minilm import MiniLmEncoder, read_safetensors
from core.provision import model_dir

# First 8 dimensions of the reference embedding of this sentence from transformers 5.23 (AutoModel + mean pooling
# + L2 normalisation, i.e. sentence-transformers' all-MiniLM-L6-v2 pipeline), computed once outside the venv.
SENTENCE = "I can't believe she said that to me!"
REFERENCE = [-0.04316, -0.00182, 0.01582, 0.03986, 0.00963, 0.02889, 0.11825, 0.02304]


@pytest.fixture(scope="module")
def encoder() -> MiniLmEncoder:
    return MiniLmEncoder(model_dir("minilm-l6"))


@pytest.mark.models
def test_matches_the_reference_implementation(encoder: MiniLmEncoder):
    vector = encoder.encode([SENTENCE])[0]
    assert vector.shape == (384,)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    assert vector[:8] == pytest.approx(REFERENCE, abs=2e-4)


@pytest.mark.models
def test_paraphrases_are_closer_than_unrelated_sentences(encoder: MiniLmEncoder):
    a, b, c = encoder.encode(["I feel great today", "I am so happy right now", "The train leaves at nine."])
    assert a @ b > a @ c + 0.2


@pytest.mark.models
def test_empty_batch(encoder: MiniLmEncoder):
    assert encoder.encode([]).shape == (0, 384)
    assert encoder.token_states_many([]) == []


@pytest.mark.models
def test_texts_in_one_packed_pass_get_the_states_each_gets_alone(encoder: MiniLmEncoder):
    texts = ["Work was fine.", "I have the pills lined up on the table.", "ok"]
    for layers in (3, None):
        packed = encoder.token_states_many(texts, layers)
        for states, text in zip(packed, texts, strict=True):
            assert states == pytest.approx(encoder.token_states(text, layers), abs=1e-5)
    assert encoder.encode(texts) == pytest.approx(np.stack([encoder.encode([t])[0] for t in texts]), abs=1e-6)


def test_safetensors_reader_skips_integer_buffers(tmp_path):
    import json
    import struct

    weights = np.arange(6, dtype=np.float32)
    ints = np.arange(3, dtype=np.int64)
    header = {
        "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
        "ids": {"dtype": "I64", "shape": [3], "data_offsets": [24, 48]},
        "__metadata__": {"format": "pt"},
    }
    raw = json.dumps(header).encode()
    path = tmp_path / "t.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + weights.tobytes() + ints.tobytes())
    tensors = read_safetensors(path)
    assert set(tensors) == {"w"}
    assert tensors["w"].tolist() == [[0, 1, 2], [3, 4, 5]]
