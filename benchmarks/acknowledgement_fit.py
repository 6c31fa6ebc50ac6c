"""How often the first reaction (agent.acknowledgement) fits what the user felt, on real and on hand-written text.

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.acknowledgement_fit [--goemotions DIR/dev.tsv] [--limit N]
    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.acknowledgement_fit --choose DIR/train.tsv [--limit 8000]

Each message is read by the live perceiver (MiniLM + the shipped emotion model, as the server loads it; no earlier
turns), and the Acknowledger picks the first reaction as a chain-of-empathy turn does. A reaction for emotion E
fits when the raters gave the message one of FITS[E] (GoEmotions names); on the project's hand-written set
(agent/perception/data/emotion_dev.jsonl, always scored) when its label is E. Prints the share of messages that
get a reaction, the share of reactions that fit, per emotion, and the share of messages the raters called only
neutral that got one: as shipped, and without the confidence floors and the surprise cue rule (as before them).

`--choose` prints each emotion's MIN_CONFIDENCE chosen on a seeded sample of a training TSV (never the dev file
that is reported): the lowest probability (0.30-0.95 in 0.05 steps) at which at least 75 % of that emotion's
reactions fit, with at least 30 of them; "off" where none does.
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.acknowledgement import MIN_CONFIDENCE, Acknowledger
from agent.perception.evaluation import load_labelled
from agent.perception.goemotions import read_goemotions_raw
from agent.reply_emotion import effective_label
from compose.engines import load_encoder, load_perception

OWN_SET = Path(__file__).resolve().parents[1] / "agent" / "perception" / "data" / "emotion_dev.jsonl"
# Which GoEmotions labels each emotion's reaction suits ("Oh, I'm so sorry." suits grief and disappointment;
# "No wonder you're angry." suits anger and annoyance, not mere disagreement; "Oh, wow!" suits surprise and a
# sudden realization, not a question or puzzlement). A judgement, written once here.
FITS: dict[str, frozenset[str]] = {
    "joy": frozenset(
        {"joy", "excitement", "pride", "relief", "optimism", "love", "admiration", "gratitude", "amusement"}
    ),
    "sadness": frozenset({"sadness", "grief", "disappointment", "remorse", "embarrassment"}),
    "anger": frozenset({"anger", "annoyance"}),
    "fear": frozenset({"fear", "nervousness"}),
    "disgust": frozenset({"disgust"}),
    "surprise": frozenset({"surprise", "realization"}),
}
_TARGET_FIT = 0.75
_MIN_REACTIONS = 30
_GRID = [round(0.30 + 0.05 * i, 2) for i in range(14)]


@dataclass(frozen=True)
class Labelled:
    """A message, the emotions whose reaction fits it, and whether the raters called it only neutral."""

    text: str
    fitting: frozenset[str]
    only_neutral: bool = False


@dataclass(frozen=True)
class Candidate:
    """The reaction a message would get with no confidence floor and no cue rule: its emotion, the emotion's
    probability, whether the message has the cue the rule asks for, and whether the reaction fits."""

    emotion: str
    probability: float
    cued: bool
    fits: bool


@dataclass(frozen=True)
class Message:
    """One scored message: its candidate reaction (None: read as neutral) and whether it was only neutral."""

    candidate: Candidate | None
    only_neutral: bool


def read_messages(perception: Any, rows: Sequence[Labelled]) -> list[Message]:
    """Read each message with the live perceiver and keep what the floors and the cue rule decide on."""
    anything = Acknowledger(min_confidence={}, needs_cue=frozenset())
    cue_rule = Acknowledger(min_confidence={})
    messages = []
    for row in rows:
        user = perception.perceive(row.text, [])
        label = effective_label(user)
        candidate = None
        if anything.sure(user, row.text):
            candidate = Candidate(
                label, user.mixture.get(label, 0.0), cue_rule.sure(user, row.text), label in row.fitting
            )
        messages.append(Message(candidate, row.only_neutral))
    return messages


def goemotions_rows(path: Path, limit: int | None, seed: int = 0) -> list[Labelled]:
    """The messages of a GoEmotions TSV (a seeded sample of `limit` rows), with the reactions that fit each."""
    rows = read_goemotions_raw(path)
    if limit is not None and limit < len(rows):
        rows = random.Random(seed).sample(rows, limit)
    return [
        Labelled(text, frozenset(e for e, names in FITS.items() if names & set(labels)), set(labels) == {"neutral"})
        for text, labels in rows
    ]


def own_rows() -> list[Labelled]:
    """The hand-written set: a reaction fits when it is for the message's label."""
    return [Labelled(row.text, frozenset(row.labels), row.labels == ("neutral",)) for row in load_labelled(OWN_SET)]


def reacted(messages: Sequence[Message], floors: Mapping[str, float], cues: bool = True) -> list[Candidate]:
    """The reactions given under `floors`, with or without the cue rule."""
    return [
        m.candidate
        for m in messages
        if m.candidate is not None
        and (m.candidate.cued or not cues)
        and m.candidate.probability >= floors.get(m.candidate.emotion, 0.0)
    ]


def report(name: str, messages: Sequence[Message], floors: Mapping[str, float], cues: bool = True) -> None:
    """Print the reaction rate and fit, overall and per emotion."""
    given = reacted(messages, floors, cues)
    fit = sum(c.fits for c in given)
    neutral = [m for m in messages if m.only_neutral]
    neutral_hit = len(reacted(neutral, floors, cues))
    print(
        f"{name}: {len(given)} of {len(messages)} messages get a reaction ({len(given) / len(messages):.0%}); "
        f"{fit / max(len(given), 1):.0%} of them fit"
        + (f"; {neutral_hit / len(neutral):.0%} of the {len(neutral)} only-neutral messages get one" if neutral else "")
    )
    per = Counter(c.emotion for c in given)
    fits = Counter(c.emotion for c in given if c.fits)
    print("    fit per emotion: " + "  ".join(f"{e} {fits[e]}/{per[e]}" for e in FITS if per[e]))


def choose(messages: Sequence[Message]) -> dict[str, float | None]:
    """Each emotion's lowest floor on _GRID reaching _TARGET_FIT with _MIN_REACTIONS reactions (None: none)."""
    chosen: dict[str, float | None] = {}
    for emotion in FITS:
        chosen[emotion] = None
        for floor in _GRID:
            given = [c for c in reacted(messages, {}) if c.emotion == emotion and c.probability >= floor]
            if len(given) >= _MIN_REACTIONS and sum(c.fits for c in given) / len(given) >= _TARGET_FIT:
                chosen[emotion] = floor
                break
    return chosen


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--goemotions", type=Path, help="a GoEmotions-format TSV to report on (e.g. dev.tsv)")
    parser.add_argument("--choose", type=Path, help="a GoEmotions-format training TSV to choose the floors on")
    parser.add_argument("--limit", type=int, help="score a seeded sample of this many TSV rows")
    args = parser.parse_args(argv)
    perception = load_perception(None, load_encoder(None))
    if args.choose:
        messages = read_messages(perception, goemotions_rows(args.choose, args.limit))
        print(f"floors chosen on {len(messages)} messages of {args.choose}:")
        for emotion, floor in choose(messages).items():
            print(f"  {emotion}: {'off' if floor is None else floor}")
        return
    floors = dict(MIN_CONFIDENCE)
    sets = [("hand-written set", own_rows())]
    if args.goemotions:
        sets.append((str(args.goemotions), goemotions_rows(args.goemotions, args.limit)))
    for name, rows in sets:
        messages = read_messages(perception, rows)
        report(f"{name}, as shipped", messages, floors)
        report(f"{name}, without floors and cue rule (before)", messages, {}, cues=False)


if __name__ == "__main__":
    main()
