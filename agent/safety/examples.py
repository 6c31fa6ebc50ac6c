"""The crisis detector's labelled examples: the shipped hand-written lines and, as everyday negatives, real comments.

The hand-written lines (data/crisis_train.jsonl: text, label "none" or a category, and a kind such as idiom, plan,
third_person) are the project's own. Everyday negatives are a seeded sample of GoEmotions train comments (Reddit,
CC BY 4.0), read from where the user keeps the dataset and never copied into the repository: without them the
detector had only seen hand-written negatives and flagged 24 % of GoEmotions dev comments ("Every single time",
"Thank you for all of the tips") as a crisis. Comments that the rules or a crisis keyword flag are left out, so a
real crisis among them is not taught as ordinary.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from agent.safety.rules import SafetyRules
from agent.safety.semantic import LABELS
from core.jsonl import read_labelled_lines

EVERYDAY_SAMPLE = 3000  # GoEmotions train comments taken as everyday negatives
EVERYDAY_KIND = "goemotions"
# Comments with these words may be real crises: they are not taken as negatives (the rules drop more).
_CRISIS_WORDS = re.compile(
    r"suicid|kill (?:my|him|her|them)sel|\bkms\b|end (?:it|my life|things)|\b(?:want|wanna|going) to die|self.?harm|"
    r"\bcut(?:ting)? (?:my|me)|overdos|\babus|\brap(?:e|ed|ist)\b|molest|\b(?:hit|hits|beat|beats|hurt|hurts) me\b|"
    r"not breathing|can'?t breathe|heart attack|\bstroke\b|seizure|unconscious|bleeding|\bdead\b|\bdie\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class LabelledText:
    """One example: its text, label (none or a category) and an optional kind (idiom, plan, third_person ...)."""

    text: str
    label: str
    kind: str = ""


def load_labelled(path: Path) -> list[LabelledText]:
    """Read `{"text", "label"[, "kind"]}` JSON lines; labels must be "none" or a safety category."""
    examples = []
    for number, text, label, row in read_labelled_lines(path):
        example = LabelledText(text, label, str(row.get("kind", "")))
        if example.label not in LABELS:
            raise ValueError(f"{path}:{number}: label {example.label!r} is not one of {', '.join(LABELS)}")
        examples.append(example)
    return examples


def everyday_negatives(
    train_tsv: Path, count: int = EVERYDAY_SAMPLE, seed: int = 0, rules: SafetyRules | None = None
) -> list[LabelledText]:
    """A seeded sample of `count` GoEmotions comments as "none" examples, without any that look like a crisis."""
    from agent.perception.goemotions import read_goemotions_tsv

    rules = rules or SafetyRules()
    texts = sorted({row.text for row in read_goemotions_tsv(train_tsv)})
    random.Random(seed).shuffle(texts)
    calm = (t for t in texts if not _CRISIS_WORDS.search(t) and rules.match(t) is None)
    return [LabelledText(t, "none", EVERYDAY_KIND) for _, t in zip(range(count), calm, strict=False)]
