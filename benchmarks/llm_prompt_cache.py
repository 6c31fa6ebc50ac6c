"""Memory of llama.cpp's RAM prompt cache: feed distinct long prompts and print the process's anonymous RSS.

Usage: OMP_WAIT_POLICY=PASSIVE python -m benchmarks.llm_prompt_cache [--model smollm2-135m] [--cache-mib 128 8192]
Each new conversation leaves its prompt's KV state in llama.cpp's host-memory cache. Uncapped (llama.cpp's
default is 8192 MiB) that memory grows with every prompt; with the engine's cap it levels off. Prints figures for
each cap; it never fails.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from agent.base import ChatMessage
from agent.llm.embedded import EmbeddedLlm
from core.provision import model_dir

WORDS = ("sad", "happy", "work", "friend", "house", "empty", "tired", "angry", "calm", "sleep", "night", "day")


def rss_anon_mb() -> int:
    """This process's anonymous resident memory (heap, KV caches), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) // 1024
    return 0


def run(model: str, cache_mib: int, prompts: int, words: int) -> list[int]:
    """RSS after every fifth distinct prompt with the cache capped at `cache_mib`."""
    llm = EmbeddedLlm(model_dir(model) / "model.gguf", threads=1, context_tokens=2048, cache_ram_mib=cache_mib)
    rng = random.Random(0)
    system = "You are a kind listener. " * 40
    figures = [rss_anon_mb()]
    for i in range(prompts):
        story = " ".join(rng.choice(WORDS) for _ in range(words))
        llm.complete([ChatMessage("system", system), ChatMessage("user", story)], 2, 0.0)
        if i % 5 == 4:
            figures.append(rss_anon_mb())
    llm.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m", help="an installed GGUF model name")
    parser.add_argument("--cache-mib", type=int, nargs="+", default=[128, 8192], help="caps to compare (MiB)")
    parser.add_argument("--prompts", type=int, default=30)
    parser.add_argument("--words", type=int, default=500, help="words per prompt (distinct every time)")
    args = parser.parse_args()
    for cap in args.cache_mib:
        figures = run(args.model, cap, args.prompts, args.words)
        print(f"cache_ram_mib {cap:>5}: RssAnon MB at prompt 0,5,10,...: {figures}", flush=True)


if __name__ == "__main__":
    main()
