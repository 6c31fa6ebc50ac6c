"""The torch layers used for training and the numpy layers the product runs give the same numbers."""

import numpy as np
import pytest
import torch

from agent.perception.minilm import MiniLmEncoder, bert_layer
from core.provision import model_dir
from research.emotion_model.features import encode, tokenize
from research.emotion_model.torch_minilm import BertLayer, TorchMiniLm


def test_a_torch_layer_equals_the_numpy_layer_with_the_same_weights():
    torch.manual_seed(0)
    layer = BertLayer(width=16, heads=4, inner=32, eps=1e-12)
    with torch.no_grad():  # non-trivial layer norms too
        for module in (layer.attention_norm, layer.output_norm):
            module.weight.uniform_(0.5, 1.5)
            module.bias.uniform_(-0.2, 0.2)
    x = torch.randn(1, 7, 16)
    expected = layer.eval()(x, torch.ones(1, 7))[0].detach().numpy()
    got = bert_layer(x[0].numpy(), layer.to_numpy("p."), "p.", heads=4)
    assert got == pytest.approx(expected, abs=1e-5)


def test_padding_does_not_change_a_text_s_states():
    torch.manual_seed(1)
    layer = BertLayer(width=16, heads=4, inner=32, eps=1e-12).eval()
    x = torch.randn(1, 5, 16)
    alone = layer(x, torch.ones(1, 5))
    padded = layer(torch.cat([x, torch.randn(1, 3, 16)], 1), torch.tensor([[1.0] * 5 + [0.0] * 3]))
    assert padded[0, :5].detach().numpy() == pytest.approx(alone[0].detach().numpy(), abs=1e-5)


def test_load_and_export_round_trip():
    layer = BertLayer(width=8, heads=2, inner=16, eps=1e-12)
    weights = layer.to_numpy("encoder.layer.3.")
    copy = BertLayer(width=8, heads=2, inner=16, eps=1e-12)
    copy.load_numpy(weights, "encoder.layer.3.")
    assert all(np.array_equal(v, copy.to_numpy("encoder.layer.3.")[k]) for k, v in weights.items())


@pytest.mark.models
def test_batched_torch_states_equal_the_live_numpy_encoder():
    directory = model_dir("minilm-l6")
    texts = ["I'm fine.", "My sister moved abroad and the flat feels empty now.", "ok"]
    encoded = encode(TorchMiniLm(directory), tokenize(directory / "tokenizer.json", texts), layer=4)
    live = MiniLmEncoder(directory)
    for i, text in enumerate(texts):
        # The cache stores float16: equal to about 1e-2 on values of order 1.
        assert encoded.states(i).astype(np.float32) == pytest.approx(live.token_states(text, 4), abs=2e-2)
    pooled = encoded.pooled[:, 6].astype(np.float32)
    unit = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    assert unit == pytest.approx(live.encode(texts), abs=1e-3)
