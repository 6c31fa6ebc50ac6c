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
        ]
    )
    assert code == 0
    assert "[eval] mira-cbt 1/1 job-loss: 2 turns" in capsys.readouterr().err
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["run"]["model"] == "smollm2-135m"
    assert [v["variant"] for v in report["variants"]] == ["mira-cbt", "mira-dbt", "kai-cbt", "kai-dbt"]
    for v in report["variants"]:
        assert v["turns"] == 2 and v["emotion"]["labelled"] == 2
        # The real perception reads "I lost my job today..." as sadness, like the gold label.
        assert (
            v["emotion"]["confusion"][v["emotion"]["labels"].index("sadness")][v["emotion"]["labels"].index("sadness")]
            >= 1
        )
        assert 0.0 <= v["emotion"]["macro_f1"] <= 1.0
        for rate in ("reply_emotion_appropriate", "face_emotion_appropriate", "chain_valid", "dist1", "dist2"):
            assert 0.0 <= v[rate] <= 1.0, rate
        assert v["errors"] == 0 and sum(v["strategy_counts"].values()) + v["fallbacks"] == 2
        assert sum(v["strategy_mix"].values()) == pytest.approx(1.0) or v["fallbacks"] == 2
        assert 0.0 < v["first_sentence_s"]["median"] <= v["total_s"]["max"]
        assert all(turn["reply"].strip() for turn in v["results"][0]["turns"])
        for figure in v["figures"].values():
            assert (tmp_path / figure).read_bytes().startswith(PNG)
    markdown = (tmp_path / "report.md").read_text()
    assert "## Ablation" in markdown and "| kai-dbt | Kai | dbt | 2 |" in markdown
