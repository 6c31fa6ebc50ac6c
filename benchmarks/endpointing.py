"""Print the delay from the end of speech to the end-of-turn event, per LibriVox clip and as a median.

Each clip of pocketsphinx-testdata is streamed in 20 ms chunks, with quiet room noise (about -60 dBFS) before
and after, through Silero VAD and the `Endpointer`. The true end of speech is taken from the clip itself: the
end of its last 10 ms frame 12 dB above the clip's own noise floor (independent of the VAD). Delay = stream
time at which `EndOfTurn` fired minus that end. Target: median <= 300 ms. Also prints the VAD cost per second.

Usage: OMP_WAIT_POLICY=PASSIVE python -m benchmarks.endpointing [--hangover-ms N] [--min-speech-ms N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from speech.audio import decode_wav
from speech.streaming.endpointer import EndOfTurn, Endpointer, EndpointerConfig
from speech.streaming.vad import SileroVad

LIBRIVOX_DIR = Path("/usr/share/pocketsphinx/test/data/librivox")
CHUNK = 320  # 20 ms at 16 kHz, as the web client sends it


def speech_end(pcm: np.ndarray, rate: int) -> float:
    """End of the last 10 ms frame at least 12 dB above the clip's noise floor (its 10th-percentile frame level)
    and within 30 dB of its loudest frame, in seconds."""
    hop = rate // 100
    n = len(pcm) // hop
    level = 10 * np.log10((pcm[: n * hop].astype(np.float64).reshape(n, hop) ** 2).mean(axis=1) + 1e-9)
    threshold = max(np.percentile(level, 10) + 12, level.max() - 30)
    return (np.flatnonzero(level > threshold)[-1] + 1) * hop / rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = EndpointerConfig()
    parser.add_argument("--hangover-ms", type=int, default=defaults.hangover_ms)
    parser.add_argument("--min-speech-ms", type=int, default=defaults.min_speech_ms)
    args = parser.parse_args()
    config = EndpointerConfig(hangover_ms=args.hangover_ms, min_speech_ms=args.min_speech_ms)
    rng = np.random.default_rng(0)
    delays, vad_seconds, audio_seconds = [], 0.0, 0.0
    for path in sorted(LIBRIVOX_DIR.glob("*.wav")):
        pcm, rate = decode_wav(path.read_bytes())
        lead = 0.5
        noise = [rng.normal(0, 30, int(s * rate)).astype(np.int16) for s in (lead, 1.5)]
        stream = np.concatenate([noise[0], pcm, noise[1]])
        truth = lead + speech_end(pcm, rate)
        endpointer = Endpointer(SileroVad(), config)
        ends: list[EndOfTurn] = []
        started = time.perf_counter()
        for i in range(0, len(stream), CHUNK):
            ends += [e for e in endpointer.feed(stream[i : i + CHUNK]) if isinstance(e, EndOfTurn)]
        vad_seconds += time.perf_counter() - started
        audio_seconds += len(stream) / rate
        decided = ends[-1].time if ends else float("nan")
        delay = decided - truth
        delays.append(delay)
        print(
            f"{path.stem[-4:]}: speech ends {truth:5.2f} s, end of turn at {decided:5.2f} s "
            f"-> delay {1000 * delay:4.0f} ms ({len(ends)} turn{'s' if len(ends) != 1 else ''})"
        )
    print(
        f"median delay {1000 * float(np.nanmedian(delays)):.0f} ms over {len(delays)} clips "
        f"(hang-over {config.hangover_ms} ms, min speech {config.min_speech_ms} ms); "
        f"VAD + endpointer {1000 * vad_seconds / audio_seconds:.1f} ms per second of audio"
    )


if __name__ == "__main__":
    main()
