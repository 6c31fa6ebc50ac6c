"""`empathica finetune`: training chats, reply-only labels, LoRA targets, and a real run on a tiny local model."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from agent.base import ChatMessage
from agent.prompts import render
from agent.responder import Responder
from core.emotion import EmotionState
from research.dialogues import load_dialogues
from research.finetune.examples import USER_INTENSITY, EmotionConditioning, build_examples
from research.finetune.lora import ALL_LINEAR, target_modules

DIALOGUES = [
    {
        "id": "job-loss",
        "turns": [
            {
                "user": "I lost my job today.",
                "user_emotion": "sadness",
                "reply": "I'm so sorry. That is a hard thing to hear on any day.",
                "reply_emotion": "sadness",
            },
            {"user": "I keep thinking I should have seen it coming."},
            {
                "user": "Maybe I will call my brother tonight.",
                "user_emotion": "neutral",
                "reply": "That sounds like a good idea. Talking to him could help.",
                "reply_emotion": "hopeful",
            },
        ],
    },
    {
        "id": "exam-pass",
        "turns": [
            {
                "user": "I passed my driving test!",
                "user_emotion": "joy",
                "reply": "Congratulations! That's brilliant news.",
                "reply_emotion": "joy",
            },
            {
                "user": "I was so nervous this morning.",
                "user_emotion": "fear",
                "reply": "And you went anyway. That took courage.",
                "reply_emotion": "calm",
            },
        ],
    },
    {
        "id": "dog-died",
        "turns": [
            {
                "user": "My dog died this morning.",
                "user_emotion": "sadness",
                "reply": "I'm so sorry. Losing her leaves a big empty space.",
                "reply_emotion": "sadness",
            },
            {
                "user": "Thanks for listening.",
                "user_emotion": "neutral",
                "reply": "I'm glad it helps. Tell me about her whenever you like.",
                "reply_emotion": "thankful",
            },
        ],
    },
]


def write_dialogues(path: Path) -> Path:
    path.write_text("".join(json.dumps(d) + "\n" for d in DIALOGUES), encoding="utf-8")
    return path


def test_examples_are_the_servers_plain_responder_prompt(tmp_path: Path) -> None:
    examples = build_examples(load_dialogues(write_dialogues(tmp_path / "d.jsonl")), EmotionConditioning())
    # The turn without a reference reply is context only.
    assert [(e.dialogue_id, e.turn, e.reply_emotion) for e in examples] == [
        ("job-loss", 0, "sadness"),
        ("job-loss", 2, "hopeful"),
        ("exam-pass", 0, "joy"),
        ("exam-pass", 1, "calm"),
        ("dog-died", 0, "sadness"),
        ("dog-died", 1, "thankful"),
    ]
    system = render("persona_default", name="Mira")
    responder = Responder(None, system)  # type: ignore[arg-type]  # only its prompt building is compared
    first = examples[0]
    assert first.messages == responder.messages(
        "I lost my job today.",
        EmotionState.from_label("sadness", USER_INTENSITY),
        EmotionState.from_label("sadness"),
        [],
    )
    assert "Reply with gentle, compassionate softness" in first.messages[-1].content
    later = examples[1]
    assert later.messages[0] == ChatMessage("system", system)
    assert later.messages[1:-1] == [
        ChatMessage("user", "I lost my job today."),
        ChatMessage("assistant", "I'm so sorry. That is a hard thing to hear on any day."),
        ChatMessage("user", "I keep thinking I should have seen it coming."),
    ]
    # Palette labels beyond the basic seven are stated with their own phrase from feelings_default.txt.
    assert "Reply with gentle, encouraging hope" in later.messages[-1].content
    assert later.reply == "That sounds like a good idea. Talking to him could help."


def test_lora_targets_follow_the_architecture_or_the_flag() -> None:
    assert target_modules("llama") == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert target_modules("qwen2") == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert target_modules("gpt2") == ["c_attn", "c_proj"]
    assert target_modules("some-new-arch") == ALL_LINEAR
    assert target_modules("llama", "q_proj, v_proj") == ["q_proj", "v_proj"]
    assert target_modules("llama", "all-linear") == ALL_LINEAR


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.research.tiny_lm import build_tiny_lm

    folder = tmp_path_factory.mktemp("data")
    examples = build_examples(load_dialogues(write_dialogues(folder / "d.jsonl")), EmotionConditioning())
    texts = [m.content for e in examples for m in e.messages] + [e.reply for e in examples]
    return build_tiny_lm(tmp_path_factory.mktemp("tiny-lm"), texts)


@pytest.mark.models
def test_reply_only_labels_match_the_inference_prompt(tiny_lm: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    from agent.llm.hf_chat import encode_prompt
    from research.finetune.encoding import IGNORE, encode_example

    tokenizer = AutoTokenizer.from_pretrained(tiny_lm)
    example = build_examples(load_dialogues(write_dialogues(tmp_path / "d.jsonl")), EmotionConditioning())[1]
    encoded = encode_example(tokenizer, example, max_tokens=2048)
    prompt = encode_prompt(tokenizer, example.messages)
    assert encoded.input_ids[: len(prompt)] == prompt  # exactly what the transformers backend feeds the model
    assert encoded.labels[: len(prompt)] == [IGNORE] * len(prompt)
    reply = encoded.labels[len(prompt) :]
    assert reply == encoded.input_ids[len(prompt) :] and reply[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(reply, skip_special_tokens=True) == example.reply
    # Too long: the prompt loses its oldest tokens, the reply is kept whole.
    short = encode_example(tokenizer, example, max_tokens=len(reply) + 10)
    assert len(short.input_ids) == len(reply) + 10 and short.labels[-len(reply) :] == reply


@pytest.mark.models
def test_chat_template_tokenizers_learn_the_templates_end_of_turn(tiny_lm: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    from agent.llm.hf_chat import encode_completion, encode_prompt

    tokenizer = AutoTokenizer.from_pretrained(tiny_lm)
    tokenizer.chat_template = (
        "{% for m in messages %}[{{ m.role }}]{{ m.content }}</s>{% endfor %}"
        "{% if add_generation_prompt %}[assistant]{% endif %}"
    )
    messages = [ChatMessage("system", "Be kind."), ChatMessage("user", "I passed!")]
    prompt = tokenizer.decode(encode_prompt(tokenizer, messages))
    assert prompt == "[system]Be kind.</s>[user]I passed!</s>[assistant]"
    completion = encode_completion(tokenizer, messages, "Well done!")
    assert tokenizer.decode(completion) == "Well done!</s>"


def run_finetune(tiny_lm: Path, dialogues: Path, out: Path, *extra: str) -> int:
    from cli.main import main

    return main(["finetune", str(dialogues), "--base", str(tiny_lm), "--out", str(out), *extra])


@pytest.mark.models
def test_finetune_lowers_the_loss_and_the_adapter_loads(
    tiny_lm: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from agent.llm.transformers_chat import TransformersChatLlm

    dialogues = write_dialogues(tmp_path / "dialogues.jsonl")
    out = tmp_path / "adapter"
    args = ("--steps", "30", "--lr", "1e-2", "--rank", "8", "--batch-size", "2", "--target-modules", "all-linear")
    assert run_finetune(tiny_lm, dialogues, out, *args, "--val-fraction", "0.34") == 0
    printed = capsys.readouterr().out
    assert "[finetune] step 30/30 loss" in printed

    assert (out / "adapter_config.json").is_file() and (out / "adapter_model.safetensors").is_file()
    log = json.loads((out / "training_log.json").read_text())
    losses = [step["loss"] for step in log["steps"]]
    assert len(losses) == 30 and log["settings"]["rank"] == 8
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    print(f"loss: first 5 steps {first:.3f}, last 5 steps {last:.3f}")
    assert last < 0.8 * first
    meta = json.loads((out / "empathica_finetune.json").read_text())
    assert meta["base_model"] == str(tiny_lm)
    assert meta["dataset"]["sha256"] == hashlib.sha256(dialogues.read_bytes()).hexdigest()
    # One of the three dialogues (2 examples) is held out; its loss is measured before, every 10 steps and after.
    split = meta["split"]
    assert len(split["validation_dialogues"]) == 1 and len(split["train_dialogues"]) == 2
    assert not set(split["validation_dialogues"]) & set(split["train_dialogues"])
    assert meta["dataset"]["examples"] == 4 and meta["dataset"]["validation_examples"] == 2
    assert [v["step"] for v in log["validation"]] == [0, 10, 20, 30]
    assert all(v["loss"] > 0 and v["tokens"] > 0 for v in log["validation"])
    held_out = load_dialogues(out / "validation.jsonl")
    assert [d.id for d in held_out] == split["validation_dialogues"]
    assert "held-out loss after 30 steps" in printed
    assert meta["conditioning"]["turn_template"] == "turn_default" and meta["conditioning"]["chat_format"] == "plain"

    # The adapter loads through the transformers backend and changes what the model says.
    messages = build_examples(load_dialogues(dialogues), EmotionConditioning())[0].messages  # any example will do
    base = TransformersChatLlm(tiny_lm, threads=1)
    tuned = TransformersChatLlm(tiny_lm, adapter=out, threads=1)
    assert not base.logits(messages).allclose(tuned.logits(messages), atol=1e-3)
    pieces = list(tuned.stream(messages, max_tokens=12, temperature=0.0))
    assert pieces and all(isinstance(p, str) and p for p in pieces)
    # Trained on the replies, the adapter puts more probability on the reference reply's first token.
    first_reply_token = tuned.tokenizer("I'm so sorry.", add_special_tokens=False)["input_ids"][0]
    base_p = base.logits(messages).softmax(-1)[first_reply_token]
    tuned_p = tuned.logits(messages).softmax(-1)[first_reply_token]
    assert tuned_p > base_p


@pytest.mark.models
def test_finetune_errors_say_what_to_do(
    tiny_lm: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dialogues = write_dialogues(tmp_path / "dialogues.jsonl")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    assert run_finetune(tiny_lm, dialogues, busy) == 2
    assert "non-empty folder that holds no empathica adapter" in capsys.readouterr().err

    not_a_model = tmp_path / "not-a-model"
    not_a_model.mkdir()
    assert run_finetune(not_a_model, dialogues, tmp_path / "a") == 2
    assert "not a Hugging Face model folder (no config.json)" in capsys.readouterr().err

    unlabelled = tmp_path / "unlabelled.jsonl"
    unlabelled.write_text(json.dumps({"id": "x", "turns": [{"user": "hello"}]}) + "\n")
    assert run_finetune(tiny_lm, unlabelled, tmp_path / "b") == 2
    assert "no turn with both `reply` and `reply_emotion`" in capsys.readouterr().err

    # A hub id without internet: the error says to download elsewhere and pass the folder.
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert run_finetune(Path("empathica-test/no-such-model"), dialogues, tmp_path / "c") == 2
    err = capsys.readouterr().err
    assert "from the Hugging Face hub" in err and "pass the local folder" in err


def test_the_split_is_by_dialogue_seeded_and_never_empty(tmp_path: Path) -> None:
    from research.finetune.split import split_dialogues

    dialogues = load_dialogues(write_dialogues(tmp_path / "d.jsonl"))
    train, held = split_dialogues(dialogues, 0.2, seed=7)
    assert len(held) == 1 and len(train) == 2  # round(0.6) is 1: at least one is held out
    assert split_dialogues(dialogues, 0.2, seed=7) == (train, held)
    assert [d.id for d in train + held] != [] and {d.id for d in train} | {d.id for d in held} == {
        d.id for d in dialogues
    }
    assert split_dialogues(dialogues, 0.0, seed=7) == (dialogues, [])
    assert len(split_dialogues(dialogues, 0.9, seed=7)[0]) == 1  # never all of them
    with pytest.raises(ValueError, match="val-fraction"):
        split_dialogues(dialogues, 1.0, seed=7)


@pytest.mark.models
def test_held_out_loss_is_the_models_own_loss(tiny_lm: Path, tmp_path: Path) -> None:
    import torch

    from agent.llm.transformers_chat import load_causal_lm
    from research.finetune.encoding import collate, encode_example
    from research.finetune.train import held_out_loss

    tokenizer, model = load_causal_lm(tiny_lm, dtype=torch.float32)
    example = build_examples(load_dialogues(write_dialogues(tmp_path / "d.jsonl")), EmotionConditioning())[0]
    encoded = encode_example(tokenizer, example, 1024)
    loss, tokens = held_out_loss(model, [encoded], 0, batch_size=4)
    model.eval()
    with torch.no_grad():
        expected = float(model(**collate([encoded], 0)).loss)
    assert loss == pytest.approx(expected, rel=1e-5) and tokens == encoded.reply_tokens


@pytest.mark.models
def test_finetune_on_the_served_gguf_gives_an_adapter_the_embedded_backend_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--base NAME` trains on the de-quantized weights of the GGUF that llama.cpp serves under that name."""
    import gguf

    from agent.llm.embedded import EmbeddedLlm
    from compose.config import load_config
    from compose.engines import load_llm
    from core.provision import spec

    dialogues = write_dialogues(tmp_path / "dialogues.jsonl")
    out = tmp_path / "adapter"
    args = ("--steps", "3", "--lr", "1e-2", "--rank", "2", "--batch-size", "1", "--max-tokens", "160")
    assert run_finetune(Path("smollm2-135m"), dialogues, out, *args, "--val-fraction", "0", "--threads", "2") == 0
    meta = json.loads((out / "empathica_finetune.json").read_text())
    assert meta["base_model"] == "smollm2-135m" and meta["base_gguf"]["architecture"] == "llama"
    assert meta["base_gguf"]["sha256"] == spec("smollm2-135m").files[0].sha256
    assert meta["conditioning"]["chat_format"] == "chat_template"  # the GGUF's own template, as llama.cpp uses

    monkeypatch.setenv("EMPATHICA_ADAPTERS", str(tmp_path / "cache"))
    environ = {"EMPATHICA_LLM_MODEL": "smollm2-135m", "EMPATHICA_LLM_ADAPTER": str(out), "EMPATHICA_LLM_THREADS": "2"}
    with load_llm(load_config(environ=environ)) as tuned:
        assert isinstance(tuned, EmbeddedLlm) and tuned.lora is not None
        lora = {tensor.name: tensor for tensor in gguf.GGUFReader(tuned.lora).tensors}
        assert len(lora) == 2 * 4 * 30  # A and B of q, k, v, o in each of the 30 blocks
        assert all(abs(t.data).max() > 0 for name, t in lora.items() if name.endswith("lora_b"))  # trained
        assert "".join(tuned.stream([ChatMessage("user", "I lost my job today.")], 8, 0.0)).strip()
