"""`empathica replay`: re-run a stored conversation with another persona, lens or model and compare turn by turn.

The user's stored words are played again, in order, through the same text-mode agent as `empathica eval`
(research.eval.runner); the replayed agent hears its own earlier replies as history, so the replay is the
conversation that persona would have had with the same user messages. Audio turns are replayed from their stored
transcript (the voice's affect is not stored, so perception is text-only on both sides of a text session only).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from compose.config import Config
from research.dialogues import Dialogue, DialogueTurn
from research.eval.command import EvalError, build_text_agent, close_agent, resolve_variants
from research.eval.metrics import distinct_n, rate, strategy_mix, tokens
from research.eval.runner import TextAgent, TurnResult, run_dialogue
from storage.store import ConversationStore, TurnRecord


class ReplayError(ValueError):
    """The session cannot be replayed (no store, no such session, no turns); the message says what to do."""


@dataclass(frozen=True)
class ReplayTurn:
    """One turn, as it was and as replayed."""

    index: int
    user_text: str
    original_reply: str
    replayed_reply: str
    original_user_emotion: str | None
    replayed_user_emotion: str
    original_agent_emotion: str | None
    replayed_agent_emotion: str
    original_strategy: str | None
    replayed_strategy: str | None
    original_source: str | None  # the stored plan's source: model | fallback | safety (None: no plan stored)
    replayed_source: str
    word_overlap: float  # Jaccard similarity of the two replies' word sets
    original_total_ms: float | None
    replayed_total_ms: float


@dataclass(frozen=True)
class ReplaySummary:
    """How far the replay moved from the original, over all turns."""

    session_id: str
    original_persona: str
    persona: str
    lens: str
    model: str
    turns: int
    same_user_emotion: float | None
    same_agent_emotion: float | None
    mean_word_overlap: float | None
    original_dist1: float
    original_dist2: float
    replayed_dist1: float
    replayed_dist2: float
    original_strategy_mix: dict[str, float]
    replayed_strategy_mix: dict[str, float]


def word_overlap(a: str, b: str) -> float:
    """Jaccard similarity of the word sets of two texts (1.0: the same words; 0.0 for two empty texts too)."""
    left, right = set(tokens(a)), set(tokens(b))
    return len(left & right) / len(left | right) if left | right else 0.0


def load_session(store: ConversationStore, session_id: str) -> tuple[str, list[TurnRecord], dict[int, dict[str, Any]]]:
    """The session's persona, its turns with words in them, and its stored plans; raises ReplayError."""
    session = store.get_session(session_id)
    if session is None:
        raise ReplayError(
            f"no session {session_id!r} in {store.path}; `empathica sessions` lists the stored sessions and their ids"
        )
    turns = [t for t in store.turns(session_id) if t.user_text.strip()]
    if not turns:
        raise ReplayError(f"session {session_id!r} has no turns with user text to replay")
    return session.persona, turns, store.plans(session_id)


def compare(turns: list[TurnRecord], plans: dict[int, dict[str, Any]], replayed: list[TurnResult]) -> list[ReplayTurn]:
    """Pair each stored turn with its replay."""
    pairs = []
    for record, new in zip(turns, replayed, strict=True):
        plan = plans.get(record.turn_index) or {}
        new_plan = new.plan or {}
        pairs.append(
            ReplayTurn(
                index=record.turn_index,
                user_text=record.user_text,
                original_reply=record.reply_text,
                replayed_reply=new.reply,
                original_user_emotion=(record.user_emotion or {}).get("label"),
                replayed_user_emotion=new.user_emotion.label,
                original_agent_emotion=(record.agent_emotion or {}).get("label"),
                replayed_agent_emotion=new.agent_emotion.label,
                original_strategy=plan.get("strategy"),
                replayed_strategy=new_plan.get("strategy"),
                original_source=plan.get("source"),
                replayed_source=new.source,
                word_overlap=round(word_overlap(record.reply_text, new.reply), 4),
                original_total_ms=record.timings.get("total"),
                replayed_total_ms=round(new.total_s * 1000.0, 1),
            )
        )
    return pairs


def summarize_replay(
    session_id: str, original_persona: str, persona: str, lens: str, model: str, pairs: list[ReplayTurn]
) -> ReplaySummary:
    """The replay's agreement with the original and both sides' diversity and strategy mix."""
    return ReplaySummary(
        session_id=session_id,
        original_persona=original_persona,
        persona=persona,
        lens=lens,
        model=model,
        turns=len(pairs),
        same_user_emotion=rate(
            p.original_user_emotion == p.replayed_user_emotion for p in pairs if p.original_user_emotion
        ),
        same_agent_emotion=rate(
            p.original_agent_emotion == p.replayed_agent_emotion for p in pairs if p.original_agent_emotion
        ),
        mean_word_overlap=sum(p.word_overlap for p in pairs) / len(pairs) if pairs else None,
        original_dist1=distinct_n([p.original_reply for p in pairs], 1),
        original_dist2=distinct_n([p.original_reply for p in pairs], 2),
        replayed_dist1=distinct_n([p.replayed_reply for p in pairs], 1),
        replayed_dist2=distinct_n([p.replayed_reply for p in pairs], 2),
        original_strategy_mix=strategy_mix(
            p.original_strategy for p in pairs if p.original_strategy and p.original_source == "model"
        ),
        replayed_strategy_mix=strategy_mix(
            p.replayed_strategy for p in pairs if p.replayed_strategy and p.replayed_source == "model"
        ),
    )


def write_replay(out: Path, summary: ReplaySummary, pairs: list[ReplayTurn]) -> dict[str, Path]:
    """Write replay.json and replay.md under `out` (created); returns them by name."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"json": out / "replay.json", "markdown": out / "replay.md"}
    data = {"summary": asdict(summary), "turns": [asdict(p) for p in pairs]}
    files["json"].write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    files["markdown"].write_text(_markdown(summary, pairs))
    return files


def run_replay(
    config: Config,
    session_id: str,
    persona: str,
    out_dir: Path,
    lens: str | None = None,
    agent: TextAgent | None = None,
    progress: TextIO | None = None,
) -> int:
    """Replay a stored session as `persona` (its own lens unless `lens`) and write the comparison; exit code."""
    from compose.engines import EngineError

    progress = progress or sys.stderr
    path = config.storage.path
    try:
        if not path.is_file():
            raise ReplayError(f"no conversation store at {path}; set storage.database (or pass --config)")
        store = ConversationStore(path)
        try:
            original_persona, turns, plans = load_session(store, session_id)
        finally:
            store.close()
        variant = resolve_variants(config, [persona], [lens] if lens else [])[0]
        built = agent is None
        agent = agent if agent is not None else build_text_agent(config, out=progress)
    except (ReplayError, EvalError, EngineError) as exc:
        print(f"empathica: {exc}", file=sys.stderr)
        return 2
    dialogue = Dialogue(
        id=session_id,
        topic="replay",
        turns=[DialogueTurn(user=t.user_text.strip(), reply=t.reply_text or None) for t in turns],
    )
    print(f"[replay] {session_id}: {len(turns)} turns as {variant.key} (was {original_persona})", file=progress)
    try:
        result = run_dialogue(agent, dialogue, variant)
    finally:
        if built:
            close_agent(agent)  # llama.cpp's threads must be gone before the interpreter exits
    pairs = compare(turns, plans, result.turns)
    summary = summarize_replay(session_id, original_persona, variant.persona, variant.lens, config.llm.model, pairs)
    files = write_replay(out_dir, summary, pairs)
    print(f"[replay] report: {files['markdown']} and {files['json']}", file=progress, flush=True)
    return 0


def _markdown(s: ReplaySummary, pairs: list[ReplayTurn]) -> str:
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.0%}"

    def mix(values: dict[str, float]) -> str:
        return " / ".join(f"{v:.0%}" for v in values.values())

    lines = [
        f"# Replay of session {s.session_id}",
        "",
        f"Original persona **{s.original_persona}**; replayed as **{s.persona}** ({s.lens} lens) with model "
        f"`{s.model}`, {s.turns} turns.",
        "",
        "| | original | replayed |",
        "|---|---|---|",
        f"| Dist-1 / Dist-2 | {s.original_dist1:.3f} / {s.original_dist2:.3f} | "
        f"{s.replayed_dist1:.3f} / {s.replayed_dist2:.3f} |",
        f"| strategy mix (emotional reaction / interpretation / exploration) | {mix(s.original_strategy_mix)} | "
        f"{mix(s.replayed_strategy_mix)} |",
        "",
        f"Same perceived user emotion: {pct(s.same_user_emotion)}; same agent emotion: {pct(s.same_agent_emotion)}; "
        f"mean word overlap of the replies (Jaccard): {pct(s.mean_word_overlap)}.",
        "",
    ]
    for p in pairs:
        lines += [
            f"## Turn {p.index + 1}",
            "",
            f"**User:** {p.user_text}",
            "",
            "| | original | replayed |",
            "|---|---|---|",
            f"| user emotion | {p.original_user_emotion or '-'} | {p.replayed_user_emotion} |",
            f"| agent emotion | {p.original_agent_emotion or '-'} | {p.replayed_agent_emotion} |",
            f"| strategy | {p.original_strategy or '-'} | {p.replayed_strategy or '-'} |",
            f"| source | {p.original_source or '-'} | {p.replayed_source} |",
            f"| reply | {_cell(p.original_reply)} | {_cell(p.replayed_reply)} |",
            f"| turn time | {_ms(p.original_total_ms)} | {_ms(p.replayed_total_ms)} |",
            "",
            f"Word overlap: {p.word_overlap:.2f}",
            "",
        ]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or "(empty)"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value / 1000:.1f} s"
