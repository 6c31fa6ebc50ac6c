"""Blinded, randomised A/B pairs from an eval report: two variants' replies to the same user turn.

A pair is one user turn (dialogue, turn, seed) that both variants answered: the rater sees the user's messages
so far and the two replies as "A" and "B", never the variants' names. Which variant is A is drawn per pair from a
seeded random generator, and the pairs are shuffled; the key (pair -> which variant is A) goes in a separate file
the raters never see. Turns answered by the safety script and turns where both replies are the same word for
word are left out (they cannot tell the variants apart).
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


class PairError(ValueError):
    """The pairs cannot be built (unknown variant, nothing to compare); the message says what to do."""


@dataclass(frozen=True)
class Pair:
    """One blinded comparison: the context, replies A and B, and (in the key only) where they came from."""

    pair_id: str
    dialogue_id: str
    turn: int
    seed: int | None
    context: list[str]  # the user's messages so far, oldest first; the last is the one being answered
    reply_a: str
    reply_b: str
    variant_a: str
    variant_b: str

    def blinded(self) -> dict[str, Any]:
        """What a rater may see."""
        return {"pair_id": self.pair_id, "context": self.context, "reply_a": self.reply_a, "reply_b": self.reply_b}


def build_pairs(report: dict[str, Any], first: str, second: str, seed: int = 0, max_pairs: int = 0) -> list[Pair]:
    """The pairs comparing variants `first` and `second` of a report.json, shuffled and A/B-randomised."""
    variants = {v["variant"]: v for v in report.get("variants", [])}
    for name in (first, second):
        if name not in variants:
            raise PairError(f"the report has no variant {name!r}; it has {', '.join(variants) or 'none'}")
    if first == second:
        raise PairError("compare two different variants")
    left, right = _turns(variants[first]), _turns(variants[second])
    rng = random.Random(seed)
    pairs = []
    # Walk the side that ran with seeds; a side without an LLM ran once (seed null) and answers for every seed.
    keys = list(left) if any(k[2] is not None for k in left) else list(right)
    for key in keys:
        a, b = _match(left, key), _match(right, key)
        if a is None or b is None:
            continue
        if a["source"] == "safety" or b["source"] == "safety" or a["reply"].strip() == b["reply"].strip():
            continue
        if not a["reply"].strip() or not b["reply"].strip():
            continue
        swap = rng.random() < 0.5
        (va, ra), (vb, rb) = ((second, b), (first, a)) if swap else ((first, a), (second, b))
        dialogue_id, turn, run_seed = key
        pairs.append((dialogue_id, turn, run_seed, a["context"], ra["reply"], rb["reply"], va, vb))
    rng.shuffle(pairs)
    if max_pairs > 0:
        pairs = pairs[:max_pairs]
    if not pairs:
        raise PairError(f"{first} and {second} have no turns to compare (no common turns with different replies)")
    return [Pair(f"p{i + 1:03d}", *fields) for i, fields in enumerate(pairs)]


def _match(turns: dict[tuple[str, int, int | None], dict[str, Any]], key: tuple[str, int, int | None]) -> Any:
    return turns.get(key) or turns.get((key[0], key[1], None))


def _turns(variant: dict[str, Any]) -> dict[tuple[str, int, int | None], dict[str, Any]]:
    """Each turn of a variant by (dialogue, turn, seed), with the user's messages up to it as `context`.

    A baseline without an LLM ran once (seed null); it is matched to every seed of the other variant."""
    out: dict[tuple[str, int, int | None], dict[str, Any]] = {}
    for result in variant.get("results", []):
        said: list[str] = []
        for turn in result["turns"]:
            said.append(turn["user_text"])
            out[(result["id"], turn["index"], result.get("seed"))] = {**turn, "context": list(said)}
    return out


def write_pairs(out: Path, pairs: list[Pair], source: str, seed: int, first: str, second: str) -> dict[str, Path]:
    """Write the raters' files (form.html, pairs.csv) and the researcher's key (key.json) into `out`."""
    import csv

    from research.humaneval.form import render_form

    out.mkdir(parents=True, exist_ok=True)
    files = {"form": out / "form.html", "csv": out / "pairs.csv", "key": out / "key.json"}
    files["form"].write_text(render_form([p.blinded() for p in pairs]), encoding="utf-8")
    with files["csv"].open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["pair_id", "context", "reply_a", "reply_b", "rater", "preference", "comment"])
        for p in pairs:
            writer.writerow([p.pair_id, "\n".join(p.context), p.reply_a, p.reply_b, "", "", ""])
    key = {"source": source, "seed": seed, "first": first, "second": second, "pairs": [asdict(p) for p in pairs]}
    files["key"].write_text(json.dumps(key, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return files
