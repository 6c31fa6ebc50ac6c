"""Raters' choices back: unblinded with the key, the preference between the two variants with a 95 % interval,
and the raters' agreement (Krippendorff's alpha, nominal).

A rating file is the CSV the form saves (pair_id, rater, preference, comment) or pairs.csv filled in by hand;
`preference` is A, B or tie (empty: not rated). With the key each choice becomes the variant preferred or a tie.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from research.eval.stats import percentile_interval
from research.humaneval.agreement import krippendorff_alpha_nominal

CHOICES = {"a": "A", "b": "B", "tie": "tie", "same": "tie", "=": "tie"}


class RatingError(ValueError):
    """A rating file that cannot be read with this key; the message names the file and row."""


@dataclass(frozen=True)
class Rating:
    """One rater's choice for one pair: the winning variant's name, or "tie"."""

    pair_id: str
    rater: str
    outcome: str


@dataclass(frozen=True)
class Preference:
    """The comparison of `first` against `second` over the rated pairs."""

    first: str
    second: str
    pairs: int
    ratings: int
    raters: int
    first_wins: int
    second_wins: int
    ties: int
    preference: float | None  # the share of ratings preferring `first`, ties counting half
    low: float | None  # its 95 % bootstrap interval, resampling pairs
    high: float | None
    alpha: float | None  # Krippendorff's alpha (nominal) over pairs rated by two or more raters
    alpha_pairs: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return asdict(self)


def load_key(path: Path) -> dict[str, Any]:
    """The key written by `empathica humaneval export`."""
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as exc:
        raise RatingError(f"{path}: not a readable key file ({exc})") from None


def load_ratings(paths: list[Path], key: dict[str, Any]) -> list[Rating]:
    """Every rating in `paths`, unblinded with `key`; unrated rows are skipped."""
    pairs = {p["pair_id"]: p for p in key["pairs"]}
    ratings = []
    for path in paths:
        with path.open(encoding="utf-8", newline="") as file:
            for number, row in enumerate(csv.DictReader(file), start=2):
                choice = (row.get("preference") or "").strip().lower()
                if not choice:
                    continue
                pair = pairs.get((row.get("pair_id") or "").strip())
                if pair is None:
                    raise RatingError(f"{path}:{number}: pair {row.get('pair_id')!r} is not in the key")
                if choice not in CHOICES:
                    raise RatingError(f"{path}:{number}: preference {choice!r} is not A, B or tie")
                rater = (row.get("rater") or "").strip() or path.stem
                side = CHOICES[choice]
                outcome = pair["variant_a"] if side == "A" else pair["variant_b"] if side == "B" else "tie"
                ratings.append(Rating(pair["pair_id"], rater, outcome))
    return ratings


def preference(ratings: list[Rating], first: str, second: str, resamples: int = 2000, seed: int = 0) -> Preference:
    """How often `first` was preferred to `second` (ties half), resampling pairs for the interval."""
    by_pair: dict[str, list[str]] = defaultdict(list)
    for rating in ratings:
        by_pair[rating.pair_id].append(rating.outcome)
    scores = {
        p: [1.0 if o == first else 0.5 if o == "tie" else 0.0 for o in outcomes] for p, outcomes in by_pair.items()
    }
    ids = sorted(scores)
    total = [s for p in ids for s in scores[p]]
    value = float(np.mean(total)) if total else None
    samples = []
    if ids and resamples > 0:
        rng = np.random.default_rng(seed)
        sums = np.array([sum(scores[p]) for p in ids])
        counts = np.array([len(scores[p]) for p in ids])
        draws = rng.integers(0, len(ids), size=(resamples, len(ids)))
        samples = list(sums[draws].sum(axis=1) / counts[draws].sum(axis=1))
    low, high = percentile_interval(samples)
    multi = {p: outcomes for p, outcomes in by_pair.items() if len(outcomes) >= 2}
    return Preference(
        first=first,
        second=second,
        pairs=len(ids),
        ratings=len(total),
        raters=len({r.rater for r in ratings}),
        first_wins=sum(r.outcome == first for r in ratings),
        second_wins=sum(r.outcome == second for r in ratings),
        ties=sum(r.outcome == "tie" for r in ratings),
        preference=value,
        low=low,
        high=high,
        alpha=krippendorff_alpha_nominal(multi),
        alpha_pairs=len(multi),
    )


def summary_lines(result: Preference) -> list[str]:
    """The import's result in a few readable lines."""
    pct = "n/a" if result.preference is None else f"{result.preference:.0%}"
    interval = f" [{result.low:.0%}, {result.high:.0%}]" if result.low is not None and result.high is not None else ""
    alpha = "n/a" if result.alpha is None else f"{result.alpha:.3f}"
    r = result
    return [
        f"{r.first} vs {r.second}: {r.ratings} ratings of {r.pairs} pairs by {r.raters} rater(s)",
        f"  {r.first} preferred {r.first_wins}, {r.second} preferred {r.second_wins}, ties {r.ties}",
        f"  preference for {r.first} (ties half): {pct}{interval} (95 % bootstrap over pairs; 50 % = none)",
        f"  agreement, Krippendorff's alpha (nominal): {alpha} over {r.alpha_pairs} pairs rated by 2+ raters",
    ]
