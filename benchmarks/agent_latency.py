"""Reply latency of the embedded LLM over a short conversation: load time, time to first token and to first
sentence, and decode speed, for the first turn (cold prompt cache) and later turns (cached prefix).

`--mode empathy` (the default, as the server runs) times the chain of empathy: first token of the JSON plan,
first character of the spoken `response` field (after the short reasoning fields) and first sentence.
`--mode plain` times the plain responder (no reasoning).

    OMP_WAIT_POLICY=PASSIVE python benchmarks/agent_latency.py [--model qwen2.5-coder-1.5b] [--threads 2] \
        [--mode empathy|plain] [--lens cbt] [--warm-up] [--prime]

`--prime` warms the prompt cache with each finished exchange before the next turn, as `empathica serve` does while
the user reads and types (llm.prime_cache; agent.prompt_cache), and prints how long that took.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from agent.base import ChatMessage
from agent.empathy.chain import LENSES, EmpathyChain
from agent.llm.embedded import EmbeddedLlm
from agent.mind import Appraisal, Mind, TurnContext
from agent.perception import TextPerception
from agent.prompts import PromptLibrary
from agent.responder import Responder
from agent.sentences import SentenceSplitter
from compose.config import load_config
from compose.engines import load_reply_emotion
from core.provision import model_dir

CONVERSATION = [
    "Hi. I had a really rough day today.",
    "My manager yelled at me in front of the whole team.",
    "I keep thinking everyone now believes I'm useless.",
    "Maybe you're right. I did finish the big report last week.",
    "Thanks, I feel a bit better. I think I'll go for a walk.",
]


@dataclass
class _Script:
    """The conversation's user turns, each appraised by the mind as a server session appraises it (the user read
    with their earlier words, smoothed, the persona's reply emotion); the last turn opens a new conversation, where
    only the system prompt can come from the cache."""

    turns: int
    mind: Mind = field(default_factory=lambda: Mind(TextPerception().perceive, load_reply_emotion(load_config())))
    history: list[ChatMessage] = field(default_factory=list)
    last: Appraisal | None = None

    def __iter__(self) -> Iterator[tuple[int, Appraisal]]:
        for number, text in enumerate([*CONVERSATION[: self.turns], None], start=1):
            if text is None:
                self.history, self.last, text = [], None, CONVERSATION[0]
                print("new conversation (same system prompt):")
            previous = self.last
            context = TurnContext(
                tuple(self.history),
                previous.user if previous else None,
                previous.agent if previous else None,
                persona="mira",
            )
            self.last = self.mind.appraise(text, context)
            yield number, self.last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b", help="model name from core/models.toml")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--turns", type=int, default=len(CONVERSATION))
    parser.add_argument("--max-tokens", type=int, default=60)
    parser.add_argument("--context", type=int, default=4096)
    parser.add_argument("--mode", choices=("empathy", "plain"), default="empathy")
    parser.add_argument("--lens", choices=LENSES, default="cbt")
    parser.add_argument(
        "--warm-up", action="store_true", help="process the system prompt before turn 1, as `empathica serve` does"
    )
    parser.add_argument(
        "--prime", action="store_true", help="warm the cache with each exchange before the next turn, as the server"
    )
    args = parser.parse_args()
    if args.mode == "empathy":
        _empathy(args)
        return

    started = time.perf_counter()
    model = EmbeddedLlm(model_dir(args.model) / "model.gguf", threads=args.threads, context_tokens=args.context)
    load_s = time.perf_counter() - started
    print(f"model {args.model}, {args.threads} threads: loaded in {load_s:.2f} s")

    prompts = PromptLibrary()
    responder = Responder(model, prompts.load("persona_default"), max_tokens=args.max_tokens, temperature=0.7)
    rows: list[dict[str, float]] = []
    script = _Script(args.turns)
    for turn, appraisal in script:
        text, user_emotion, agent_emotion = appraisal.text, appraisal.user, appraisal.agent
        messages = responder.messages(text, user_emotion, agent_emotion, script.history)
        row, pieces = _timed_turn(model, messages, args.max_tokens)
        rows.append(row)
        print(
            f"turn {turn}: user {user_emotion.label}/{user_emotion.intensity:.2f} -> agent {agent_emotion.label}; "
            f"prompt {row['prompt_n']:.0f} new + {row['cache_n']:.0f} cached tokens; first token {row['ttft']:.2f} s, "
            f"first sentence {row['first_sentence']:.2f} s; {row['predicted_n']:.0f} tokens at {row['tok_s']:.1f} "
            f"tok/s (prefill {row['prefill_tok_s']:.0f} tok/s); total {row['total']:.2f} s"
        )
        print(f"    {' | '.join(_sentences(pieces))}")
        # Store the user message as sent and the reply as generated, so the next prompt extends this one.
        sent = responder.turn_message(text, user_emotion, agent_emotion)
        script.history += [sent, ChatMessage("assistant", "".join(pieces))]
        _prime(args, script, responder)
    model.close()
    _summary(args, load_s, rows)


class _TimedModel:
    """Passes generation through, noting when the first piece of each generation arrived."""

    def __init__(self, model: EmbeddedLlm) -> None:
        self.model = model
        self.started = 0.0
        self.first_piece: float | None = None

    def stream(
        self, messages: list[ChatMessage], max_tokens: int, temperature: float, json_schema: Any = None
    ) -> Iterator[str]:
        self.first_piece = None
        for piece in self.model.stream(messages, max_tokens, temperature, json_schema=json_schema):
            if self.first_piece is None:
                self.first_piece = time.perf_counter() - self.started
            yield piece


def _empathy(args: argparse.Namespace) -> None:
    """The chain of empathy, as the server runs it: history holds what was said, not the JSON."""
    started = time.perf_counter()
    model = EmbeddedLlm(model_dir(args.model) / "model.gguf", threads=args.threads, context_tokens=args.context)
    load_s = time.perf_counter() - started
    print(f"model {args.model}, {args.threads} threads, chain of empathy ({args.lens}): loaded in {load_s:.2f} s")
    timed = _TimedModel(model)
    chain = EmpathyChain(timed, PromptLibrary().load("persona_default"), lens=args.lens)
    if args.warm_up:
        started = time.perf_counter()
        chain.warm_up()
        print(f"prompt cache warm-up (system prompt): {time.perf_counter() - started:.2f} s")
    rows: list[dict[str, float]] = []
    script = _Script(args.turns)
    for number, appraisal in script:
        text, user_emotion, agent_emotion = appraisal.text, appraisal.user, appraisal.agent
        turn = chain.turn(text, user_emotion, agent_emotion, script.history)
        timed.started = start = time.perf_counter()
        first_sentence = None
        said: list[str] = []
        for sentence in turn:
            first_sentence = first_sentence or time.perf_counter() - start
            said.append(sentence)
        total = time.perf_counter() - start
        model.wait_idle()
        timings = model.last_generation.timings if model.last_generation else {}
        plan = turn.plan
        assert plan is not None
        row = {
            "ttft": timed.first_piece if timed.first_piece is not None else total,
            "first_sentence": first_sentence or total,
            "tok_s": timings.get("predicted_per_second", float("nan")),
            "prefill_tok_s": timings.get("prompt_per_second", float("nan")),
            "prompt_n": timings.get("prompt_n", float("nan")),
            "cache_n": timings.get("cache_n", float("nan")),
            "predicted_n": timings.get("predicted_n", float("nan")),
            "total": total,
        }
        rows.append(row)
        print(
            f"turn {number}: user {user_emotion.label} -> agent {agent_emotion.label}; plan {plan.source} "
            f"({plan.strategy}, reply {plan.reply_emotion}), {turn.attempts} call(s); prompt {row['prompt_n']:.0f} "
            f"new + {row['cache_n']:.0f} cached tokens; first token {row['ttft']:.2f} s, first sentence "
            f"{row['first_sentence']:.2f} s; {row['predicted_n']:.0f} tokens at {row['tok_s']:.1f} tok/s "
            f"(prefill {row['prefill_tok_s']:.0f} tok/s); total {total:.2f} s"
        )
        print(f"    [{plan.event} | {plan.cause}] {' | '.join(said)}")
        script.history += [ChatMessage("user", text), ChatMessage("assistant", " ".join(said))]
        _prime(args, script, chain)
    model.close()
    _summary(args, load_s, rows)


def _prime(args: argparse.Namespace, script: _Script, responder: Responder | EmpathyChain) -> None:
    """With `--prime`, warm the cache with the history the next turn begins with (between turns, as the server)."""
    if not args.prime:
        return
    started = time.perf_counter()
    script.mind.prime(responder, script.history)
    print(f"    primed the prompt cache with this exchange: {time.perf_counter() - started:.2f} s")


def _summary(args: argparse.Namespace, load_s: float, rows: list[dict[str, float]]) -> None:
    first, later, fresh = rows[0], rows[1:-1] or rows[:1], rows[-1]
    primed = ", primed between turns" if args.prime else ""
    print(f"\nsummary: {args.model}, {args.threads} threads, {args.mode}{primed}, load {load_s:.2f} s")
    print(f"  {'':17} {'turn 1 (cold)':>14} {'later (median)':>15} {'new conv.':>10}")
    for name, key in (("first token s", "ttft"), ("first sentence s", "first_sentence"), ("decode tok/s", "tok_s")):
        print(f"  {name:17} {first[key]:14.2f} {_median(later, key):15.2f} {fresh[key]:10.2f}")
    # llama.cpp reports token counts only for generations that ran to the end (not those stopped after the
    # third sentence): nan there.
    for name, key in (("new prompt tokens", "prompt_n"), ("cached tokens", "cache_n")):
        print(f"  {name:17} {first[key]:14.0f} {_median(later, key):15.0f} {fresh[key]:10.0f}")


def _median(rows: list[dict[str, float]], key: str) -> float:
    values = [r[key] for r in rows if r[key] == r[key]]  # nan != nan
    return statistics.median(values) if values else float("nan")


def _timed_turn(model: EmbeddedLlm, messages: list[ChatMessage], max_tokens: int) -> tuple[dict[str, float], list[str]]:
    """Stream one reply; time the first piece and the first complete sentence, and keep llama.cpp's timings."""
    splitter = SentenceSplitter()
    first_token = first_sentence = None
    pieces: list[str] = []
    start = time.perf_counter()
    for piece in model.stream(messages, max_tokens, 0.7):
        now = time.perf_counter() - start
        first_token = now if first_token is None else first_token
        if first_sentence is None and splitter.feed(piece):
            first_sentence = now
        pieces.append(piece)
    total = time.perf_counter() - start
    timings = model.last_generation.timings if model.last_generation else {}
    row = {
        "ttft": first_token if first_token is not None else total,
        "first_sentence": first_sentence if first_sentence is not None else total,
        "tok_s": timings.get("predicted_per_second", float("nan")),
        "prefill_tok_s": timings.get("prompt_per_second", float("nan")),
        "prompt_n": timings.get("prompt_n", 0),
        "cache_n": timings.get("cache_n", 0),
        "predicted_n": timings.get("predicted_n", 0),
        "total": total,
    }
    return row, pieces


def _sentences(pieces: list[str]) -> list[str]:
    splitter = SentenceSplitter()
    sentences = [s for piece in pieces for s in splitter.feed(piece)]
    return sentences + splitter.flush()


if __name__ == "__main__":
    main()
