"""The report's figures, drawn with matplotlib's Agg backend (files only: no display is needed or opened).

A metric without data is drawn as the text "n/a" where its bar would be, never as a zero-height bar; bars
carry their 95 % bootstrap interval as an error bar.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: eval runs on servers and in CI without a display

import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from agent.empathy.schema import STRATEGIES
from core.emotion import PALETTE_VAD
from research.eval.runner import DialogueResult
from research.eval.stats import MetricValue
from research.eval.summary import EvalSummary

_AXES = ("valence", "arousal", "dominance")
# Shares and similarities in [0, 1], comparable on one axis.
COMPARED: dict[str, str] = {
    "user_macro_f1": "user\nmacro-F1",
    "words_emotion_match": "words'\nemotion ok",
    "face_emotion_match": "face\nemotion ok",
    "embedding_similarity": "embedding\nsimilarity",
    "rouge_l": "ROUGE-L",
    "detected_emotional_reaction": "emotional\nreaction",
    "detected_interpretation": "interpre-\ntation",
    "detected_exploration": "explo-\nration",
    "dist2_matched": "Dist-2\n(matched)",
    "chain_valid": "chain\nvalid",
}


def plot_confusion(summary: EvalSummary, path: Path) -> Path:
    """Gold user emotion (rows) against perceived (columns), counts written in the cells."""
    labels, matrix = summary.labels, summary.confusion
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    image = ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("perceived")
    ax.set_ylabel("gold")
    top = max((max(row) for row in matrix), default=0) or 1
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            if count:
                ax.text(j, i, str(count), ha="center", va="center", color="white" if count > top / 2 else "black")
    ax.set_title(f"user emotion, {summary.variant}")
    fig.colorbar(image, ax=ax, shrink=0.8)
    return _save(fig, path)


def plot_strategies(summary: EvalSummary, path: Path) -> Path:
    """Each mechanism's share three ways: found in the reply's words, suggested by the prompt, self-reported."""
    sources = {"detected": "in the words (detector)", "hinted": "prompt's suggestion", "self_reported": "self-report"}
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    width = 0.8 / len(sources)
    handles = []
    for k, (prefix, label) in enumerate(sources.items()):
        values = [summary.metrics.get(f"{prefix}_{s}") for s in STRATEGIES]
        handles.append(_bars(ax, [i + k * width for i in range(len(STRATEGIES))], values, width, label, f"C{k}"))
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(STRATEGIES))], [s.replace("_", " ") for s in STRATEGIES])
    ax.set_ylim(0, 1.3)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_ylabel("share of replies")
    ax.legend(handles=handles, fontsize="small", ncol=3, loc="upper center")
    ax.set_title(f"strategies, {summary.variant}")
    return _save(fig, path)


def plot_latency(results: list[DialogueResult], summary: EvalSummary, path: Path) -> Path:
    """Seconds to the first sentence and to the whole reply, per turn in run order."""
    turns = [t for r in results for t in r.turns]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.plot(range(1, len(turns) + 1), [t.total_s for t in turns], marker=".", label="whole reply")
    ax.plot(range(1, len(turns) + 1), [t.first_sentence_s for t in turns], marker=".", label="first sentence")
    ax.set_xlabel("turn (run order)")
    ax.set_ylabel("seconds")
    ax.set_ylim(bottom=0)
    ax.legend()
    ax.set_title(f"latency per turn, {summary.variant}")
    return _save(fig, path)


def plot_vad(result: DialogueResult, path: Path) -> Path:
    """Per VAD axis over the dialogue: the user (smoothed), the agent's face and voice, the reply's words (as the
    text perceiver reads them) and the reference reply's emotion. Face and voice come from perception and the
    persona's transition, so variants that differ only in lens share them; the words are where they differ."""
    turns = range(1, len(result.turns) + 1)
    fig, axes = plt.subplots(1, 3, figsize=(9, 2.9), sharex=True, sharey=True)
    for i, (ax, name) in enumerate(zip(axes, _AXES, strict=True)):
        ax.plot(turns, [getattr(t.user_emotion.vad, name) for t in result.turns], marker="o", label="user")
        ax.plot(turns, [getattr(t.agent_emotion.vad, name) for t in result.turns], marker="s", label="face/voice")
        words = [((t.judged or {}).get("words") or {}).get("vad", {}).get(name) for t in result.turns]
        ax.plot(turns, [w if w is not None else float("nan") for w in words], marker="^", label="reply words")
        reference = [
            PALETTE_VAD[t.reference_reply_emotion][i] if t.reference_reply_emotion else float("nan")
            for t in result.turns
        ]
        ax.plot(turns, reference, linestyle="none", marker="x", color="black", label="reference")
        ax.axhline(0.0, color="grey", linewidth=0.5)
        ax.set_title(name)
        ax.set_xlabel("turn")
        ax.set_xticks(list(turns))
        ax.set_ylim(-1, 1)
    axes[0].legend(loc="lower left", fontsize="x-small")
    fig.suptitle(f"{result.dialogue_id} ({result.variant.key})", fontsize="medium")
    # Fixed margins: tight_layout would double the time of the figure drawn once per dialogue and variant.
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.17, top=0.8, wspace=0.08)
    return _save(fig, path, tight=False)


def plot_comparison(summaries: list[EvalSummary], path: Path) -> Path:
    """The headline shares and similarities of every variant and baseline side by side, with 95 % intervals."""
    fig, ax = plt.subplots(figsize=(max(8.0, 1.1 * len(COMPARED)), 3.8))
    width = 0.8 / max(1, len(summaries))
    handles = []
    for n, summary in enumerate(summaries):
        values = [summary.metrics.get(name) for name in COMPARED]
        xs = [i + n * width for i in range(len(COMPARED))]
        handles.append(_bars(ax, xs, values, width, summary.variant, f"C{n % 10}"))
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(COMPARED))], list(COMPARED.values()), fontsize="small")
    ax.set_ylim(0, 1.3)  # head room for the legend above the bars (rates reach 1.0)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.legend(handles=handles, fontsize="small", ncol=min(4, len(summaries)), loc="upper center")
    ax.set_title("variants and baselines (bars: 95 % bootstrap intervals; n/a: not measurable)")
    return _save(fig, path)


def _bars(
    ax: plt.Axes, xs: list[float], values: list[MetricValue | None], width: float, label: str, colour: str
) -> Patch:
    """Bars with interval whiskers; a missing value is written "n/a" at its place instead of a bar. Returns the
    series' legend entry (there is one even when every value is n/a)."""
    for x, metric in zip(xs, values, strict=True):
        if metric is None or metric.value is None:
            ax.text(x, 0.02, "n/a", ha="center", va="bottom", fontsize="x-small", rotation=90, color="dimgrey")
            continue
        low = metric.value - metric.low if metric.low is not None else 0.0
        high = metric.high - metric.value if metric.high is not None else 0.0
        ax.bar(
            x,
            metric.value,
            width,
            yerr=[[max(low, 0.0)], [max(high, 0.0)]],
            capsize=2,
            color=colour,
            error_kw={"linewidth": 0.8},
        )
    return Patch(color=colour, label=label)


def _save(fig: plt.Figure, path: Path, tight: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)  # long runs draw hundreds of figures: free each one
    return path
