"""`empathica perceive --jsonl FILE`: the user's emotion for each line of a JSONL file, as JSON lines.

Input lines are objects with `text`, and optionally `voice` (a voice-affect estimate: `valence`, `arousal`,
`dominance`, `confidence`, optional `label`) or `audio` (a 16-bit PCM WAV path, relative to the JSONL file, whose
voice affect speech/ estimates; one estimator serves the whole file, so its lines are taken as one speaker whose
baseline builds up line by line). Each input gives one output line with `label`, `mixture`, `vad` and
`intensity`, plus `mismatch` and the text-only reading when a voice was given or measured, and `safety`: null, or
the crisis screen's `category`, `score` and `matched` for that line's text (with `--lexical-only`, the rules alone).
A bad line gives `{"line": N, "error": ...}` in its place, so outputs stay aligned with inputs (exit code 1).

`empathica perceive --score FILE [--confusion PNG]` scores perception on a labelled set instead (lines
`{"text", "label"}`, or a GoEmotions-format `.tsv`): macro-F1, per-label F1, accuracy, ECE and a confusion-matrix
PNG (agent.perception.evaluation).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from agent.base import SafetyCheck, SafetyVerdictLike
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


def _safety_record(verdict: SafetyVerdictLike | None) -> dict[str, Any] | None:
    if verdict is None:
        return None
    score = verdict.score
    return {
        "category": verdict.category,
        "score": None if score is None else round(float(score), 4),
        "matched": verdict.matched,
    }


VoiceFromAudio = Callable[[Path, str], VoiceAffect | None]


def voice_from_wav(base: Path) -> VoiceFromAudio:
    """Measure voice affect from WAV files (paths relative to `base`), one speaker's running baseline."""
    from speech.affect.estimator import VoiceAffectEstimator
    from speech.audio import AudioFormatError, decode_wav

    estimator = VoiceAffectEstimator()

    def measure(path: Path, text: str) -> VoiceAffect | None:
        try:
            pcm, rate = decode_wav((base / path).read_bytes())
        except OSError as exc:
            raise ValueError(f"cannot read audio {path}: {exc.strerror}") from None
        except AudioFormatError as exc:
            raise ValueError(f"audio {path}: {exc}") from None
        return estimator.estimate(pcm, rate, text)

    return measure


def perceive_lines(
    lines: Iterable[str],
    perceive: Callable[[str], EmotionState],
    out: TextIO,
    err: TextIO | None = None,
    voice_from_audio: VoiceFromAudio | None = None,
    safety: SafetyCheck | None = None,
) -> int:
    """Write one JSON line per input line to `out`; returns 0, or 1 when any line was bad.

    With `safety` (the crisis screen's check), each line also gets a `safety` field (see the module docstring).
    """
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
            if voice is None and row.get("audio"):
                if voice_from_audio is not None:
                    voice = voice_from_audio(Path(str(row["audio"])), row["text"])
                elif not audio_noted:
                    print("empathica: no audio analysis here; reading text only", file=err)
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
            if safety is not None:
                result["safety"] = _safety_record(safety(row["text"]))
        except (json.JSONDecodeError, ValueError) as exc:
            failed = True
            result = {"line": number, "error": str(exc)}
        print(json.dumps(result, ensure_ascii=False), file=out, flush=True)
    return 1 if failed else 0


def run_perceive(path: Path, lexical_only: bool = False, out: TextIO | None = None) -> int:
    """The `perceive` command: read `path` ("-" for stdin) and print the readings; returns the exit code."""
    from agent.perception import TextPerception
    from agent.safety import DEFAULT_HOTLINE, SafetyScreen
    from compose.engines import EngineError, load_crisis_screen, load_encoder, load_perception

    out = out or sys.stdout
    try:
        if lexical_only:  # no model at all: the crisis screen's rules alone
            perception, screen = TextPerception(), SafetyScreen()
        else:
            encoder = load_encoder(sys.stderr)  # one MiniLM for perception and the crisis screen
            perception = load_perception(sys.stderr, encoder)
            screen = load_crisis_screen(DEFAULT_HOTLINE, encoder, sys.stderr)
    except EngineError as exc:
        print(f"empathica: {exc}", file=sys.stderr)
        return 2
    if str(path) == "-":
        return perceive_lines(
            sys.stdin, perception.perceive, out, voice_from_audio=voice_from_wav(Path.cwd()), safety=screen.check
        )
    try:
        with open(path, encoding="utf-8") as fh:
            return perceive_lines(
                fh, perception.perceive, out, voice_from_audio=voice_from_wav(path.parent), safety=screen.check
            )
    except OSError as exc:
        print(f"empathica: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2


def run_score(path: Path, confusion: Path, lexical_only: bool = False, out: TextIO | None = None) -> int:
    """The `perceive --score` command: score perception on the labelled set `path`; returns the exit code."""
    from agent.perception import TextPerception
    from agent.perception.evaluation import load_labelled, plot_confusion, score_perceiver
    from compose.engines import EngineError, load_perception

    out = out or sys.stdout
    try:
        examples = load_labelled(path)
    except OSError as exc:
        print(f"empathica: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"empathica: {exc}", file=sys.stderr)
        return 2
    try:
        perception = TextPerception() if lexical_only else load_perception(sys.stderr)
    except EngineError as exc:
        print(f"empathica: {exc}", file=sys.stderr)
        return 2
    scores = score_perceiver(perception.perceive, examples)
    print(f"{path}: {scores.summary()}", file=out)
    print(
        f"confusion matrix: {plot_confusion(scores, confusion, f'{path.name}: macro-F1 {scores.macro_f1:.3f}')}",
        file=out,
    )
    return 0
