"""agent.llm.gguf_lora: a peft LoRA adapter as llama.cpp's GGUF LoRA adapter, on synthetic models and adapters."""

from __future__ import annotations

import json
import math
from pathlib import Path

import gguf
import numpy as np
import pytest
from safetensors.numpy import save_file

from agent.llm.gguf_lora import (
    AdapterConversionError,
    check_gguf_adapter,
    convert_peft_adapter,
    gguf_adapter_for,
    read_base_model,
    rope_permute_rows,
)
from tests.agent.llm.lora_fixtures import HEADS, KV_HEADS, peft_key, write_base_gguf, write_peft_adapter


@pytest.fixture
def base(tmp_path: Path) -> Path:
    path = tmp_path / "base.gguf"
    write_base_gguf(path)
    return path


def _tensors(path: Path) -> dict[str, gguf.ReaderTensor]:
    return {tensor.name: tensor for tensor in gguf.GGUFReader(path).tensors}


def _field(path: Path, key: str) -> object:
    return gguf.GGUFReader(path).fields[key].contents()


def test_rope_permutation_interleaves_the_two_halves_of_each_head() -> None:
    rows = np.arange(16, dtype=np.float32).reshape(16, 1)
    permuted = rope_permute_rows(rows, heads=2)
    # head 0 holds rows 0-7: halves 0-3 and 4-7 become pairs (0, 4), (1, 5) ...; head 1 likewise from row 8
    assert permuted[:, 0].tolist() == [0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15]
    with pytest.raises(AdapterConversionError, match="heads"):
        rope_permute_rows(np.zeros((6, 1), dtype=np.float32), heads=4)


def test_a_llama_adapter_has_llama_cpp_names_shapes_metadata_and_values(base: Path, tmp_path: Path) -> None:
    shapes = read_base_model(base).shapes
    peft = write_peft_adapter(tmp_path / "peft", shapes, rank=2)
    converted = convert_peft_adapter(tmp_path / "peft", read_base_model(base), tmp_path / "lora.gguf")

    assert _field(converted.path, "general.type") == "adapter"
    assert _field(converted.path, "general.architecture") == "llama"
    assert _field(converted.path, "adapter.type") == "lora"
    assert _field(converted.path, "adapter.lora.alpha") == pytest.approx(4.0)
    assert converted.rank == 2 and converted.alpha == 4.0
    tensors = _tensors(converted.path)
    expected = {
        f"blk.{block}.attn_{kind}.weight.lora_{part}" for block in (0, 1) for kind in "qkv" for part in ("a", "b")
    }
    assert set(tensors) == expected
    assert set(converted.weights) == {name.removesuffix(".lora_a") for name in expected if name.endswith("_a")}
    for name, tensor in tensors.items():
        weight = name.rsplit(".", 1)[0]
        out_features, in_features = shapes[weight]
        assert tensor.tensor_type == gguf.GGMLQuantizationType.F32
        # llama.cpp's order (ne): A is (in, rank), B is (rank, out); the weight itself is (in, out)
        assert tensor.shape.tolist() == ([in_features, 2] if name.endswith("lora_a") else [2, out_features])
    # A as trained; B of v as trained; B of q and k in the GGUF's rotary row order (q: all heads, k: kv heads)
    np.testing.assert_array_equal(tensors["blk.1.attn_q.weight.lora_a"].data, peft[peft_key(1, "q_proj", "A")])
    np.testing.assert_array_equal(tensors["blk.1.attn_v.weight.lora_b"].data, peft[peft_key(1, "v_proj", "B")])
    q_b = peft[peft_key(0, "q_proj", "B")]
    np.testing.assert_array_equal(tensors["blk.0.attn_q.weight.lora_b"].data, rope_permute_rows(q_b, HEADS))
    k_b = peft[peft_key(0, "k_proj", "B")]
    np.testing.assert_array_equal(tensors["blk.0.attn_k.weight.lora_b"].data, rope_permute_rows(k_b, KV_HEADS))
    assert not np.array_equal(rope_permute_rows(k_b, KV_HEADS), k_b)  # the test would notice a missing permutation


def test_a_qwen2_adapter_keeps_the_rows_as_trained(tmp_path: Path) -> None:
    shapes = write_base_gguf(tmp_path / "qwen.gguf", architecture="qwen2")
    peft = write_peft_adapter(tmp_path / "peft", shapes, projections=("q_proj", "o_proj"))
    converted = convert_peft_adapter(tmp_path / "peft", read_base_model(tmp_path / "qwen.gguf"), tmp_path / "l.gguf")
    assert _field(converted.path, "general.architecture") == "qwen2"
    tensors = _tensors(converted.path)
    np.testing.assert_array_equal(tensors["blk.0.attn_q.weight.lora_b"].data, peft[peft_key(0, "q_proj", "B")])
    np.testing.assert_array_equal(tensors["blk.1.attn_output.weight.lora_b"].data, peft[peft_key(1, "o_proj", "B")])


def test_rslora_scaling_becomes_an_equivalent_alpha(base: Path, tmp_path: Path) -> None:
    write_peft_adapter(tmp_path / "peft", read_base_model(base).shapes, rank=4, lora_alpha=8, use_rslora=True)
    converted = convert_peft_adapter(tmp_path / "peft", read_base_model(base), tmp_path / "lora.gguf")
    # peft scales by alpha / sqrt(r) = 4; llama.cpp by alpha' / r, so alpha' = 16
    assert converted.alpha == pytest.approx(8 * math.sqrt(4))
    assert converted.alpha / converted.rank == pytest.approx(8 / math.sqrt(4))


def test_bfloat16_matrices_are_read_exactly(base: Path, tmp_path: Path) -> None:
    shapes = read_base_model(base).shapes
    peft = write_peft_adapter(tmp_path / "peft", shapes, projections=("v_proj",), blocks=1)
    as_bf16 = {key: (value.view(np.uint32) >> 16).astype(np.uint16) for key, value in peft.items()}
    weights = tmp_path / "peft" / "adapter_model.safetensors"
    save_file(as_bf16, str(weights))
    # safetensors.numpy has no bfloat16: the uint16 bits are saved and the header's dtype is changed by hand
    raw = weights.read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + header_len])
    for key in as_bf16:
        header[key]["dtype"] = "BF16"
    text = json.dumps(header).encode()
    weights.write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + header_len :])
    converted = convert_peft_adapter(tmp_path / "peft", read_base_model(base), tmp_path / "lora.gguf")
    a = _tensors(converted.path)["blk.0.attn_v.weight.lora_a"].data
    expected = (as_bf16[peft_key(0, "v_proj", "A")].astype(np.uint32) << 16).view(np.float32)
    np.testing.assert_array_equal(a, expected)
    np.testing.assert_allclose(a, peft[peft_key(0, "v_proj", "A")], rtol=1e-2)


def test_an_adapter_for_another_model_is_refused_with_the_reason(base: Path, tmp_path: Path) -> None:
    wider = tmp_path / "wider.gguf"
    write_peft_adapter(tmp_path / "peft", write_base_gguf(wider, hidden=32))
    with pytest.raises(AdapterConversionError, match=r"does not fit the base model's blk\.0\.attn_k\.weight"):
        convert_peft_adapter(tmp_path / "peft", read_base_model(base), tmp_path / "lora.gguf")
    assert not (tmp_path / "lora.gguf").exists()

    shapes = read_base_model(base).shapes
    extra = write_peft_adapter(tmp_path / "deeper", shapes, projections=("v_proj",), blocks=1)
    extra[peft_key(7, "v_proj", "A")] = extra[peft_key(0, "v_proj", "A")]
    extra[peft_key(7, "v_proj", "B")] = extra[peft_key(0, "v_proj", "B")]
    save_file(extra, str(tmp_path / "deeper" / "adapter_model.safetensors"))
    with pytest.raises(AdapterConversionError, match=r"model\.layers\.7\.self_attn\.v_proj, which has no weight"):
        convert_peft_adapter(tmp_path / "deeper", read_base_model(base), tmp_path / "lora.gguf")


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({"use_dora": True}, "use_dora"),
        ({"modules_to_save": ["lm_head"]}, "modules_to_save"),
        ({"rank_pattern": {"q_proj": 4}}, "rank_pattern"),
        ({"peft_type": "IA3"}, "IA3"),
    ],
)
def test_what_llama_cpp_cannot_express_is_refused(base: Path, tmp_path: Path, config: dict, reason: str) -> None:
    write_peft_adapter(tmp_path / "peft", read_base_model(base).shapes, **config)
    with pytest.raises(AdapterConversionError, match=reason):
        convert_peft_adapter(tmp_path / "peft", read_base_model(base), tmp_path / "lora.gguf")


def test_a_peft_folder_is_converted_once_and_cached_by_its_content(base: Path, tmp_path: Path) -> None:
    shapes = read_base_model(base).shapes
    write_peft_adapter(tmp_path / "peft", shapes, seed=1)
    first, made = gguf_adapter_for(tmp_path / "peft", base, tmp_path / "cache")
    assert made is not None and made.path == first and first.parent == tmp_path / "cache"
    again, made_again = gguf_adapter_for(tmp_path / "peft", base, tmp_path / "cache")
    assert again == first and made_again is None
    write_peft_adapter(tmp_path / "peft", shapes, seed=2)  # retrained: new weights, new conversion
    retrained, made_retrained = gguf_adapter_for(tmp_path / "peft", base, tmp_path / "cache")
    assert retrained != first and made_retrained is not None


def test_a_gguf_adapter_is_used_as_it_is_when_it_fits(base: Path, tmp_path: Path) -> None:
    write_peft_adapter(tmp_path / "peft", read_base_model(base).shapes)
    lora = convert_peft_adapter(tmp_path / "peft", read_base_model(base), tmp_path / "lora.gguf").path
    assert gguf_adapter_for(lora, base, tmp_path / "cache") == (lora, None)
    qwen = tmp_path / "qwen.gguf"
    write_base_gguf(qwen, architecture="qwen2")
    check_gguf_adapter(lora, "llama")
    with pytest.raises(AdapterConversionError, match="for 'llama' models, but the LLM is a 'qwen2' model"):
        check_gguf_adapter(lora, read_base_model(qwen).architecture)
    with pytest.raises(AdapterConversionError, match="is not a GGUF LoRA adapter"):
        gguf_adapter_for(base, base, tmp_path / "cache")  # a model, not an adapter
    with pytest.raises(AdapterConversionError, match="does not exist"):
        gguf_adapter_for(tmp_path / "nowhere", base, tmp_path / "cache")
    with pytest.raises(AdapterConversionError, match="not a peft LoRA adapter folder"):
        gguf_adapter_for(tmp_path, base, tmp_path / "cache")
