"""`empathica perceive --jsonl FILE`: the user's emotion for each line of a JSONL file, as JSON lines.

Input lines are objects with `text`, and optionally `voice` (a voice-affect estimate: `valence`, `arousal`,
`dominance`, `confidence`, optional `label`) and `audio` (a WAV path, kept for when speech/ estimates voice affect
from audio; until then it is noted and the line is read from its text). Each input gives one output line with
`label`, `mixture`, `vad` and `intensity`, plus `mismatch` and the text-only reading when a voice was given.
A bad line gives `{"line": N, "error": ...}` in its place, so outputs stay aligned with inputs (exit code 1).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from core.emotion import VAD, EmotionState, VoiceAffect


def _voice(data: object) -> VoiceAffect:
    if not isinstance(data, dict):
        raise ValueError("voice must be an object with valence, arousal, dominance and confidence")
    try:
        vad = VAD(float(data["valence"]), float(data["arousal"]), float(data["dominance"]))
        return VoiceAffect(vad, confidence=float(data["confidence"]), label=data.get("label"))
    except KeyError as exc:
        raise ValueError(f"voice lacks {exc.args[0]!r}") from None


def _record(state: EmotionState) -> dict[str, Any]:
    v = state.vad
    return {
        "label": state.label,
        "mixture": state.mixture,
        "vad": {"valence": round(v.valence, 4), "arousal": round(v.arousal, 4), "dominance": round(v.dominance, 4)},
        "intensity": state.intensity,
    }


def perceive_lines(
    lines: Iterable[str], perceive: Callable[[str], EmotionState], out: TextIO, err: TextIO | None = None
) -> int:
    """Write one JSON line per input line to `out`; returns 0, or 1 when any line was bad."""
    from agent.perception import fuse

    err = err or sys.stderr
    failed = False
    audio_noted = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise ValueError('expected an object with a "text" string')
            voice = _voice(row["voice"]) if row.get("voice") is not None else None
            if row.get("audio") and not audio_noted:
                print("empathica: voice affect from audio is not available yet; reading text only", file=err)
                audio_noted = True
            text_state = perceive(row["text"])
            result: dict[str, Any] = {"text": row["text"]}
            if voice is None:
                result.update(_record(text_state))
            else:
                fused = fuse(text_state, voice)
                result.update(_record(fused.emotion))
                result["mismatch"] = fused.mismatch
                result["text_only"] = _record(text_state)
        except (json.JSONDecodeError, ValueError) as exc:
            failed = True
            result = {"line": number, "error": str(exc)}
        print(json.dumps(result, ensure_ascii=False), file=out, flush=True)
    return 1 if failed else 0


def run_perceive(path: Path, lexical_only: bool = False, out: TextIO | None = None) -> int:
    """The `perceive` command: read `path` ("-" for stdin) and print the readings; returns the exit code."""
    from agent.perception import TextPerception
    from server.engines import EngineError, load_perception

    out = out or sys.stdout
    try:
        perception = TextPerception() if lexical_only else load_perception(sys.stderr)
    except EngineError as exc:
        print(f"empathica: {exc}", file=sys.stderr)
        return 2
    if str(path) == "-":
        return perceive_lines(sys.stdin, perception.perceive, out)
    try:
        with open(path, encoding="utf-8") as fh:
            return perceive_lines(fh, perception.perceive, out)
    except OSError as exc:
        print(f"empathica: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
