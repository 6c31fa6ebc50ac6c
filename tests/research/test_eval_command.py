"""`empathica eval` end to end on a scripted model: the report's files, figures and the ablation table."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from agent.perception import TextPerception
from cli.main import build_parser, main
from research.dialogues import EXAMPLE_DIALOGUES
from research.eval.command import EvalError, resolve_baselines, resolve_variants, run_eval
from research.eval.judge import ReplyJudge
from research.eval.runner import Variant

FIXTURES = Path(__file__).with_name("fixtures")

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


def test_eval_writes_the_report_with_baselines_intervals_and_provenance(config, agent, tmp_path):
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
        command="empathica eval ...",
        resamples=100,
        judge=ReplyJudge(TextPerception().perceive),
    )
    assert code == 0
    # header, one line per dialogue for 4 variants and 3 baselines, the report
    assert progress.getvalue().count("[eval] ") == 1 + 7 * 3 + 1
    report = json.loads((tmp_path / "report.json").read_text())
    variants = report["variants"]
    assert [v["variant"] for v in variants] == [
        "mira-cbt",
        "mira-dbt",
        "kai-cbt",
        "kai-dbt",
        "always-neutral",
        "rules-only",
        "mira-no-chain",
    ]
    assert [v["kind"] for v in variants][-3:] == ["always-neutral", "rules-only", "no-chain"]
    for v in variants:
        assert v["dialogues"] == 3 and v["turns"] == 6
        for name, metric in v["metrics"].items():
            assert set(metric) >= {"value", "n", "low", "high", "label"}, name
            if metric["value"] is not None and metric["low"] is not None:
                assert metric["low"] - 1e-9 <= metric["value"] <= metric["high"] + 1e-9, name
        assert sum(map(sum, v["confusion"])) == 6
        for figure in v["figures"].values():
            assert (tmp_path / figure).read_bytes().startswith(PNG)
        assert len([f for f in v["figures"] if f.startswith("vad/")]) == 3
    agent_run, neutral, rules, plain = variants[0], variants[4], variants[5], variants[6]
    assert agent_run["metrics"]["chain_valid"]["value"] == 1.0
    assert agent_run["metrics"]["self_reported_interpretation"]["value"] == 1.0  # the scripted plan's strategy
    turns = agent_run["results"][0]["turns"]
    assert turns[0]["hints"]["told_user_emotion"] and turns[0]["judged"]["words"]["label"]
    # The baselines: nothing perceived, no plans; the rules' replies; the plain responder's.
    assert neutral["metrics"]["user_macro_f1"]["value"] < agent_run["metrics"]["user_macro_f1"]["value"]
    assert all(
        t["reply"] == "I'm here and listening. Tell me more whenever you like."
        for t in neutral["results"][0]["turns"]
        if t["source"] != "safety"
    )
    assert rules["metrics"]["chain_valid"]["value"] is None and rules["results"][0]["turns"][0]["source"] == "plain"
    assert plain["results"][0]["turns"][0]["plan"] is None and plain["results"][0]["turns"][0]["source"] == "plain"
    # Provenance: enough to reproduce the run, or to see why two reports differ.
    prov = report["provenance"]
    assert prov["command"] == "empathica eval ..." and prov["seeds"] == [7]
    assert len(prov["dataset"]["sha256"]) == 64 and prov["dataset"]["format"] == "jsonl"
    assert prov["config"]["llm"]["temperature"] == config.llm.temperature and "empathy" in prov["config"]
    assert prov["settings"]["chain_of_empathy"] is True and prov["settings"]["baselines"][0] == "always-neutral"
    assert "python" in prov and "sacrebleu" in prov["packages"] and "commit" in prov["git"]
    # The same dialogues under different lenses reach the model with different system prompts.
    assert "dialectical behaviour therapy" in agent.responder_for(Variant("Kai", "dbt")).system_prompt
    markdown = (tmp_path / "report.md").read_text()
    assert "## The agent beside its baselines" in markdown and "(comparison.png)" in markdown
    header = next(line for line in markdown.splitlines() if line.startswith("| metric |"))
    assert "always-neutral" in header and "rules-only" in header and "mira-no-chain" in header
    assert (tmp_path / "comparison.png").read_bytes().startswith(PNG)
    assert "## job-loss" in (tmp_path / "kai-dbt" / "dialogues.md").read_text()


def test_eval_with_seeds_reports_the_spread(config, agent, tmp_path):
    code = run_eval(
        config,
        EXAMPLE_DIALOGUES,
        tmp_path,
        max_dialogues=2,
        max_turns=1,
        agent=agent,
        progress=io.StringIO(),
        seeds=2,
        baselines=["rules-only"],
        resamples=20,
        judge=ReplyJudge(TextPerception().perceive),
    )
    assert code == 0
    report = json.loads((tmp_path / "report.json").read_text())
    first, rules = report["variants"]
    assert first["seeds"] == [7, 8] and rules["seeds"] == [None]  # no LLM: one run serves every seed
    assert first["turns"] == 4 and rules["turns"] == 2
    assert first["seed_spread"]["chain_valid"]["values"] == [1.0, 1.0]
    assert "## Across seeds" in (tmp_path / "report.md").read_text()


def test_eval_reads_other_corpus_formats(config, agent, tmp_path):
    code = run_eval(
        config,
        FIXTURES / "esconv.json",
        tmp_path,
        agent=agent,
        progress=io.StringIO(),
        fmt="esconv",
        baselines=[],
        resamples=10,
        judge=ReplyJudge(TextPerception().perceive),
    )
    assert code == 0
    report = json.loads((tmp_path / "report.json").read_text())
    result = report["variants"][0]["results"][0]
    assert result["situation"] == "I might lose my position when the company merges."
    assert result["meta"]["problem_type"] == "job crisis"
    assert result["turns"][0]["reference_strategy"] == "Reflection of feelings; Question"
    assert report["variants"][0]["metrics"]["rouge_l"]["n"] == 3  # turns with a reference reply


def test_baselines_are_checked():
    assert resolve_baselines(["rules-only", "rules-only"]) == ["rules-only"]
    with pytest.raises(EvalError, match="always-neutral"):
        resolve_baselines(["random"])


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
    assert (args.format, args.seeds, args.baselines, args.bootstrap) == ("jsonl", 1, None, 1000)
    args_ed = build_parser().parse_args(["eval", "t.csv", "--out", "o", "--format", "ed", "--seeds", "3"])
    assert (args_ed.format, args_ed.seeds) == ("ed", 3)
    assert (args.command, args.dialogues, args.out, args.max_dialogues, args.max_turns) == (
        "eval",
        Path("d.jsonl"),
        Path("o"),
        2,
        0,
    )
    args = build_parser().parse_args(["replay", "abc", "--persona", "Kai", "--model", "smollm2-135m", "--out", "o"])
    assert (args.session, args.persona, args.model, args.lens) == ("abc", "Kai", "smollm2-135m", None)
