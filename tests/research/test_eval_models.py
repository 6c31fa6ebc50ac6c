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
    # Greedy decoding: the assertions below are about the report's bookkeeping, so the model's words must not vary
    # from run to run (sampled, SmolLM2 sometimes cheers at the job loss and the words are replaced).
    monkeypatch.setenv("EMPATHICA_EMPATHY_TEMPERATURE", "0")
    # No first reaction: after "Oh, I'm so sorry." SmolLM2-135M's greedy reply is that sentence again and again,
    # which the chain rightly holds back and answers with its fallback; these checks need the model's own plans.
    monkeypatch.setenv("EMPATHICA_EMPATHY_ACKNOWLEDGE", "false")
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
        # Each headline figure is what its turns say, recomputed here from the per-turn results of the report.
        turns = [t for r in v["results"] for t in r["turns"]]
        pairs = [(t["gold_user_emotion"], t["perceived"]["label"]) for t in turns if t["gold_user_emotion"]]
        assert metrics["user_macro_f1"]["value"] == pytest.approx(_macro_f1(pairs)), v["variant"]
        judged = [t for t in turns if t["source"] not in ("safety", "error") and _reference(t)]
        words = [t for t in judged if (t["judged"] or {}).get("words")]
        expected = {
            "words_emotion_match": _share([t["judged"]["words"]["label"] == _reference(t) for t in words]),
            "face_emotion_match": _share([t["agent_emotion"]["label"] == _reference(t) for t in judged]),
            "rouge_l": _mean([t["judged"]["rouge_l"] for t in words]),
            "embedding_similarity": _mean([t["judged"]["embedding_similarity"] for t in words]),
        }
        for name, value in expected.items():
            metric = metrics[name]
            if value is None:  # no turn counts (e.g. a baseline without words)
                assert metric["value"] is None, (v["variant"], name, metric)
                continue
            assert metric["value"] == pytest.approx(value), (v["variant"], name, metric, value)
            assert metric["low"] <= metric["value"] <= metric["high"], (v["variant"], name)
        chain_turns = [t for t in turns if t["source"] in ("model", "fallback", "error")]
        if v["kind"] == "agent":
            # SmolLM2 under the schema's grammar writes every plan itself: no schema fallback and no error hides in
            # the figure ("replaced": its valid plan's words contradicted the turn and a scripted line was said).
            assert all(t["source"] in ("model", "replaced", "safety") for t in turns), [t["source"] for t in turns]
            if chain_turns:
                assert metrics["chain_valid"]["value"] == 1.0
        assert v["errors"] == 0 and v["first_sentence_s"]["median"] <= v["total_s"]["max"]
        assert all(turn["reply"].strip() for turn in v["results"][0]["turns"])
        assert all(turn["judged"]["words"] for turn in v["results"][0]["turns"])
        for figure in v["figures"].values():
            assert (tmp_path / figure).read_bytes().startswith(PNG)
    # The always-neutral baseline reads both sad utterances as neutral: it gets none right.
    baseline = next(v for v in report["variants"] if v["kind"] == "always-neutral")
    assert baseline["metrics"]["user_macro_f1"]["value"] == 0.0
    chained = report["variants"][0]["results"][0]["turns"]
    assert all(t["hints"]["suggested_reply_emotion"] for t in chained if t["source"] == "model")
    markdown = (tmp_path / "report.md").read_text()
    assert "## The agent beside its baselines" in markdown and "kai-dbt" in markdown


def _reference(turn: dict) -> str | None:
    """The basic emotion of the turn's reference reply (research.eval.judge.REFERENCE_BASIC), if any."""
    from research.eval.judge import REFERENCE_BASIC

    return REFERENCE_BASIC.get(turn["reference_reply_emotion"] or "")


def _macro_f1(pairs: list[tuple[str, str]]) -> float:
    """Macro-F1 over the labels present in the gold labels or the predictions."""
    labels = {label for pair in pairs for label in pair}
    scores = []
    for label in labels:
        tp = sum(g == label and p == label for g, p in pairs)
        wrong = sum((g == label) != (p == label) for g, p in pairs)
        scores.append(2 * tp / (2 * tp + wrong))
    return sum(scores) / len(scores)


def _share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
