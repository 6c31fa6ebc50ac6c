"""The GoEmotions file format and its mapping to the seven basic emotions (labels only, no dataset text).

GoEmotions (Demszky et al. 2020, CC BY 4.0) labels Reddit comments with 27 emotions or neutral. Its TSV files have
no header and three tab-separated columns: the text, comma-separated label ids (0-27, in the order of
`GOEMOTIONS_LABELS`) and a comment id; some texts use CSV-style quoting. The authors' Ekman mapping groups the 27
emotions into six basic ones; neutral stays neutral, which gives exactly the seven `BASIC_EMOTIONS`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from core.emotion import BASIC_EMOTIONS

# The 28 label names in id order (the release's emotions.txt).
GOEMOTIONS_LABELS: tuple[str, ...] = (
    "admiration", "amusement", "anger", "annoyance", "approval", "caring", "confusion", "curiosity", "desire",
    "disappointment", "disapproval", "disgust", "embarrassment", "excitement", "fear", "gratitude", "grief", "joy",
    "love", "nervousness", "optimism", "pride", "realization", "relief", "remorse", "sadness", "surprise", "neutral",
)  # fmt: skip

# The authors' Ekman grouping (the release's ekman_mapping.json), plus neutral -> neutral.
_EKMAN_GROUPS: dict[str, tuple[str, ...]] = {
    "anger": ("anger", "annoyance", "disapproval"),
    "disgust": ("disgust",),
    "fear": ("fear", "nervousness"),
    "joy": (
        "joy", "amusement", "approval", "excitement", "gratitude", "love", "optimism", "relief", "pride",
        "admiration", "desire", "caring",
    ),
    "sadness": ("sadness", "disappointment", "embarrassment", "grief", "remorse"),
    "surprise": ("surprise", "realization", "confusion", "curiosity"),
    "neutral": ("neutral",),
}  # fmt: skip
TO_BASIC: dict[str, str] = {name: basic for basic, names in _EKMAN_GROUPS.items() for name in names}


@dataclass(frozen=True)
class LabelledText:
    """One utterance with the set of basic emotions its raters gave it (one or more)."""

    text: str
    labels: tuple[str, ...]  # basic emotions, in BASIC_EMOTIONS order, no repeats

    @property
    def single(self) -> str | None:
        """The one basic emotion when the raters' labels map to exactly one, else None."""
        return self.labels[0] if len(self.labels) == 1 else None


def raw_labels(id_field: str) -> tuple[str, ...]:
    """The GoEmotions label names of a label field such as "4,27" (approval, neutral)."""
    ids = [i.strip() for i in id_field.split(",")]
    if not all(i.isdigit() and int(i) < len(GOEMOTIONS_LABELS) for i in ids):
        raise ValueError(f"expected comma-separated label ids 0-{len(GOEMOTIONS_LABELS) - 1}, got {id_field!r}")
    return tuple(GOEMOTIONS_LABELS[int(i)] for i in ids)


def basic_labels(id_field: str) -> tuple[str, ...]:
    """The basic emotions of a GoEmotions label field such as "4,27" (approval, neutral -> joy, neutral)."""
    return to_basic(raw_labels(id_field))


def to_basic(names: tuple[str, ...]) -> tuple[str, ...]:
    """The basic emotions of GoEmotions label names, in BASIC_EMOTIONS order, no repeats."""
    basic = {TO_BASIC[name] for name in names}
    return tuple(label for label in BASIC_EMOTIONS if label in basic)


def read_goemotions_tsv(path: Path) -> list[LabelledText]:
    """Every row of a GoEmotions-format TSV (text, label ids, id), labels mapped to the basic emotions."""
    return [LabelledText(text, to_basic(names)) for text, names in read_goemotions_raw(path)]


def read_goemotions_raw(path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """Every row of a GoEmotions-format TSV as (text, its GoEmotions label names); ValueError names a bad row."""
    rows = []
    with open(path, encoding="utf-8", newline="") as fh:
        for number, fields in enumerate(csv.reader(fh, delimiter="\t"), start=1):
            if not fields:
                continue
            if len(fields) < 2:
                raise ValueError(f"{path}:{number}: expected text<TAB>label ids[<TAB>id], got {len(fields)} field(s)")
            try:
                rows.append((fields[0], raw_labels(fields[1])))
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: {exc}") from None
    return rows
