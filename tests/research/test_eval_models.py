"""`empathica eval` with the real agent (SmolLM2-135M, MiniLM perception) on the example set, cut short for CI."""

from __future__ import annotations

import json

import pytest

from cli.main import main
from research.dialogues import EXAMPLE_DIALOGUES

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.models
def test_eval_on_the_example_set_with_a_real_model_and_an_ablation(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EMPATHICA_LLM_THREADS", "2")
    code = main(
        [
            "eval",
            str(EXAMPLE_DIALOGUES),
            "--out",
            str(tmp_path),
            "--model",
            "smollm2-135m",
            "--personas",
            "mira,kai",
            "--lenses",
            "cbt,dbt",
            "--max-dialogues",
            "1",
            "--max-turns",
            "2",
            "--bootstrap",
            "50",
        ]
    )
    assert code == 0
    assert "[eval] mira-cbt seed 7 1/1 job-loss: 2 turns" in capsys.readouterr().err
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["run"]["model"] == "smollm2-135m"
    names = [v["variant"] for v in report["variants"]]
    assert names == ["mira-cbt", "mira-dbt", "kai-cbt", "kai-dbt", "always-neutral", "rules-only", "mira-no-chain"]
    # The model's file is identified by its hash, the perception model's folder file by file.
    models = report["provenance"]["models"]
    assert len(models["llm"]["sha256"]) == 64 and models["perception"]["files"]
    for v in report["variants"]:
        metrics = v["metrics"]
        assert v["turns"] == 2 and metrics["user_macro_f1"]["n"] == 2
        # The real perception reads "I lost my job today..." as sadness, like the gold label.
        assert v["confusion"][v["labels"].index("sadness")][v["labels"].index("sadness")] >= 1 or v["kind"] == (
            "always-neutral"
        )
        for name in ("words_emotion_match", "face_emotion_match", "rouge_l", "embedding_similarity", "dist1"):
            metric = metrics[name]
            assert metric["value"] is not None and 0.0 <= metric["value"] <= 1.0, (v["variant"], name)
            assert metric["low"] <= metric["value"] <= metric["high"], (v["variant"], name)
        assert v["errors"] == 0 and v["first_sentence_s"]["median"] <= v["total_s"]["max"]
        assert all(turn["reply"].strip() for turn in v["results"][0]["turns"])
        assert all(turn["judged"]["words"] for turn in v["results"][0]["turns"])
        for figure in v["figures"].values():
            assert (tmp_path / figure).read_bytes().startswith(PNG)
    chained = report["variants"][0]["results"][0]["turns"]
    assert all(t["hints"]["suggested_reply_emotion"] for t in chained if t["source"] == "model")
    markdown = (tmp_path / "report.md").read_text()
    assert "## The agent beside its baselines" in markdown and "kai-dbt" in markdown
