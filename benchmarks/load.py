"""Concurrent sessions exchanging text turns against a real server: every reply must arrive, with no error.

Usage: OMP_WAIT_POLICY=PASSIVE python -m benchmarks.load [--url http://HOST:PORT] [--sessions 4] [--turns 3]
Without --url it starts `empathica serve --port 0` on a temporary database (choose models with the usual
EMPATHICA_* variables, e.g. EMPATHICA_LLM_MODEL=qwen2.5-coder-0.5b). The server runs one turn at a time on
its shared engines, so a user's latency includes waiting for the others' turns: the figures show what four
people at once feel on this machine. Prints client-side latency percentiles (text sent -> first media piece,
-> reply_end) and exits 1 if any turn failed or lost its reply; it never fails on time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

import aiohttp

from benchmarks.session_client import MESSAGES, TurnSample, latency_table, server_for, text_session


async def run(url: str, sessions: int, turns: int, token: str) -> list[TurnSample]:
    """`sessions` conversations at once, each typing `turns` messages (a different order per session)."""
    async with aiohttp.ClientSession() as http:
        jobs = []
        for s in range(sessions):
            texts = [MESSAGES[(s + i) % len(MESSAGES)] for i in range(turns)]
            jobs.append(text_session(http, url, s, texts, token))
        results = await asyncio.gather(*jobs, return_exceptions=True)
    samples: list[TurnSample] = []
    for s, result in enumerate(results):
        if isinstance(result, BaseException):
            print(f"session {s}: failed: {type(result).__name__}: {result}", flush=True)
            continue
        samples.extend(result)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--sessions", type=int, default=4, help="concurrent sessions (default 4)")
    parser.add_argument("--turns", type=int, default=3, help="text turns per session (default 3)")
    parser.add_argument("--token", default=os.environ.get("EMPATHICA_SERVER_TOKEN", ""), help="server.token, if set")
    args = parser.parse_args()
    with server_for(args.url, "load") as (url, _pid):
        started = time.monotonic()
        samples = asyncio.run(run(url, args.sessions, args.turns, args.token))
        wall = time.monotonic() - started
    expected = args.sessions * args.turns
    failed = [s for s in samples if not s.ok]
    print(f"\n{args.sessions} sessions x {args.turns} text turns in {wall:.0f} s on {os.cpu_count()} CPU cores")
    print(latency_table(samples))
    for s in failed:
        print(f"  session {s.session}: {'; '.join(s.errors) or 'no reply_end or no media'}")
    ok = len(samples) - len(failed)
    print(f"replies delivered: {ok}/{expected}, errors: {sum(len(s.errors) for s in samples)}")
    sys.exit(0 if ok == expected else 1)


if __name__ == "__main__":
    main()
