"""Reply craft per persona: do replies reflect the feeling and a concrete detail, stay short, and not lecture?

Each message of benchmarks/data/reply_craft.json opens a fresh conversation with each persona, answered as the
server answers it: the persona's responder from compose.engines (its prompt, lens and sentence limit), the mind's
turn (agent.mind: the persona's transition, the chain of empathy, the words read back by the text perceiver).
The message's gold emotion stands in for the perception of the user's words, so the figures measure the reply.
Every reply is judged by the written-down rubric in benchmarks/craft_rubric.py (tested in
tests/benchmarks/test_craft_rubric.py).

Printed per persona: detail reflected (target >= 80%), feeling named (non-neutral messages), lecturing (target
<= 5%), over-length (target 0%), the median reply length in words, and, on the neutral messages, the replies'
mean valence by VADER (compound, -1..1) and by the text perceiver (VAD valence). Then Kai's median length over
Mira's (target <= 60%) and Sunny's neutral-input valence beside the others'.

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.reply_craft [--personas mira,kai,sunny] [--limit 15]
        [--threads 2] [--verbose] [--out replies.json]
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from agent.empathy.schema import EmpathyPlan
from agent.mind import Conversation, Mind
from benchmarks.craft_rubric import CraftVerdict, judge
from compose.config import load_config
from compose.engines import load_llm, load_perception, load_reply_emotion, persona_spec, responder_loader
from core.emotion import EmotionState

DATA = Path(__file__).with_name("data") / "reply_craft.json"


@dataclass(frozen=True)
class Judged:
    """One persona's reply to one message, with the rubric's verdict and the reply's valence."""

    persona: str
    message: str
    emotion: str
    reply: str
    strategy: str
    source: str
    verdict: CraftVerdict
    vader: float
    valence: float


def load_messages(path: Path = DATA) -> list[dict[str, Any]]:
    """The benchmark's messages (see the data file's `about`)."""
    messages: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["messages"]
    return messages


def spread(messages: Sequence[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """`count` messages spread evenly over `messages` (every emotion gets a share in a short run); 0: all."""
    if count <= 0 or count >= len(messages):
        return list(messages)
    return [messages[i * len(messages) // count] for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--personas", default="mira,kai,sunny", help="comma-separated persona names")
    parser.add_argument("--limit", type=int, default=0, help="only N messages, spread evenly over the set (0: all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--verbose", action="store_true", help="print every reply")
    parser.add_argument("--out", type=Path, help="write every reply and verdict to this JSON file")
    args = parser.parse_args()

    messages = spread(load_messages(), args.limit)
    config = load_config()
    config.llm.threads = args.threads
    model = load_llm(config)
    perception = load_perception()
    vader = SentimentIntensityAnalyzer()
    gold = {m["text"]: EmotionState.from_label(m["emotion"], m["intensity"]) for m in messages}

    def perceive(text: str, context: Sequence[str] = ()) -> EmotionState:
        # The user's message reads as its gold emotion; the reply's sentences (agent.congruence) as perceived.
        return gold[text] if text in gold else perception.perceive(text, context)

    mind = Mind(perceive, load_reply_emotion(config), history_turns=config.server.history_turns)
    load = responder_loader(config, model)
    results: dict[str, list[Judged]] = {}
    timings: dict[str, float] = {}
    for name in [p.strip() for p in args.personas.split(",") if p.strip()]:
        spec = persona_spec(config, name)
        responder = load((spec.name, spec.prompt, spec.lens))
        limit = int(getattr(responder, "max_sentences", 3))
        judged: list[Judged] = []
        started = time.perf_counter()
        for message in messages:
            turn = mind.turn(responder, message["text"], Conversation(persona=spec.name).context())
            if turn.error:
                raise SystemExit(f"the model failed: {turn.error}")
            reply = turn.reply
            neutral = message["emotion"] == "neutral"
            verdict = judge(reply, message["details"], limit, neutral, bool(message.get("asks_advice")))
            plan = turn.plan
            item = Judged(
                persona=spec.name,
                message=message["id"],
                emotion=message["emotion"],
                reply=reply,
                strategy=plan.strategy if isinstance(plan, EmpathyPlan) else "-",
                source=turn.source,
                verdict=verdict,
                vader=vader.polarity_scores(reply)["compound"],
                valence=perception.perceive(reply, ()).vad.valence,
            )
            judged.append(item)
            print(_line(item), flush=True)
            if args.verbose:
                print(f"    {message['text']}\n    -> {reply}", flush=True)
        timings[spec.name] = (time.perf_counter() - started) / max(1, len(messages))
        results[spec.name] = judged
    model.close()

    print(f"\nsummary: {config.llm.model}, {len(messages)} messages, threads {args.threads}")
    for name, judged in results.items():
        print(_summary(name, judged, timings[name]))
    _compare(results)
    if args.out:
        items = [item for judged in results.values() for item in judged]
        rows = [asdict(item) | {"over_length": item.verdict.over_length} for item in items]
        args.out.write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")


def _line(item: Judged) -> str:
    v = item.verdict
    flags = [
        f"detail={v.detail_match or '-'}",
        f"feeling={v.feeling_match or '-'}",
        f"sentences={v.sentences}/{v.limit}",
        f"words={v.words}",
    ]
    if v.lecturing:
        flags.append(f"LECTURE[{v.lecture_match}]")
    return f"{item.persona:6} {item.message:22} {item.emotion:8} {item.strategy:18} {item.source:8} {' '.join(flags)}"


def _share(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else float("nan")


def median_words(judged: Sequence[Judged]) -> float:
    """The median reply length in words."""
    return statistics.median(item.verdict.words for item in judged) if judged else float("nan")


def _neutral_valence(judged: Sequence[Judged]) -> tuple[float, float, int]:
    neutral = [item for item in judged if item.emotion == "neutral"]
    if not neutral:
        return float("nan"), float("nan"), 0
    return statistics.fmean(i.vader for i in neutral), statistics.fmean(i.valence for i in neutral), len(neutral)


def _summary(name: str, judged: Sequence[Judged], seconds: float) -> str:
    verdicts = [item.verdict for item in judged]
    emotional = [v for v, item in zip(verdicts, judged, strict=True) if item.emotion != "neutral"]
    vader, valence, neutral = _neutral_valence(judged)
    strategies = collections.Counter(item.strategy for item in judged)
    mix = ", ".join(f"{key} {count}" for key, count in sorted(strategies.items()))
    sources = collections.Counter(item.source for item in judged)
    return (
        f"  {name:6} limit {verdicts[0].limit if verdicts else '-'} sentences, {len(judged)} replies, "
        f"{seconds:.1f} s/reply\n"
        f"    detail reflected  {_share([v.detail for v in verdicts]):6.1%}  (target >= 80%)\n"
        f"    feeling named     {_share([v.feeling for v in emotional]):6.1%}  ({len(emotional)} non-neutral)\n"
        f"    lecturing         {_share([v.lecturing for v in verdicts]):6.1%}  (target <= 5%)\n"
        f"    over-length       {_share([v.over_length for v in verdicts]):6.1%}  (target 0%)\n"
        f"    median words      {median_words(judged):6.1f}\n"
        f"    neutral-input valence: VADER {vader:+.3f}, perceiver {valence:+.3f} ({neutral} replies)\n"
        f"    strategies: {mix}; sources: {', '.join(f'{k} {n}' for k, n in sorted(sources.items()))}"
    )


def _compare(results: dict[str, list[Judged]]) -> None:
    by_name = {name.lower(): judged for name, judged in results.items()}
    if "kai" in by_name and "mira" in by_name:
        kai, mira = median_words(by_name["kai"]), median_words(by_name["mira"])
        print(f"  Kai / Mira median reply length: {kai:.1f} / {mira:.1f} words = {kai / mira:.0%}  (target <= 60%)")
    if "sunny" in by_name:
        rows = []
        for name, judged in by_name.items():
            vader, valence, _ = _neutral_valence(judged)
            rows.append(f"{name} VADER {vader:+.3f} / perceiver {valence:+.3f}")
        print(f"  neutral-input valence (Sunny should lean positive): {'; '.join(rows)}")


if __name__ == "__main__":
    main()
