"""Soak test: a scripted conversation loop against a real server for a long time, watching latency and memory.

Usage: OMP_WAIT_POLICY=PASSIVE python -m benchmarks.soak [--minutes 30] [--url http://HOST:PORT --pid PID]
Without --url it starts `empathica serve --port 0` on a temporary database (choose models with the usual
EMPATHICA_* variables). Visitors come one after another (`--sessions` at once); each types `--turns` messages
from a fixed script and leaves. Every `--report-s` seconds it prints the turns so far, the window's reply
latency and the server's resident memory (RSS, with any child processes). At the end it compares the RSS
after the warm-up (model caches, allocator pools filled) with the RSS at the end: growth of `--max-growth`
(default 10 %) or more is reported as FAIL, as are failed turns. Exit status 1 on FAIL; never fails on time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass, field

import aiohttp

from benchmarks.session_client import MESSAGES, TurnSample, percentile, rss_bytes, server_for, text_session

MB = 1024 * 1024


@dataclass
class SoakLog:
    """Turns and memory samples as they come in; `mark` is where the current report window starts."""

    started: float
    samples: list[TurnSample] = field(default_factory=list)
    rss: list[tuple[float, int]] = field(default_factory=list)  # (seconds since start, bytes)
    mark: int = 0

    def window(self) -> list[TurnSample]:
        """The turns since the last report, and start a new window."""
        out, self.mark = self.samples[self.mark :], len(self.samples)
        return out


async def visitor_loop(http: aiohttp.ClientSession, url: str, slot: int, turns: int, until: float, log: SoakLog,
                       token: str) -> None:
    """One visitor after another in this slot, until `until`."""
    visitor = 0
    while time.monotonic() < until:
        first = (slot * 7 + visitor) % len(MESSAGES)  # each visitor starts elsewhere in the script
        texts = [MESSAGES[(first + i) % len(MESSAGES)] for i in range(turns)]
        await text_session(http, url, slot, texts, token, until=until, on_turn=log.samples.append)
        visitor += 1


async def monitor(pid: int | None, log: SoakLog, until: float, sample_s: float, report_s: float) -> None:
    """Sample the server's RSS every `sample_s` and print a line every `report_s`."""
    next_report = time.monotonic() + report_s
    print(f"{'minute':>7}{'turns':>7}{'errors':>7}{'p50 reply_end ms':>18}{'p90':>8}{'RSS MB':>9}", flush=True)
    while True:
        now = time.monotonic()
        if pid is not None:
            log.rss.append((now - log.started, rss_bytes(pid)))
        if now >= next_report or now >= until:
            window = log.window()
            ends = [s.reply_end_s * 1000 for s in window if s.reply_end_s is not None]
            errors = sum(1 for s in log.samples if not s.ok)
            rss = f"{log.rss[-1][1] / MB:>9.0f}" if log.rss else f"{'-':>9}"
            p50, p90 = percentile(ends, 50), percentile(ends, 90)
            print(f"{(now - log.started) / 60:>7.1f}{len(log.samples):>7}{errors:>7}{p50:>18.0f}{p90:>8.0f}{rss}",
                  flush=True)
            next_report += report_s
        if now >= until:
            return
        await asyncio.sleep(min(sample_s, max(0.1, until - now)))


def memory_verdict(rss: list[tuple[float, int]], warmup_s: float, max_growth: float) -> tuple[float, bool, str]:
    """Growth of RSS from the end of the warm-up to the end (medians of a few samples, to ignore one spike)."""
    after = [b for t, b in rss if t >= warmup_s]
    if len(after) < 2:
        return float("nan"), False, "not enough memory samples after the warm-up (run longer or pass --pid)"
    k = max(1, min(5, len(after) // 4))
    base, end = statistics.median(after[:k]), statistics.median(after[-k:])
    growth = (end - base) / base
    text = f"RSS after warm-up {base / MB:.0f} MB, at the end {end / MB:.0f} MB, peak {max(after) / MB:.0f} MB"
    return growth, growth < max_growth, text


async def soak(url: str, pid: int | None, args: argparse.Namespace) -> SoakLog:
    """Run the visitors and the monitor until the time is up."""
    log = SoakLog(started=time.monotonic())
    until = log.started + args.minutes * 60
    async with aiohttp.ClientSession() as http:
        visitors = [visitor_loop(http, url, s, args.turns, until, log, args.token) for s in range(args.sessions)]
        await asyncio.gather(monitor(pid, log, until, args.sample_s, args.report_s), *visitors)
    if pid is not None:
        log.rss.append((time.monotonic() - log.started, rss_bytes(pid)))
    return log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to run (default 30)")
    parser.add_argument("--warmup-minutes", type=float, default=None,
                        help="memory is compared from here on (default: 5, or a third of a shorter run)")
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--pid", type=int, help="the running server's process id (with --url), for its memory")
    parser.add_argument("--sessions", type=int, default=1, help="visitors at once (default 1)")
    parser.add_argument("--turns", type=int, default=10, help="turns per visitor before the next arrives")
    parser.add_argument("--sample-s", type=float, default=10.0, help="memory sampling interval (s)")
    parser.add_argument("--report-s", type=float, default=60.0, help="report interval (s)")
    parser.add_argument("--max-growth", type=float, default=0.10, help="allowed RSS growth after warm-up (0.10)")
    parser.add_argument("--token", default=os.environ.get("EMPATHICA_SERVER_TOKEN", ""), help="server.token, if set")
    args = parser.parse_args()
    warmup = args.warmup_minutes if args.warmup_minutes is not None else min(5.0, args.minutes / 3)
    with server_for(args.url, "soak") as (url, started_pid):
        pid = started_pid if started_pid is not None else args.pid
        log = asyncio.run(soak(url, pid, args))
    failed = [s for s in log.samples if not s.ok]
    ends = [s.reply_end_s * 1000 for s in log.samples if s.reply_end_s is not None]
    firsts = [s.first_media_s * 1000 for s in log.samples if s.first_media_s is not None]
    print(f"\n{len(log.samples)} turns in {args.minutes:g} min, {len(failed)} failed, on {os.cpu_count()} CPU cores")
    for name, values in (("first media", firsts), ("reply_end", ends)):
        cells = ", ".join(f"p{q} {percentile(values, q):.0f}" for q in (50, 90, 99))
        print(f"latency {name} (ms): {cells}, max {max(values, default=float('nan')):.0f}")
    for s in failed[:10]:
        print(f"  failed turn (session {s.session}): {'; '.join(s.errors) or 'no reply_end or no media'}")
    ok = not failed
    if pid is None:
        print("memory: not measured (pass --pid with --url)")
    else:
        growth, memory_ok, text = memory_verdict(log.rss, warmup * 60, args.max_growth)
        print(f"memory: {text}; growth after {warmup:g} min warm-up {growth * 100:+.1f} % "
              f"(limit {args.max_growth * 100:g} %): {'PASS' if memory_ok else 'FAIL'}")
        ok = ok and memory_ok
    print("soak:", "PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
