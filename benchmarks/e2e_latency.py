"""End of the user's speech to the first video frame shown in the browser, median over several spoken turns.

Usage: OMP_WAIT_POLICY=PASSIVE python -m benchmarks.e2e_latency [--url http://HOST:PORT] [-n 5] [--gap 45]

Debian's Chromium (headless) opens the page hands-free; its microphone plays a LibriVox clip followed by `--gap`
seconds of silence, over and over, so the user "says" the clip once per cycle. For each turn:

- end of speech (browser clock) = arrival of `speech_end` minus its `endpoint_ms` (the pause the endpointer waited);
- first frame = the first `requestVideoFrameCallback` of that turn's reply video;
- the server's stages come from the turn's `reply_end` timings, and "delivery" is what is left: the websocket,
  MSE buffering and decoding up to the frame on screen.

Without --url it starts `empathica serve --port 0` on a temporary database (models as configured: set e.g.
EMPATHICA_LLM_MODEL=qwen2.5-coder-0.5b for the fast mode). Prints figures; never fails on time.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any

from tests.e2e.browser_util import CHROMIUM, chromium_args_with_microphone, speech_wav
from tests.e2e.server_process import ServerProcess
from tests.e2e.ws_client import CLIP

STAGES = (
    ("endpoint", "end-of-turn pause"),
    ("asr", "speech recognition"),
    ("perception", "perception"),
    ("safety", "safety check"),
    ("llm_first_sentence", "first sentence (LLM)"),
    ("tts", "voice (all sentences so far)"),
    ("render", "face"),
    ("encode", "encode"),
    ("first_media", "server: first media sent"),
)

COLLECT = """() => {
  const h = window.empathica;
  return h.speechEnds.map((end) => ({
    turnId: end.turnId,
    speechEnd: end.at - (end.endpointMs || 0),
    frame: (h.firstFrames.find((f) => f.turnId === end.turnId) || {}).at ?? null,
    reply: h.replies.find((r) => r.turnId === end.turnId) || null,
  }));
}"""


def measure(url: str, turns: int, gap_s: float, workdir: Path) -> list[dict[str, Any]]:
    """Run the browser until `turns` spoken turns have a reply on screen; returns their measurements."""
    from playwright.sync_api import sync_playwright

    # Looping (no %noloop): one cycle of clip + silence per turn.
    wav = speech_wav(workdir / "speech.wav", CLIP, lead_s=0.5, tail_s=gap_s)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=chromium_args_with_microphone(wav, loop=True)
        )
        page = browser.new_page()
        page.goto(url.rstrip("/") + "/")
        page.wait_for_function("() => window.empathica && window.empathica.state === 'open'", timeout=120_000)
        page.evaluate("() => window.empathica.handsFree(true)")
        done: list[dict[str, Any]] = []
        deadline_ms = (turns + 1) * (gap_s + 10) * 1000 + 600_000
        page.wait_for_function(
            f"""() => window.empathica.replies.filter((r) => !r.cancelled).length >= {turns}""",
            timeout=deadline_ms,
            polling=1000,
        )
        done = [t for t in page.evaluate(COLLECT) if t["frame"] is not None and t["reply"] is not None]
        browser.close()
    return done


def report(results: list[dict[str, Any]]) -> None:
    """Medians of end of speech -> first frame and of each stage."""
    if not results:
        print("no turn completed")
        return
    e2e = [r["frame"] - r["speechEnd"] for r in results]
    print(f"\nspoken turns measured: {len(results)}")
    print(f"{'stage (ms)':<34}{'median':>10}{'min':>10}{'max':>10}")
    for key, label in STAGES:
        values = [float(r["reply"]["timings"][key]) for r in results if key in (r["reply"]["timings"] or {})]
        if values:
            print(f"{label:<34}{statistics.median(values):>10.0f}{min(values):>10.0f}{max(values):>10.0f}")
    delivery = [
        (r["frame"] - r["speechEnd"]) - float(r["reply"]["timings"]["first_media"])
        for r in results
        if "first_media" in r["reply"]["timings"]
    ]
    if delivery:
        label = "delivery (ws, MSE, decode, show)"
        print(f"{label:<34}{statistics.median(delivery):>10.0f}{min(delivery):>10.0f}{max(delivery):>10.0f}")
    label = "END OF SPEECH -> FIRST FRAME"
    print(f"{label:<34}{statistics.median(e2e):>10.0f}{min(e2e):>10.0f}{max(e2e):>10.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("-n", "--turns", type=int, default=5, help="spoken turns to measure (default 5)")
    parser.add_argument("--gap", type=float, default=45.0, help="seconds of silence after each utterance")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = None
        url = args.url
        if url is None:
            server = ServerProcess(work / "conversations.sqlite3", work / "server.log")
            print("starting the server (loading models)...", flush=True)
            url = server.start()
        try:
            print(f"speaking {args.turns} turns to {url} through headless Chromium...", flush=True)
            report(measure(url, args.turns, args.gap, work))
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
