"""Print median per-stage turn timings and end-of-input -> first media fragment (moof), over the real websocket.

Usage: OMP_WAIT_POLICY=PASSIVE python -m benchmarks.turn_latency [--url http://HOST:PORT] [-n 3] [--voiced] [--neutral]
    [--pause SECONDS]
Without --url it starts `empathica serve --port 0` on a temporary database (configure models with the usual
EMPATHICA_* variables, e.g. EMPATHICA_LLM_MODEL=qwen2.5-coder-0.5b). Text turns type a message; audio turns
stream a LibriVox clip from pocketsphinx-testdata (neutral narration) as 16 kHz PCM16 in 100 ms frames, or with
`--voiced` the text turns' messages (which carry a feeling, as users' words do) said by the hibari voice. With
`--neutral` the messages are everyday ones without a feeling (a kiosk's questions, small news), which get no first
reaction (agent.acknowledgement) and wait for the model. Each turn is a new conversation, unless `--pause` makes
the turns of each kind one conversation, the next message sent that many seconds after the reply (reading time, in
which the server warms its prompt cache with the exchange: llm.prime_cache). Prints figures, never fails on time.

Rows are the server's `reply_end` timings (ms from the end of the input; stage rows are time spent in the stage):
`ack_text` / `ack_media` when the first reaction (agent.acknowledgement) went out as text and as its first media
fragment, `llm_first_sentence` the model's first sentence, `first_media` the first media piece sent,
`model_media` the first media of the model's own words; then what the client saw: its first reply text and its
first media fragment (a moof, not the init segment). The machine's load is printed with them: on a shared machine
the figures move with it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from tests.e2e.server_process import ServerProcess
from tests.e2e.ws_client import LIBRIVOX, TurnResult, audio_turn, clip_pcm, receive_json, text_turn

STAGES = (
    "asr",
    "perception",
    "ack_text",
    "ack_media",
    "llm_first_sentence",
    "llm_total",
    "tts",
    "render",
    "encode",
    "first_text",
    "first_media",
    "model_media",
    "total",
)
CLIENT = {"client first text": "first_text_s", "client first moof": "first_moof_s"}
MESSAGES = (
    "I finally finished the project I was so worried about.",
    "My best friend moved away and the house feels empty.",
    "I keep making the same mistake at work and I am angry at myself.",
)
NEUTRAL_MESSAGES = (
    "What time does the library open tomorrow?",
    "My sister is visiting next week.",
    "I went to the market this morning.",
)


def voiced_messages(messages: Sequence[str] = MESSAGES) -> list[bytes]:
    """`messages` said by the hibari voice (not the avatar's), as 16 kHz PCM16 (what a microphone would send)."""
    from compose.engines import load_synthesizer
    from compose.models import HIBARI_VOICE
    from core.emotion import EmotionState
    from speech.audio import resample

    voice = load_synthesizer("hibari", HIBARI_VOICE, threads=2)
    said = [voice.synthesize(text, EmotionState.from_label("neutral", 0.0)) for text in messages]
    return [resample(speech.pcm, speech.sample_rate, 16000).astype("<i2").tobytes() for speech in said]


async def run_turns(
    url: str, n: int, voiced: bool = False, messages: Sequence[str] = MESSAGES, pause: float | None = None
) -> dict[str, list[TurnResult]]:
    """`n` text turns and `n` audio turns, each on a fresh connection (no history growth between runs); with
    `pause`, the turns of each kind on one connection (one conversation), `pause` seconds after each reply."""
    clips = voiced_messages(messages) if voiced else [clip_pcm(path) for path in sorted(LIBRIVOX.glob("*.wav"))]
    results: dict[str, list[TurnResult]] = {"text": [], "audio": []}
    ws_url = url.replace("http://", "ws://").rstrip("/") + "/ws"

    async def turn(ws: aiohttp.ClientWebSocketResponse, kind: str, i: int) -> None:
        if kind == "text":
            result = await text_turn(ws, messages[i % len(messages)])
        else:
            result = await audio_turn(ws, clips[i % len(clips)])
        errors = result.of_type("error")
        status = f"error {errors[0]['code']}: {errors[0]['message']}" if errors else _source(result)
        moof = f"first media {result.first_moof_s:.2f} s; " if result.first_moof_s is not None else ""
        print(f"  {kind} turn {i + 1}/{n}: {moof}{status}", flush=True)
        results[kind].append(result)

    async with aiohttp.ClientSession() as http:
        if pause is None:
            for i in range(n):
                for kind in ("text", "audio"):
                    async with http.ws_connect(ws_url) as ws:
                        await receive_json(ws)
                        await turn(ws, kind, i)
            return results
        for kind in ("text", "audio"):
            async with http.ws_connect(ws_url) as ws:
                await receive_json(ws)
                for i in range(n):
                    if i:
                        await asyncio.sleep(pause)
                    await turn(ws, kind, i)
    return results


def _source(result: TurnResult) -> str:
    """Where the reply came from (the plan's source: model, fallback, replaced, safety) and its first words."""
    ends = result.of_type("reply_end")
    if not ends:
        return "no reply_end"
    plan = ends[0].get("plan") or {}
    return f"{plan.get('source', 'no plan')}: {ends[0]['text'][:70]!r}"


def report(results: dict[str, list[TurnResult]]) -> None:
    """Median of each stage over the completed turns of each kind."""
    print(f"\n{'stage (ms, median)':<22}{'text':>10}{'audio':>10}")
    rows = [*STAGES, *CLIENT]
    for stage in rows:
        cells = []
        for kind in ("text", "audio"):
            if stage in CLIENT:
                seconds = [getattr(r, CLIENT[stage]) for r in results[kind]]
                values = [s * 1000 for s in seconds if s is not None]
            else:
                values = [
                    r.end["timings_ms"][stage]
                    for r in results[kind]
                    if r.of_type("reply_end") and stage in r.end["timings_ms"]
                ]
            cells.append(f"{statistics.median(values):>10.0f}" if values else f"{'-':>10}")
        print(f"{stage:<22}{''.join(cells)}")
    for kind in ("text", "audio"):
        sentences = [len(r.of_type("reply_text")) for r in results[kind]]
        media = [len(r.media) for r in results[kind]]
        acks = sum(1 for r in results[kind] if r.of_type("reply_end") and "ack_text" in r.end["timings_ms"])
        print(f"{kind}: sentences per reply {sentences}, media bytes {media}, {acks} opened with an acknowledgement")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("-n", type=int, default=3, help="turns of each kind (default 3)")
    parser.add_argument("--voiced", action="store_true", help="audio turns say the text messages (hibari voice)")
    parser.add_argument("--neutral", action="store_true", help="everyday messages without a feeling")
    parser.add_argument(
        "--pause", type=float, help="one conversation per kind, the next message this many seconds after each reply"
    )
    args = parser.parse_args()
    server: ServerProcess | None = None
    url = args.url
    with tempfile.TemporaryDirectory(prefix="empathica-bench-") as tmp:
        if url is None:
            server = ServerProcess(Path(tmp) / "bench.sqlite3", Path(tmp) / "server.log")
            print("starting the server (loading models) ...", flush=True)
            url = server.start()
        try:
            print(f"server: {url}", flush=True)
            before = os.getloadavg()[0]
            messages = NEUTRAL_MESSAGES if args.neutral else MESSAGES
            results = asyncio.run(run_turns(url, args.n, args.voiced, messages, args.pause))
            report(results)
            print(
                f"machine: {os.cpu_count()} CPUs, load average (1 min) {before:.1f} before the turns, "
                f"{os.getloadavg()[0]:.1f} after"
            )
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
