"""Voice -> first playable media fragment (moof) for one sentence: drawn whole, or drawn in ~0.5 s chunks.

Usage: OMP_WAIT_POLICY=PASSIVE python -m benchmarks.media_chunks [--runs 5] [--chunk-s 0.5]

The media half of a turn (server.turn.pipeline) once sent a sentence after drawing and encoding all of it; now it
draws, encodes and sends ~0.5 s at a time. This times both ways on the default voice, face and encoder, on the
same voiced sentences, alternating, so a shared machine's load falls on both alike: the median wall-clock time
and this process's CPU time from the voice being ready to the first moof in hand. Prints figures; never fails.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

from avatar.base import EncoderFactory, Renderer
from compose.config import load_config
from compose.engines import load_media
from core.emotion import EmotionState
from core.media import Speech

SENTENCES = (
    "Oh, that sounds really hard.",  # an acknowledgement's length
    "Losing your best friend to a move leaves the whole house quiet, and it makes sense that it feels so empty.",
)


def first_moof_whole(renderer: Renderer, factory: EncoderFactory, speech: Speech, emotion: EmotionState) -> int:
    """Draw the whole sentence, encode it, return the frames drawn before the first moof."""
    frames = renderer.render_speech(speech, emotion)
    pieces = factory().add(frames, speech.pcm)
    assert any(p[4:8] == b"moof" for p in pieces), "a whole sentence yields a fragment"
    return len(frames)


def first_moof_chunked(
    renderer: Renderer, factory: EncoderFactory, speech: Speech, emotion: EmotionState, chunk_frames: int
) -> int:
    """Draw and encode chunk by chunk until the first moof; return the frames drawn by then."""
    encoder, drawn = factory(), 0
    for frames in renderer.speech_chunks(speech, emotion, chunk_frames):
        start = drawn
        drawn += len(frames)
        a = round(start * speech.sample_rate / renderer.fps)
        b = round(drawn * speech.sample_rate / renderer.fps)
        if any(p[4:8] == b"moof" for p in encoder.add(frames, speech.pcm[a:b], keyframe=start == 0)):
            return drawn
    return drawn


def timed(fn: Callable[..., int], *args: object) -> tuple[float, float, int]:
    """(wall ms, process CPU ms, frames drawn) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    frames = fn(*args)
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="repetitions of each way per sentence (default 5)")
    parser.add_argument("--chunk-s", type=float, default=0.5, help="seconds drawn per chunk (default 0.5)")
    args = parser.parse_args()
    media = load_media(load_config())
    renderer, factory = media.renderer, media.encoder_factory
    emotion = EmotionState.from_label("sadness", 0.5)
    chunk_frames = max(1, round(args.chunk_s * renderer.fps))
    load = os.getloadavg()[0]
    print(f"face {renderer.size[0]}x{renderer.size[1]} at {renderer.fps} fps, chunks of {chunk_frames} frames")
    print(f"{'sentence':<10}{'speech s':>9}{'way':>9}{'wall ms':>9}{'cpu ms':>9}{'frames':>8}")
    for number, text in enumerate(SENTENCES, start=1):
        speech = media.synthesizer.synthesize(text, emotion)
        rows: dict[str, list[tuple[float, float, int]]] = {"whole": [], "chunked": []}
        for _ in range(args.runs):
            rows["whole"].append(timed(first_moof_whole, renderer, factory, speech, emotion))
            rows["chunked"].append(timed(first_moof_chunked, renderer, factory, speech, emotion, chunk_frames))
        for way, values in rows.items():
            wall = statistics.median(v[0] for v in values)
            cpu = statistics.median(v[1] for v in values)
            print(f"{number:<10}{speech.duration:>9.2f}{way:>9}{wall:>9.0f}{cpu:>9.0f}{values[0][2]:>8}")
    print(f"machine: {os.cpu_count()} CPUs, load average (1 min) {load:.1f} before, {os.getloadavg()[0]:.1f} after")


if __name__ == "__main__":
    main()
