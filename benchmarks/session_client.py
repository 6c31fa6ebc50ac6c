"""Shared by the load and soak benchmarks: a server to talk to, scripted text sessions, percentiles, server RSS.

Each simulated user is one websocket session that types messages one after another and waits for each reply,
as a person at the kiosk would. The protocol client itself is tests/e2e/ws_client.py.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.e2e.server_process import ServerProcess
from tests.e2e.ws_client import collect_turn, receive_json

MESSAGES = (
    "I finally finished the project I was so worried about.",
    "My best friend moved away and the house feels empty.",
    "I keep making the same mistake at work and I am angry at myself.",
    "Work has been really stressful this week and I cannot sleep.",
    "My sister is coming to visit tomorrow and I am so excited.",
    "I failed my driving test again today.",
)


@dataclass(frozen=True)
class TurnSample:
    """One turn as a client saw it: seconds from sending the text to the first media piece and to reply_end."""

    session: int
    started: float  # time.monotonic() when the text was sent
    first_media_s: float | None
    reply_end_s: float | None  # None: the turn ended without a reply_end
    errors: tuple[str, ...]  # `code: message` of every error the turn got
    sentences: int
    media_bytes: int

    @property
    def ok(self) -> bool:
        """A complete reply with media and no error."""
        return self.reply_end_s is not None and not self.errors and self.media_bytes > 0


def ws_url(url: str) -> str:
    """The websocket address of a server at http(s)://HOST:PORT."""
    return url.replace("https://", "wss://").replace("http://", "ws://").rstrip("/") + "/ws"


async def text_session(
    http: aiohttp.ClientSession,
    url: str,
    session: int,
    texts: Sequence[str],
    token: str = "",
    until: float | None = None,
    on_turn: Callable[[TurnSample], None] | None = None,
) -> list[TurnSample]:
    """Open one conversation, type each text after the previous reply has ended, and time every turn.

    `until` (a time.monotonic() value) stops before a turn that would start later; `on_turn` sees each turn.
    """
    samples: list[TurnSample] = []
    async with http.ws_connect(ws_url(url), max_msg_size=0) as ws:
        ready = await receive_json(ws)
        if ready.get("type") != "ready":
            raise RuntimeError(f"expected `ready`, got {ready}")
        if token:
            await ws.send_json({"type": "hello", "protocol": 1, "token": token})
            await receive_json(ws)
        for text in texts:
            if until is not None and time.monotonic() >= until:
                break
            started, sent = time.monotonic(), time.perf_counter()
            await ws.send_json({"type": "text", "text": text})
            result = await collect_turn(ws, sent)
            done = time.perf_counter() - sent if result.of_type("reply_end") else None
            errors = tuple(f"{e['code']}: {e['message']}" for e in result.of_type("error"))
            samples.append(
                TurnSample(
                    session=session,
                    started=started,
                    first_media_s=result.first_media_s,
                    reply_end_s=done,
                    errors=errors,
                    sentences=len(result.of_type("reply_text")),
                    media_bytes=len(result.media),
                )
            )
            if on_turn is not None:
                on_turn(samples[-1])
    return samples


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by the nearest-rank method; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def latency_table(samples: Sequence[TurnSample], quantiles: Sequence[float] = (50, 90, 95, 99, 100)) -> str:
    """Client-side latency percentiles (ms) of first media and reply_end over `samples`."""
    names = ["max" if q >= 100 else f"p{q:g}" for q in quantiles]
    header = f"{'latency (ms)':<16}{'n':>5}" + "".join(f"{name:>9}" for name in names)
    rows = [header]
    for name, values in (
        ("first media", [s.first_media_s * 1000 for s in samples if s.first_media_s is not None]),
        ("reply_end", [s.reply_end_s * 1000 for s in samples if s.reply_end_s is not None]),
    ):
        cells = "".join(f"{percentile(values, q):>9.0f}" for q in quantiles)
        rows.append(f"{name:<16}{len(values):>5}{cells}")
    return "\n".join(rows)


def rss_bytes(pid: int) -> int:
    """Resident memory of process `pid` and its children (the server's worker processes, if any), from /proc."""
    total = 0
    for p in [pid, *_children(pid)]:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


def _children(pid: int) -> list[int]:
    try:
        direct = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return [c for child in direct for c in (child, *_children(child))]


@contextlib.contextmanager
def server_for(
    url: str | None, label: str, env: dict[str, str] | None = None
) -> Iterator[tuple[str, int | None]]:
    """The server to use: `url` as given (pid unknown), or a fresh `empathica serve` on a temporary database
    (`env`: EMPATHICA_* settings for it, e.g. the LLM backend)."""
    if url is not None:
        yield url, None
        return
    with tempfile.TemporaryDirectory(prefix=f"empathica-{label}-") as tmp:
        server = ServerProcess(Path(tmp) / f"{label}.sqlite3", Path(tmp) / "server.log", env)
        print("starting `empathica serve` (loading models) ...", flush=True)
        started = time.monotonic()
        address = server.start()
        print(f"server: {address} (ready after {time.monotonic() - started:.0f} s), pid {server.pid}", flush=True)
        try:
            yield address, server.pid
        finally:
            server.stop()


@contextlib.contextmanager
def llama_cpp_server(model: Path, slots: int, threads: int, slot_context: int) -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server (xllamacpp, tests/agent/llama_server.py) on a free loopback port,
    decoding `slots` requests side by side on the CPU; yields its API root (http://127.0.0.1:PORT/v1)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    script = Path(__file__).resolve().parents[1] / "tests" / "agent" / "llama_server.py"
    args = [sys.executable, str(script), str(model), str(port), str(slots), str(threads), str(slot_context)]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while not _healthy(base):
            if process.poll() is not None:
                raise RuntimeError(f"the llama.cpp server exited with {process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("the llama.cpp server did not come up within 300 s")
            time.sleep(0.5)
        yield f"{base}/v1"
    finally:
        process.kill()
        process.wait()


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def machine() -> str:
    """The CPU model, its core count and the load average (other work on the machine skews every figure)."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{model}, {os.cpu_count()} cores, load average {load}"
