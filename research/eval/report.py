"""Write the evaluation report: report.json (provenance, every figure with its interval, every turn), report.md
(the agent beside its baselines, seeds, hints, per-variant tables and plots), and per variant a folder with its
plots and dialogues.md (each dialogue's turns with its VAD trajectory)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from research.eval import plots
from research.eval.measures import HEADLINE
from research.eval.metrics import LatencyStats
from research.eval.runner import DialogueResult
from research.eval.stats import MetricValue, Spread
from research.eval.strategy import agreement, load_labelled
from research.eval.summary import EvalSummary

HINT_ROWS: tuple[str, ...] = (
    "model_repeats_told_user_emotion",
    "model_reply_emotion_is_hint",
    "model_reply_emotion_clamped",
    "model_strategy_is_hint",
    "hint_followed",
    "self_report_confirmed",
)
OVERLAP = "≈"


@dataclass
class VariantRun:
    """One variant's evaluated dialogues and their summary."""

    results: list[DialogueResult]
    summary: EvalSummary


@dataclass
class RunInfo:
    """What was run: shown at the top of the report; `provenance` (research.provenance) makes it reproducible."""

    dialogues_file: str
    model: str
    command: str = ""
    max_dialogues: int = 0
    max_turns: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)


def write_report(out: Path, runs: list[VariantRun], info: RunInfo) -> dict[str, Path]:
    """Write every file of the report under `out` (created); returns the main files by name."""
    out.mkdir(parents=True, exist_ok=True)
    figures: dict[str, dict[str, str]] = {}
    for run in runs:
        folder = out / run.summary.variant
        made = {
            "confusion": plots.plot_confusion(run.summary, folder / "confusion.png"),
            "strategies": plots.plot_strategies(run.summary, folder / "strategies.png"),
            "latency": plots.plot_latency(run.results, run.summary, folder / "latency.png"),
        }
        for result in _first_seed(run.results):
            made[f"vad/{result.dialogue_id}"] = plots.plot_vad(
                result, folder / "vad" / f"{_safe(result.dialogue_id)}.png"
            )
        figures[run.summary.variant] = {name: str(path.relative_to(out)) for name, path in made.items()}
        (folder / "dialogues.md").write_text(_dialogues_markdown(run, figures[run.summary.variant]))
    plots.plot_comparison([r.summary for r in runs], out / "comparison.png")
    detector = agreement([r for r in load_labelled() if r.split == "test"])
    data = {
        "provenance": info.provenance,
        "run": {k: v for k, v in asdict(info).items() if k != "provenance"},
        "strategy_detector": asdict(detector),
        "variants": [
            {
                **run.summary.to_dict(),
                "figures": figures[run.summary.variant],
                "results": [r.to_dict() for r in run.results],
            }
            for run in runs
        ],
    }
    files = {"json": out / "report.json", "markdown": out / "report.md"}
    files["json"].write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    files["markdown"].write_text(_markdown(runs, info, figures, detector))
    return files


def comparison_rows(summaries: list[EvalSummary], names: tuple[str, ...] = HEADLINE) -> list[list[str]]:
    """The side-by-side table: metric rows, one column per variant; a cell whose interval overlaps the first
    column's is marked ≈ (the difference is not established at this n)."""
    reference = summaries[0]
    rows = [["metric", *(s.variant for s in summaries)]]
    for name in names:
        if name not in reference.metrics:
            continue
        row = [reference.metrics[name].label or name]
        for k, s in enumerate(summaries):
            metric = s.metrics[name]
            cell = format_metric(metric)
            if k > 0 and metric.overlaps(reference.metrics[name]):
                cell += f" {OVERLAP}"
            row.append(cell)
        rows.append(row)
    return rows


def format_metric(metric: MetricValue) -> str:
    """`value [low, high] (n)`, or n/a."""
    fmt = metric.fmt
    if metric.value is None:
        return "n/a"
    interval = f" [{_value(metric.low, fmt)}, {_value(metric.high, fmt)}]" if metric.low is not None else ""
    return f"{_value(metric.value, fmt)}{interval} (n={metric.n})"


def _value(value: float | None, fmt: str) -> str:
    if value is None:
        return "n/a"
    if fmt == "pct":
        return f"{value:.0%}"
    if fmt in ("s", "bleu"):
        return f"{value:.2f}" if fmt == "s" else f"{value:.1f}"
    return f"{value:.3f}"


def _validity(summary: EvalSummary) -> list[str]:
    """How far the words metric can be trusted: the perceiver on the reference replies themselves."""
    metric = summary.metrics.get("reference_words_match")
    if metric is None or metric.value is None:
        return []
    return [
        f"Validity of the words metric: the text perceiver reads the reference replies' own emotion "
        f"{format_metric(metric)}; it was trained on what users say, not on replies, so the words' figures are only "
        "as good as that.",
        "",
    ]


def _spread(spread: Spread, fmt: str) -> str:
    if spread.mean is None:
        return "n/a"
    return (
        f"{_value(spread.mean, fmt)} ± {_value(spread.sd, fmt)} ({_value(spread.min, fmt)} to "
        f"{_value(spread.max, fmt)})"
    )


def _markdown(runs: list[VariantRun], info: RunInfo, figures: dict[str, dict[str, str]], detector: Any) -> str:
    summaries = [r.summary for r in runs]
    prov = info.provenance
    git = prov.get("git", {})
    lines = [
        "# Empathica evaluation report",
        "",
        f"- dialogues: `{info.dialogues_file}`"
        + (f" (first {info.max_dialogues})" if info.max_dialogues else "")
        + (f", first {info.max_turns} turns each" if info.max_turns else ""),
        f"- model: `{info.model}`",
    ]
    if info.command:
        lines.append(f"- command: `{info.command}`")
    lines += [f"- {key}: {value}" for key, value in info.extra.items()]
    if prov:
        dataset = prov.get("dataset", {})
        lines += [
            f"- code: {git.get('commit') or 'unknown'}{' (uncommitted changes)' if git.get('dirty') else ''}",
            f"- dataset sha256: {(dataset.get('sha256') or 'n/a')[:16]}",
            *(
                f"- {role} sha256: {(model.get('sha256') or 'folder')[:16]}"
                for role, model in prov.get("models", {}).items()
            ),
        ]
    lines += [
        "",
        "Metric definitions: docs/research.md. Everything, including the full configuration, package versions and "
        "model hashes (`provenance`): report.json.",
        "",
        "## The agent beside its baselines",
        "",
        "Each cell: value [95 % bootstrap interval over dialogues] (n: turns counted). "
        f"{OVERLAP}: the interval overlaps the first column's, so the difference is not established at this n. "
        "Reply-emotion fit compares the emotion the user reads in the reply's words (text perceiver) and sees "
        "on the face (the agent's emotion) with the emotion the reference reply was written with.",
        "",
        *_table(comparison_rows(summaries)),
        "",
        *_validity(summaries[0]),
        "![variants and baselines](comparison.png)",
        "",
    ]
    if any(s.seed_spread for s in summaries):
        lines += ["## Across seeds", "", "Each cell: mean ± standard deviation (min to max) of the seeds' values.", ""]
        rows = [["metric", *(s.variant for s in summaries if s.seed_spread)]]
        for name in HEADLINE:
            if name not in summaries[0].metrics:
                continue
            fmt = summaries[0].metrics[name].fmt
            cells = [_spread(s.seed_spread[name], fmt) for s in summaries if name in s.seed_spread]
            if cells:
                rows.append([summaries[0].metrics[name].label, *cells])
        lines += [*_table(rows), ""]
    chained = [s for s in summaries if s.chain_turns]
    if chained:
        lines += [
            "## What the prompt told the model, and what it reported",
            "",
            "The chain's per-turn note tells the model the perceived user emotion and suggests a reply emotion and "
            "a strategy (docs/research.md lists every hint). Figures a model could reach by copying its hints:",
            "",
            *_table(
                [
                    ["", *(s.variant for s in chained)],
                    *(
                        [chained[0].metrics[name].label, *(format_metric(s.metrics[name]) for s in chained)]
                        for name in HINT_ROWS
                    ),
                ]
            ),
            "",
        ]
    per = ", ".join(f"{k} {v:.2f}" for k, v in detector.f1.items())
    lines += [
        f"Strategy detector (research/eval/strategy.py) against {detector.replies} held-out hand-labelled replies: "
        f"F1 {per}; the exact set of mechanisms {detector.exact:.0%}. Treat its shares as estimates with that error.",
        "",
    ]
    for run in runs:
        lines += _variant_markdown(run.summary, figures[run.summary.variant])
    return "\n".join(lines) + "\n"


def _variant_markdown(s: EvalSummary, figures: dict[str, str]) -> list[str]:
    title = f"{s.persona}, {s.lens} lens" if s.kind == "agent" else f"baseline: {s.kind}"
    rows = [["group", "metric", "value [95 % interval] (n)"]]
    rows.append(["", "dialogues / turns", f"{s.dialogues} / {s.turns}"])
    for metric in s.metrics.values():
        rows.append([metric.group, metric.label, format_metric(metric)])
    rows += [
        ["chain", "fallback plans / errors / safety replies", f"{s.fallbacks} / {s.errors} / {s.safety_turns}"],
        ["diversity", "Dist-1 / Dist-2 of the references", f"{_num(s.reference_dist1)} / {_num(s.reference_dist2)}"],
        ["latency", "first sentence, s (mean / median / p90 / max)", _latency(s.first_sentence_s)],
        ["latency", "whole turn, s (mean / median / p90 / max)", _latency(s.total_s)],
    ]
    per_label = ", ".join(f"{k} {_num(v, 2)}" for k, v in s.per_label_f1.items())
    lines = [f"## {s.variant} ({title})", "", *_table(rows), ""]
    lines += [f"Per-label F1 (per utterance; n/a: in neither gold nor predictions): {per_label}.", ""]
    lines += [f"Note: {note}." for note in s.notes]
    lines += [
        f"![confusion matrix]({figures['confusion']}) ![strategies]({figures['strategies']})",
        "",
        f"![latency]({figures['latency']})",
        "",
        f"Every dialogue's turns and VAD trajectories: [{s.variant}/dialogues.md]({s.variant}/dialogues.md)",
        "",
    ]
    return lines


def _dialogues_markdown(run: VariantRun, figures: dict[str, str]) -> str:
    s = run.summary
    lines = [f"# Dialogues, {s.variant}", ""]
    first_seed = run.results[0].seed if run.results else None
    for result in run.results:
        figure = figures.get(f"vad/{result.dialogue_id}")
        seed = f", seed {result.seed}" if result.seed is not None and len(s.seeds) > 1 else ""
        lines += [f"## {result.dialogue_id}" + (f" ({result.topic})" if result.topic else "") + seed, ""]
        if result.situation:
            lines += [f"Situation: {result.situation}", ""]
        if figure and result.seed == first_seed:
            lines += [f"![VAD]({Path(figure).relative_to(s.variant)})", ""]
        rows = [
            [
                "#",
                "user",
                "gold",
                "perceived",
                "face",
                "reply words",
                "reference",
                "strategy (words / plan)",
                "reply",
                "s",
            ]
        ]
        for t in result.turns:
            words = (t.judged or {}).get("words") or {}
            found = "+".join((t.judged or {}).get("strategies", [])) or "-"
            rows.append(
                [
                    str(t.index + 1),
                    t.user_text,
                    t.gold_user_emotion or "",
                    f"{t.perceived.label} {t.perceived.intensity:.2f}",
                    f"{t.agent_emotion.label} {t.agent_emotion.intensity:.2f}",
                    f"{words.get('label', '-')} {words.get('intensity', 0):.2f}" if words else "-",
                    t.reference_reply_emotion or "",
                    f"{found} / {(t.plan or {}).get('strategy', t.source)}",
                    t.reply or f"({t.error})",
                    f"{t.total_s:.1f}",
                ]
            )
        lines += [*_table(rows), ""]
    return "\n".join(lines) + "\n"


def _first_seed(results: list[DialogueResult]) -> list[DialogueResult]:
    first = results[0].seed if results else None
    return [r for r in results if r.seed == first]


def _table(rows: list[list[str]]) -> list[str]:
    cells = [[c.replace("|", "\\|").replace("\n", " ") for c in row] for row in rows]
    return [
        "| " + " | ".join(cells[0]) + " |",
        "|" + "---|" * len(cells[0]),
        *("| " + " | ".join(row) + " |" for row in cells[1:]),
    ]


def _num(value: float | None, places: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{places}f}"


def _latency(stats: LatencyStats | None) -> str:
    if stats is None:
        return "n/a"
    return f"{stats.mean:.2f} / {stats.median:.2f} / {stats.p90:.2f} / {stats.max:.2f}"


def _safe(name: str) -> str:
    """A file name for a dialogue id (ids are free text)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "dialogue"


__all__ = ["RunInfo", "VariantRun", "comparison_rows", "format_metric", "write_report"]
