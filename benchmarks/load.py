"""Sessions side by side: first media with 1 and with N concurrent sessions against a real OpenAI-compatible LLM.

Usage: OMP_WAIT_POLICY=PASSIVE nice -n 10 python -m benchmarks.load [--sessions 1,4] [--turns 2]
       [--model qwen2.5-coder-1.5b] [--slots 4] [--llm-threads 2] [--llm-url URL --llm-name NAME] [--url URL]

Without --url it starts llama.cpp's OpenAI-compatible server (xllamacpp) on the CPU with `--slots` parallel slots,
serving the GGUF of `--model` (or uses `--llm-url`, e.g. a `vllm serve` on a GPU: docs/gpu.md), then
`empathica serve` with llm.backend = "openai" pointed at it, on a temporary database. The server guards each local
engine (one call at a time) but calls the remote LLM for every session at once (server.turn.engine_guards), so
sessions' turns overlap. Each load level runs `--sessions` conversations at once, each typing `--turns` messages
and waiting for each reply; it prints client-side percentiles of first media (text sent -> first media fragment)
and reply_end per level, p50/p95 of first media side by side with their ratio to one session, and the machine. It
exits 1 if any turn failed or lost its reply; it never fails on time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp

from benchmarks.session_client import (
    MESSAGES,
    TurnSample,
    latency_table,
    llama_cpp_server,
    machine,
    percentile,
    server_for,
    text_session,
)


async def run(url: str, sessions: int, turns: int, token: str, offset: int = 0) -> list[TurnSample]:
    """`sessions` conversations at once, each typing `turns` messages (a different order per session)."""
    async with aiohttp.ClientSession() as http:
        jobs = []
        for s in range(sessions):
            texts = [MESSAGES[(offset + s + i) % len(MESSAGES)] for i in range(turns)]
            jobs.append(text_session(http, url, s, texts, token))
        results = await asyncio.gather(*jobs, return_exceptions=True)
    samples: list[TurnSample] = []
    for s, result in enumerate(results):
        if isinstance(result, BaseException):
            print(f"session {s}: failed: {type(result).__name__}: {result}", flush=True)
            continue
        samples.extend(result)
    return samples


@contextmanager
def llm_for(args: argparse.Namespace) -> Iterator[dict[str, str]]:
    """The EMPATHICA_* settings that point a fresh server at an OpenAI-compatible LLM (started here if needed)."""
    if args.url is not None:  # a running server: its own settings apply
        yield {}
        return
    settings = {"EMPATHICA_LLM_BACKEND": "openai", "EMPATHICA_LLM_READ_TIMEOUT": "600"}
    if args.llm_url is not None:
        yield {**settings, "EMPATHICA_LLM_BASE_URL": args.llm_url, "EMPATHICA_LLM_MODEL": args.llm_name or args.model}
        return
    from core.provision import model_dir

    gguf = model_dir(args.model) / "model.gguf"
    print(f"starting llama.cpp's server: {args.model}, {args.slots} slots, {args.llm_threads} threads ...", flush=True)
    with llama_cpp_server(gguf, args.slots, args.llm_threads, args.slot_context) as base:
        yield {**settings, "EMPATHICA_LLM_BASE_URL": base, "EMPATHICA_LLM_MODEL": args.model,
               "EMPATHICA_LLM_CONTEXT_TOKENS": str(args.slot_context)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running Empathica server (default: start one on an OpenAI-compatible LLM)")
    parser.add_argument("--sessions", default="1,4", help="concurrent sessions per load level (default 1,4)")
    parser.add_argument("--turns", type=int, default=2, help="text turns per session (default 2)")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b", help="the GGUF llama.cpp serves (a model name)")
    parser.add_argument("--slots", type=int, default=4, help="llama.cpp's parallel slots (default 4)")
    parser.add_argument("--llm-threads", type=int, default=2, help="llama.cpp's CPU threads (default 2)")
    parser.add_argument("--slot-context", type=int, default=4096, help="context tokens per slot (default 4096)")
    parser.add_argument("--llm-url", help="an OpenAI-compatible server to use instead (e.g. vLLM's .../v1)")
    parser.add_argument("--llm-name", help="the model name that server serves (default: --model)")
    parser.add_argument("--token", default=os.environ.get("EMPATHICA_SERVER_TOKEN", ""), help="server.token, if set")
    args = parser.parse_args()
    levels = [int(n) for n in args.sessions.split(",")]
    print(f"machine: {machine()}", flush=True)
    results: dict[int, list[TurnSample]] = {}
    with llm_for(args) as env, server_for(args.url, "load", env) as (url, _pid):
        for offset, sessions in enumerate(levels):
            started = time.monotonic()
            samples = asyncio.run(run(url, sessions, args.turns, args.token, offset))
            wall = time.monotonic() - started
            results[sessions] = samples
            print(f"\n{sessions} session(s) x {args.turns} text turns in {wall:.0f} s", flush=True)
            print(latency_table(samples), flush=True)
    print(f"\nfirst media (ms), text turns; machine: {machine()}")
    base = _first_media(results[levels[0]])
    print(f"{'sessions':>8}{'n':>5}{'p50':>9}{'p95':>9}{'p50 ratio':>11}{'p95 ratio':>11}")
    for sessions, samples in results.items():
        values = _first_media(samples)
        p50, p95 = percentile(values, 50), percentile(values, 95)
        ratio50, ratio95 = p50 / percentile(base, 50), p95 / percentile(base, 95)
        print(f"{sessions:>8}{len(values):>5}{p50:>9.0f}{p95:>9.0f}{ratio50:>11.2f}{ratio95:>11.2f}")
    failed = 0
    for sessions, samples in results.items():
        expected = sessions * args.turns
        bad = [s for s in samples if not s.ok]
        for s in bad:
            print(f"  {sessions} sessions, session {s.session}: {'; '.join(s.errors) or 'no reply_end or no media'}")
        failed += expected - (len(samples) - len(bad))
    print(f"turns failed or lost: {failed}")
    sys.exit(0 if failed == 0 else 1)


def _first_media(samples: list[TurnSample]) -> list[float]:
    return [s.first_media_s * 1000 for s in samples if s.first_media_s is not None]


if __name__ == "__main__":
    main()
