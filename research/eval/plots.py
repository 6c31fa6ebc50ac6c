"""The report's figures, drawn with matplotlib's Agg backend (files only: no display is needed or opened)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: eval runs on servers and in CI without a display

import matplotlib.pyplot as plt

from research.eval.runner import DialogueResult
from research.eval.summary import EvalSummary

_AXES = ("valence", "arousal", "dominance")


def plot_confusion(summary: EvalSummary, path: Path) -> Path:
    """Gold user emotion (rows) against perceived (columns), counts written in the cells."""
    labels, matrix = summary.emotion.labels, summary.emotion.confusion
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
    """The share of each empathy strategy in the model's plans."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    names = list(summary.strategy_mix)
    ax.bar([n.replace("_", "\n") for n in names], [summary.strategy_mix[n] for n in names], color="#4c72b0")
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of model plans")
    ax.set_title(f"strategy mix, {summary.variant}")
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
    """The user's (smoothed) and the agent's emotion over the dialogue, one panel per VAD axis."""
    turns = range(1, len(result.turns) + 1)
    fig, axes = plt.subplots(1, 3, figsize=(9, 2.8), sharex=True, sharey=True)
    for ax, name in zip(axes, _AXES, strict=True):
        ax.plot(turns, [getattr(t.user_emotion.vad, name) for t in result.turns], marker="o", label="user")
        ax.plot(turns, [getattr(t.agent_emotion.vad, name) for t in result.turns], marker="s", label="agent")
        ax.axhline(0.0, color="grey", linewidth=0.5)
        ax.set_title(name)
        ax.set_xlabel("turn")
        ax.set_xticks(list(turns))
        ax.set_ylim(-1, 1)
    axes[0].legend(loc="lower left", fontsize="small")
    fig.suptitle(f"{result.dialogue_id} ({result.variant.key})", fontsize="medium")
    # Fixed margins: tight_layout would double the time of the figure drawn once per dialogue and variant.
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.17, top=0.8, wspace=0.08)
    return _save(fig, path, tight=False)


def plot_ablation(summaries: list[EvalSummary], path: Path) -> Path:
    """Headline rates of every variant side by side (grouped bars)."""
    metrics = {
        "reply emotion ok": lambda s: s.reply_emotion_appropriate,
        "chain valid": lambda s: s.chain_valid,
        "Dist-1": lambda s: s.dist1,
        "Dist-2": lambda s: s.dist2,
    }
    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / max(1, len(summaries))
    for n, summary in enumerate(summaries):
        values = [value(summary) or 0.0 for value in metrics.values()]
        ax.bar([i + n * width for i in range(len(metrics))], values, width, label=summary.variant)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(metrics))], list(metrics))
    ax.set_ylim(0, 1.25)  # head room for the legend above the bars (rates reach 1.0)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.legend(fontsize="small", ncol=min(4, len(summaries)), loc="upper center")
    ax.set_title("ablation")
    return _save(fig, path)


def _save(fig: plt.Figure, path: Path, tight: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)  # long runs draw hundreds of figures: free each one
    return path
