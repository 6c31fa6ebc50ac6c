"""Write the evaluation report: report.json (every figure and turn), report.md (tables + plots), and per variant
a folder with its plots and dialogues.md (each dialogue's turns with its VAD trajectory)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from research.eval import plots
from research.eval.metrics import LatencyStats
from research.eval.runner import DialogueResult
from research.eval.summary import EvalSummary


@dataclass
class VariantRun:
    """One variant's evaluated dialogues and their summary."""

    results: list[DialogueResult]
    summary: EvalSummary


@dataclass
class RunInfo:
    """What was run: shown at the top of the report so a figure can be reproduced."""

    dialogues_file: str
    model: str
    command: str = ""
    max_dialogues: int = 0
    max_turns: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


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
        for result in run.results:
            made[f"vad/{result.dialogue_id}"] = plots.plot_vad(
                result, folder / "vad" / f"{_safe(result.dialogue_id)}.png"
            )
        figures[run.summary.variant] = {name: str(path.relative_to(out)) for name, path in made.items()}
        (folder / "dialogues.md").write_text(_dialogues_markdown(run, figures[run.summary.variant]))
    if len(runs) > 1:
        plots.plot_ablation([r.summary for r in runs], out / "ablation.png")
    data = {
        "run": asdict(info),
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
    files["markdown"].write_text(_markdown(runs, info, figures))
    return files


def ablation_rows(summaries: list[EvalSummary]) -> list[list[str]]:
    """The side-by-side table: a header row, then one row per variant."""
    header = [
        "variant",
        "persona",
        "lens",
        "turns",
        "user macro-F1",
        "reply emotion ok",
        "face emotion ok",
        "model emotion ok",
        "chain valid",
        "emo. reaction",
        "interpretation",
        "exploration",
        "Dist-1",
        "Dist-2",
        "words/reply",
        "first sentence s (median)",
        "turn s (median)",
    ]
    rows = [header]
    for s in summaries:
        mix = s.strategy_mix
        rows.append(
            [
                s.variant,
                s.persona,
                s.lens,
                str(s.turns),
                _num(s.emotion.macro_f1),
                _pct(s.reply_emotion_appropriate),
                _pct(s.face_emotion_appropriate),
                _pct(s.model_reply_emotion_appropriate),
                _pct(s.chain_valid),
                _pct(mix["emotional_reaction"]),
                _pct(mix["interpretation"]),
                _pct(mix["exploration"]),
                _num(s.dist1),
                _num(s.dist2),
                f"{s.mean_reply_words:.1f}",
                _seconds(s.first_sentence_s, "median"),
                _seconds(s.total_s, "median"),
            ]
        )
    return rows


def _markdown(runs: list[VariantRun], info: RunInfo, figures: dict[str, dict[str, str]]) -> str:
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
    lines += ["", "Metric definitions: docs/research.md. Full data: report.json.", ""]
    if len(runs) > 1:
        lines += [
            "## Ablation",
            "",
            *_table(ablation_rows([r.summary for r in runs])),
            "",
            "![ablation](ablation.png)",
            "",
        ]
    for run in runs:
        lines += _variant_markdown(run.summary, figures[run.summary.variant])
    return "\n".join(lines) + "\n"


def _variant_markdown(s: EvalSummary, figures: dict[str, str]) -> list[str]:
    e = s.emotion
    rows = [
        ["metric", "value"],
        ["dialogues / turns", f"{s.dialogues} / {s.turns}"],
        ["user emotion macro-F1 (per utterance)", f"{_num(e.macro_f1)} over {e.labelled} labelled turns"],
        ["user emotion accuracy (per utterance)", _pct(e.accuracy)],
        ["user emotion macro-F1 (smoothed, what the agent answers)", _num(e.smoothed_macro_f1)],
        ["user emotion macro-F1 (the LLM's own reading in its plan)", _num(e.model_macro_f1)],
        ["reply emotion appropriate", _pct(s.reply_emotion_appropriate)],
        ["face/voice emotion appropriate", _pct(s.face_emotion_appropriate)],
        ["model's proposed reply emotion appropriate (before the clamp)", _pct(s.model_reply_emotion_appropriate)],
        ["mean VAD distance, agent emotion to reference reply emotion", _num(s.reference_vad_distance)],
        ["chain of empathy valid (schema-valid model plan)", _pct(s.chain_valid)],
        ["chain of empathy valid at the first attempt", _pct(s.chain_valid_first_attempt)],
        ["fallback plans / errors / safety replies", f"{s.fallbacks} / {s.errors} / {s.safety_turns}"],
        [
            "strategy mix (emotional reaction / interpretation / exploration)",
            " / ".join(f"{_pct(v)} ({s.strategy_counts[k]})" for k, v in s.strategy_mix.items()),
        ],
        ["Dist-1 / Dist-2 (agent replies)", f"{_num(s.dist1)} / {_num(s.dist2)}"],
        ["Dist-1 / Dist-2 (reference replies)", f"{_num(s.reference_dist1)} / {_num(s.reference_dist2)}"],
        ["words per reply (mean)", f"{s.mean_reply_words:.1f}"],
        ["first sentence, s (mean / median / p90 / max)", _latency(s.first_sentence_s)],
        ["whole turn, s (mean / median / p90 / max)", _latency(s.total_s)],
    ]
    per_label = ", ".join(f"{k} {v:.2f}" for k, v in e.per_label_f1.items())
    lines = [f"## {s.variant} ({s.persona}, {s.lens} lens)", "", *_table(rows), ""]
    if per_label:
        lines += [f"Per-label F1 (per utterance): {per_label}.", ""]
    lines += [f"Note: {note}." for note in s.notes]
    lines += [
        f"![confusion matrix]({figures['confusion']}) ![strategy mix]({figures['strategies']})",
        "",
        f"![latency]({figures['latency']})",
        "",
        f"Every dialogue's turns and VAD trajectories: [{s.variant}/dialogues.md]({s.variant}/dialogues.md)",
        "",
    ]
    return lines


def _dialogues_markdown(run: VariantRun, figures: dict[str, str]) -> str:
    s = run.summary
    lines = [f"# Dialogues, {s.variant} ({s.persona}, {s.lens} lens)", ""]
    for result in run.results:
        figure = Path(figures[f"vad/{result.dialogue_id}"]).relative_to(s.variant)
        lines += [
            f"## {result.dialogue_id}" + (f" ({result.topic})" if result.topic else ""),
            "",
            f"![VAD]({figure})",
            "",
        ]
        rows = [["#", "user", "gold", "perceived", "agent", "reply emotion", "strategy", "reply", "s"]]
        for t in result.turns:
            rows.append(
                [
                    str(t.index + 1),
                    t.user_text,
                    t.gold_user_emotion or "",
                    f"{t.perceived.label} {t.perceived.intensity:.2f}",
                    f"{t.agent_emotion.label} {t.agent_emotion.intensity:.2f}",
                    t.reply_emotion,
                    (t.plan or {}).get("strategy", t.source),
                    t.reply or f"({t.error})",
                    f"{t.total_s:.1f}",
                ]
            )
        lines += [*_table(rows), ""]
    return "\n".join(lines) + "\n"


def _table(rows: list[list[str]]) -> list[str]:
    cells = [[c.replace("|", "\\|").replace("\n", " ") for c in row] for row in rows]
    return [
        "| " + " | ".join(cells[0]) + " |",
        "|" + "---|" * len(cells[0]),
        *("| " + " | ".join(row) + " |" for row in cells[1:]),
    ]


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _seconds(stats: LatencyStats | None, name: str) -> str:
    return "n/a" if stats is None else f"{getattr(stats, name):.2f}"


def _latency(stats: LatencyStats | None) -> str:
    if stats is None:
        return "n/a"
    return f"{stats.mean:.2f} / {stats.median:.2f} / {stats.p90:.2f} / {stats.max:.2f}"


def _safe(name: str) -> str:
    """A file name for a dialogue id (ids are free text)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "dialogue"
