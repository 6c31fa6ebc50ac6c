"""Reply craft per persona: do replies reflect the feeling and a concrete detail, stay short, and not lecture?

Each message of benchmarks/data/reply_craft.json opens a fresh conversation with each persona, answered as the
server answers it: the persona's responder from compose.engines (its prompt, lens and sentence limit), the mind's
turn (agent.mind: the persona's transition, the chain of empathy, the words read back by the text perceiver).
The message's gold emotion stands in for the perception of the user's words, so the figures measure the reply,
which opens with the first reaction (agent.acknowledgement) where the server's would (`empathy.acknowledge`).
Every reply is judged by the written-down rubric in benchmarks/craft_rubric.py (tested in
tests/benchmarks/test_craft_rubric.py).

Printed per persona: detail reflected (target >= 80%), feeling named (non-neutral messages), lecturing (target
<= 5%; beside it, how often the model's words held a lecturing sentence that the chain's guard,
agent/empathy/lecture.py, did not speak), over-length (target 0%), the median reply length in words, and, on
the neutral messages, the replies' mean valence by VADER (compound, -1..1) and by the text perceiver (VAD
valence). Then Kai's median length over Mira's (target <= 60%) and Sunny's neutral-input valence beside the
others'.

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.reply_craft [--personas mira,kai,sunny] [--limit 15]
        [--emotions neutral]
        [--threads 2] [--verbose] [--out replies.jsonl]
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from agent.empathy.schema import EmpathyPlan
from agent.mind import Conversation, Mind
from benchmarks.craft_rubric import CraftVerdict, judge
from compose.config import load_config
from compose.engines import (
    load_acknowledger,
    load_llm,
    load_perception,
    load_reply_emotion,
    persona_spec,
    responder_loader,
)
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
    seconds: float
    unsaid: list[str] = field(default_factory=list)  # lecturing sentences the chain's guard did not speak
    reasoning: str = ""  # the chain's plan: full, settled (after a first reaction) or compact (agent.empathy.schema)


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
    parser.add_argument("--emotions", default="", help="only messages of these comma-separated gold emotions")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--verbose", action="store_true", help="print every reply")
    parser.add_argument(
        "--out",
        type=Path,
        help="a JSON-lines file of every reply and verdict, written as they come; replies "
        "already in it (same persona and message) are reused, so a run cut short continues where it stopped",
    )
    args = parser.parse_args()

    wanted = {e.strip() for e in args.emotions.split(",") if e.strip()}
    messages = spread([m for m in load_messages() if not wanted or m["emotion"] in wanted], args.limit)
    names = [p.strip() for p in args.personas.split(",") if p.strip()]
    done = read_results(args.out) if args.out and args.out.exists() else {}
    config = load_config()
    config.llm.threads = args.threads
    results: dict[str, list[Judged]] = {}
    replier: _Replier | None = None
    for name in names:
        spec = persona_spec(config, name)
        judged: list[Judged] = []
        for message in messages:
            item = done.get((spec.name, message["id"]))
            if item is None:
                replier = replier or _Replier(config, messages)
                item = replier.answer(spec.name, spec.prompt, spec.lens, message)
                if args.out:
                    with args.out.open("a", encoding="utf-8") as out:
                        out.write(json.dumps(asdict(item), ensure_ascii=False) + "\n")
                print(_line(item), flush=True)
                if args.verbose:
                    print(f"    {message['text']}\n    -> {item.reply}", flush=True)
            judged.append(item)
        results[spec.name] = judged
    if replier is not None:
        replier.close()

    print(f"\nsummary: {config.llm.model}, {len(messages)} messages, threads {args.threads}")
    for name, judged in results.items():
        print(_summary(name, judged))
    _compare(results)


class _Replier:
    """The model, the perceiver and the mind, loaded on first need (a finished --out file needs none)."""

    def __init__(self, config: Any, messages: Sequence[dict[str, Any]]) -> None:
        self.config = config
        self.model = load_llm(config)
        self.perception = load_perception()
        self.vader = SentimentIntensityAnalyzer()
        gold = {m["text"]: EmotionState.from_label(m["emotion"], m["intensity"]) for m in messages}

        def perceive(text: str, context: Sequence[str] = ()) -> EmotionState:
            # The user's message reads as its gold emotion; the reply's sentences (agent.congruence) as perceived.
            return gold[text] if text in gold else self.perception.perceive(text, context)

        self.mind = Mind(
            perceive,
            load_reply_emotion(config),
            history_turns=config.server.history_turns,
            acknowledge=load_acknowledger(config),
        )
        self.load = responder_loader(config, self.model)
        self.responders: dict[tuple[str, str, str], Any] = {}
        self.turns: list[Any] = []  # the chain's turns of the current reply (to read what its guard held back)

    def answer(self, name: str, prompt: str, lens: str, message: dict[str, Any]) -> Judged:
        """Persona `name`'s reply to `message` in a fresh conversation, judged."""
        key = (name, prompt, lens)
        if key not in self.responders:
            self.responders[key] = self._recording(self.load(key))
        responder = self.responders[key]
        self.turns.clear()
        started = time.perf_counter()
        turn = self.mind.turn(responder, message["text"], Conversation(persona=name).context())
        if turn.error:
            raise SystemExit(f"the model failed: {turn.error}")
        reply, plan = turn.reply, turn.plan
        limit = responder.max_sentences
        neutral = message["emotion"] == "neutral"
        return Judged(
            persona=name,
            message=message["id"],
            emotion=message["emotion"],
            reply=reply,
            strategy=plan.strategy if isinstance(plan, EmpathyPlan) else "-",
            source=turn.source,
            verdict=judge(reply, message["details"], limit, neutral, bool(message.get("asks_advice"))),
            vader=self.vader.polarity_scores(reply)["compound"],
            valence=self.perception.perceive(reply, ()).vad.valence,
            seconds=time.perf_counter() - started,
            unsaid=[sentence for t in self.turns for sentence in getattr(t, "unsaid", [])],
            reasoning=plan.reasoning if isinstance(plan, EmpathyPlan) else "",
        )

    def _recording(self, responder: Any) -> Any:
        """`responder`, its chain turns recorded in `self.turns` (a plain responder has none)."""
        original = getattr(responder, "turn", None)
        if original is not None:

            def turn(*args: Any, **kwargs: Any) -> Any:
                made = original(*args, **kwargs)
                self.turns.append(made)
                return made

            responder.turn = turn
        return responder

    def close(self) -> None:
        self.model.close()


def read_results(path: Path) -> dict[tuple[str, str], Judged]:
    """The replies of an --out file, by (persona, message id)."""
    items: dict[tuple[str, str], Judged] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            item = Judged(**(row | {"verdict": CraftVerdict(**row["verdict"])}))
            items[(item.persona, item.message)] = item
    return items


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
    plan = f"{item.source}/{item.reasoning}" if item.reasoning else item.source
    return f"{item.persona:6} {item.message:22} {item.emotion:8} {item.strategy:18} {plan:16} {' '.join(flags)}"


def _share(flags: Sequence[bool]) -> str:
    """The share of true flags as a percentage, "n/a" when there are none to count."""
    return f"{sum(flags) / len(flags):6.1%}" if flags else "   n/a"


def median_words(judged: Sequence[Judged]) -> float:
    """The median reply length in words."""
    return statistics.median(item.verdict.words for item in judged) if judged else float("nan")


def _neutral_valence(judged: Sequence[Judged]) -> tuple[float, float, int]:
    neutral = [item for item in judged if item.emotion == "neutral"]
    if not neutral:
        return float("nan"), float("nan"), 0
    return statistics.fmean(i.vader for i in neutral), statistics.fmean(i.valence for i in neutral), len(neutral)


def _summary(name: str, judged: Sequence[Judged]) -> str:
    verdicts = [item.verdict for item in judged]
    emotional = [v for v, item in zip(verdicts, judged, strict=True) if item.emotion != "neutral"]
    vader, valence, neutral = _neutral_valence(judged)
    strategies = collections.Counter(item.strategy for item in judged)
    mix = ", ".join(f"{key} {count}" for key, count in sorted(strategies.items()))
    sources = collections.Counter(item.source for item in judged)
    return (
        f"  {name:6} limit {verdicts[0].limit if verdicts else '-'} sentences, {len(judged)} replies, "
        f"median {statistics.median(i.seconds for i in judged) if judged else float('nan'):.0f} s/reply\n"
        f"    detail reflected  {_share([v.detail for v in verdicts])}  (target >= 80%)\n"
        f"    feeling named     {_share([v.feeling for v in emotional])}  ({len(emotional)} non-neutral)\n"
        f"    lecturing         {_share([v.lecturing for v in verdicts])}  (target <= 5%; the model "
        f"lectured in {_share([bool(i.unsaid) for i in judged]).strip()} of replies before the chain's guard)\n"
        f"    over-length       {_share([v.over_length for v in verdicts])}  (target 0%)\n"
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
