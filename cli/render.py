"""`empathica render`: voice and animate one text into an MP4 file, without the LLM or the server."""

from __future__ import annotations

import sys
from pathlib import Path

from compose.config import Config
from compose.engines import EngineError, load_media
from core.emotion import EmotionState


def render_to_file(
    config: Config, text: str, emotion: str, intensity: float, out: Path, portrait: str | None = None
) -> int:
    """Write `text` spoken in `emotion` as a fragmented MP4 to `out`; returns the exit code."""
    if not text.strip():
        print("empathica: --text is empty", file=sys.stderr)
        return 2
    if not 0.0 <= intensity <= 1.0:
        print(f"empathica: --intensity must be in [0, 1], got {intensity}", file=sys.stderr)
        return 2
    try:
        media = load_media(config, portrait=portrait)
    except EngineError as exc:
        print(f"empathica: {exc}", file=sys.stderr)
        return 2
    state = EmotionState.from_label(emotion, intensity)
    speech = media.synthesizer.synthesize(text.strip(), state)
    frames = media.renderer.render_speech(speech, state)
    encoder = media.encoder_factory()
    pieces = [*encoder.add(frames, speech.pcm), *encoder.finish()]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"".join(pieces))
    print(f"wrote {out} ({speech.duration:.2f} s, {len(frames)} frames, {emotion} at {intensity:g})")
    return 0
