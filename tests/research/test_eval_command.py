"""`empathica eval` end to end on a scripted model: the report's files, figures and the ablation table."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from cli.main import build_parser, main
from research.dialogues import EXAMPLE_DIALOGUES
from research.eval.command import EvalError, resolve_variants, run_eval
from research.eval.runner import Variant

PNG = b"\x89PNG\r\n\x1a\n"


def test_variants_cross_personas_and_lenses(config):
    assert resolve_variants(config) == [Variant("Mira", "person_centred")]
    assert resolve_variants(config, ["kai", "Sunny"]) == [Variant("Kai", "reality"), Variant("Sunny", "cbt")]
    assert resolve_variants(config, ["mira", "kai"], ["cbt", "dbt"]) == [
        Variant("Mira", "cbt"),
        Variant("Mira", "dbt"),
        Variant("Kai", "cbt"),
        Variant("Kai", "dbt"),
    ]
    with pytest.raises(EvalError, match="known personas: Kai, Mira, Sunny"):
        resolve_variants(config, ["mria"])
    with pytest.raises(EvalError, match="person_centred"):
        resolve_variants(config, ["mira"], ["freud"])


def test_eval_writes_the_report_with_an_ablation_table(config, agent, tmp_path):
    progress = io.StringIO()
    code = run_eval(
        config,
        EXAMPLE_DIALOGUES,
        tmp_path,
        personas=["mira", "kai"],
        lenses=["cbt", "dbt"],
        max_dialogues=3,
        max_turns=2,
        agent=agent,
        progress=progress,
    )
    assert code == 0
    assert progress.getvalue().count("[eval] ") == 1 + 4 * 3 + 1  # header, one line per dialogue, the report
    report = json.loads((tmp_path / "report.json").read_text())
    variants = report["variants"]
    assert [v["variant"] for v in variants] == ["mira-cbt", "mira-dbt", "kai-cbt", "kai-dbt"]
    for v in variants:
        assert v["dialogues"] == 3 and v["turns"] == 6
        assert v["emotion"]["labelled"] == 6 and 0.0 <= v["emotion"]["macro_f1"] <= 1.0
        assert sum(map(sum, v["emotion"]["confusion"])) == 6
        assert v["chain_valid"] == 1.0 and v["strategy_mix"]["interpretation"] == 1.0
        assert 0.0 < v["dist1"] <= 1.0 and 0.0 < v["dist2"] <= 1.0
        assert v["reply_emotion_appropriate"] is not None and v["total_s"]["count"] == 6
        for figure in v["figures"].values():
            assert (tmp_path / figure).read_bytes().startswith(PNG)
        assert len([f for f in v["figures"] if f.startswith("vad/")]) == 3
        turns = v["results"][0]["turns"]
        assert turns[0]["user_emotion"]["vad"] and turns[0]["plan"]["strategy"] == "interpretation"
    # The same dialogues under different lenses reach the model with different system prompts.
    assert "dialectical behaviour therapy" in agent.responder_for(Variant("Kai", "dbt")).system_prompt
    markdown = (tmp_path / "report.md").read_text()
    table = [line for line in markdown.splitlines() if line.startswith("| mira-") or line.startswith("| kai-")]
    assert len(table) == 4 and "## Ablation" in markdown and "(ablation.png)" in markdown
    assert (tmp_path / "ablation.png").read_bytes().startswith(PNG)
    assert "## job-loss" in (tmp_path / "kai-dbt" / "dialogues.md").read_text()


def test_eval_refuses_bad_input_before_loading_models(tmp_path, capsys):
    assert main(["eval", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "out")]) == 2
    assert "no such dialogue file" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "turns": [{"user": "hi", "user_emotion": "happy"}]}\n')
    assert main(["eval", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert "bad.jsonl:1" in capsys.readouterr().err
    assert main(["eval", str(EXAMPLE_DIALOGUES), "--out", str(tmp_path), "--personas", "nobody"]) == 2
    assert "nobody" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_cli_parses_eval_and_replay():
    args = build_parser().parse_args(
        ["eval", "d.jsonl", "--out", "o", "--personas", "mira, kai", "--lenses", "cbt,dbt", "--max-dialogues", "2"]
    )
    assert (args.command, args.dialogues, args.out, args.max_dialogues, args.max_turns) == (
        "eval",
        Path("d.jsonl"),
        Path("o"),
        2,
        0,
    )
    args = build_parser().parse_args(["replay", "abc", "--persona", "Kai", "--model", "smollm2-135m", "--out", "o"])
    assert (args.session, args.persona, args.model, args.lens) == ("abc", "Kai", "smollm2-135m", None)
