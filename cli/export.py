"""`empathica export`: the stored turns as JSON lines or CSV, for analysis outside the product."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TextIO

from compose.config import Config
from storage.store import ConversationStore, TurnRecord

ExportFormat = Literal["jsonl", "csv"]

# The pipeline's stages (docs/protocol.md `timings_ms`), in order; stages a future version adds follow sorted.
TIMING_KEYS = (
    "asr",
    "perception",
    "safety",
    "llm_first_sentence",
    "llm_total",
    "tts",
    "render",
    "encode",
    "first_media",
    "total",
)
_BASE_COLUMNS = ("session_id", "persona", "turn_index", "created_at", "input_kind", "user_text")
_EMOTION_FIELDS = ("label", "intensity", "valence", "arousal", "dominance")
_VOICE_COLUMNS = ("voice_valence", "voice_arousal", "voice_dominance", "voice_confidence", "voice_mismatch")


def run_export(config: Config, fmt: ExportFormat, session_id: str | None = None, out: Path | None = None) -> int:
    """Write the turns of the configured store (one session when given) to `out` or stdout; returns the exit code."""
    path = config.storage.path
    if not path.is_file():
        print(f"empathica: no conversation database at {path} (set storage.database)", file=sys.stderr)
        return 1
    store = ConversationStore(path)
    try:
        rows = [turn_row(persona, turn) for persona, turn in store.export_turns(session_id)]
    finally:
        store.close()
    if session_id is not None and not rows:
        print(f"empathica: session {session_id!r} has no stored turns", file=sys.stderr)
        return 1
    if out is None:
        write_rows(rows, fmt, sys.stdout)
    else:
        with out.open("w", encoding="utf-8", newline="") as handle:  # csv writes its own \r\n line ends
            write_rows(rows, fmt, handle)
    return 0


def turn_row(persona: str, turn: TurnRecord) -> dict[str, Any]:
    """One turn as a JSON-ready object: emotions as {label, intensity, vad}, timings in milliseconds."""
    return {
        "session_id": turn.session_id,
        "persona": persona,
        "turn_index": turn.turn_index,
        "created_at": datetime.fromtimestamp(turn.created_at, UTC).isoformat(),
        "input_kind": turn.input_kind,
        "user_text": turn.user_text,
        "user_emotion": _emotion(turn.user_emotion),
        "agent_emotion": _emotion(turn.agent_emotion),
        "reply_text": turn.reply_text,
        "cancelled": turn.cancelled,
        "timings_ms": dict(turn.timings),
    }


def write_rows(rows: list[dict[str, Any]], fmt: ExportFormat, out: TextIO) -> None:
    """Write rows from `turn_row` as JSON lines, or as CSV with a header and flattened columns."""
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    timing_keys = _timing_keys(row["timings_ms"] for row in rows)
    columns = [
        *_BASE_COLUMNS,
        *(f"user_{f}" for f in _EMOTION_FIELDS),
        *(f"agent_{f}" for f in _EMOTION_FIELDS),
        *_VOICE_COLUMNS,
        "reply_text",
        "cancelled",
        *(f"{key}_ms" for key in timing_keys),
    ]
    writer = csv.DictWriter(out, fieldnames=columns, quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    for row in rows:
        writer.writerow(_flat(row, timing_keys))


def _emotion(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    if stored is None:
        return None
    out = {"label": stored.get("label"), "intensity": stored.get("intensity"), "vad": stored.get("vad")}
    if "voice" in stored:  # spoken turns: the voice's own reading and whether it disagreed with the words
        out["voice"], out["mismatch"] = stored["voice"], bool(stored.get("mismatch"))
    return out


def _timing_keys(timings: Iterable[dict[str, float]]) -> list[str]:
    seen: set[str] = set()
    for t in timings:
        seen.update(t)
    return [k for k in TIMING_KEYS if k in seen] + sorted(seen - set(TIMING_KEYS))


def _flat(row: dict[str, Any], timing_keys: list[str]) -> dict[str, Any]:
    flat: dict[str, Any] = {key: row[key] for key in _BASE_COLUMNS}
    for who in ("user", "agent"):
        emotion = row[f"{who}_emotion"] or {}
        vad = emotion.get("vad") or {}
        flat[f"{who}_label"] = emotion.get("label", "")
        flat[f"{who}_intensity"] = emotion.get("intensity", "")
        for axis in ("valence", "arousal", "dominance"):
            flat[f"{who}_{axis}"] = vad.get(axis, "")
    voice = (row["user_emotion"] or {}).get("voice") or {}
    for axis in ("valence", "arousal", "dominance"):
        flat[f"voice_{axis}"] = (voice.get("vad") or {}).get(axis, "")
    flat["voice_confidence"] = voice.get("confidence", "")
    flat["voice_mismatch"] = int((row["user_emotion"] or {}).get("mismatch", False)) if voice else ""
    flat["reply_text"] = row["reply_text"]
    flat["cancelled"] = int(row["cancelled"])
    for key in timing_keys:
        flat[f"{key}_ms"] = row["timings_ms"].get(key, "")
    return flat
