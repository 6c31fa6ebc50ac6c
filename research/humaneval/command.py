"""`empathica humaneval export|import`: blinded A/B pairs for raters, and their ratings back (docs/research.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from research.humaneval.pairs import PairError, build_pairs, write_pairs
from research.humaneval.ratings import RatingError, load_key, load_ratings, preference, summary_lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `humaneval` subcommand's arguments."""
    actions = parser.add_subparsers(dest="humaneval_command", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="blinded, randomised A/B pairs of two variants' replies for raters")
    export.add_argument("report", type=Path, help="a report.json written by `empathica eval`")
    export.add_argument("--a", required=True, dest="first", help="one variant of the report, e.g. mira-person_centred")
    export.add_argument("--b", required=True, dest="second", help="the other, e.g. mira-no-chain")
    export.add_argument("--out", type=Path, required=True, help="the folder for form.html, pairs.csv and key.json")
    export.add_argument("--seed", type=int, default=0, help="seed of the A/B assignment and the order (default 0)")
    export.add_argument("--max-pairs", type=int, default=0, help="at most N pairs (0: all)")
    ratings = actions.add_parser("import", help="the raters' choices: preference with an interval, agreement")
    ratings.add_argument("key", type=Path, help="the key.json written by `humaneval export`")
    ratings.add_argument("ratings", type=Path, nargs="+", help="the rating CSV files (the form's, or pairs.csv)")
    ratings.add_argument("--out", type=Path, help="also write the result as JSON to this file")


def run_humaneval(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run `humaneval export` or `humaneval import`; exit code 2 with a message for bad input."""
    out = out or sys.stdout
    try:
        if args.humaneval_command == "export":
            return _export(args, out)
        return _import(args, out)
    except (PairError, RatingError, OSError, json.JSONDecodeError, KeyError) as exc:
        print(f"empathica humaneval: {exc}", file=sys.stderr)
        return 2


def _export(args: argparse.Namespace, out: TextIO) -> int:
    report = json.loads(args.report.read_text(encoding="utf-8"))
    pairs = build_pairs(report, args.first, args.second, seed=args.seed, max_pairs=args.max_pairs)
    files = write_pairs(args.out, pairs, str(args.report), args.seed, args.first, args.second)
    print(
        f"[humaneval] {len(pairs)} pairs of {args.first} and {args.second}: give raters {files['form']} (or "
        f"{files['csv']}); keep {files['key']} to yourself",
        file=out,
    )
    return 0


def _import(args: argparse.Namespace, out: TextIO) -> int:
    key = load_key(args.key)
    ratings = load_ratings(list(args.ratings), key)
    result = preference(ratings, key["first"], key["second"])
    for line in summary_lines(result):
        print(line, file=out)
    if args.out:
        args.out.write_text(json.dumps(result.to_dict(), indent=1) + "\n", encoding="utf-8")
    return 0
