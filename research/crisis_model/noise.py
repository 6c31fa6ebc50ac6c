"""Chat-style noise for training lines: how people actually type a message to a kiosk or a chat window.

The hand-written crisis lines are mostly well spelled and punctuated; users write "im gonna end it tonite", drop
apostrophes and capitals, and mistype. A noisy copy of each line (same label) teaches the detector that the words
decide, not their spelling. Seeded: the same line and seed always give the same copy.
"""

from __future__ import annotations

import random
import re

# Whole-word (or phrase) replacements people use in chat, each applied with probability _SWAP.
_SLANG: tuple[tuple[str, str], ...] = (
    (r"\byou\b", "u"),
    (r"\byour\b", "ur"),
    (r"\byou're\b", "ur"),
    (r"\bgoing to\b", "gonna"),
    (r"\bwant to\b", "wanna"),
    (r"\bgot to\b", "gotta"),
    (r"\btonight\b", "tonite"),
    (r"\bbecause\b", "cuz"),
    (r"\bI am\b", "im"),
    (r"\bI'm\b", "im"),
    (r"\bokay\b", "ok"),
    (r"\bpeople\b", "ppl"),
    (r"\bthough\b", "tho"),
    (r"\bplease\b", "pls"),
    (r"\breally\b", "rly"),
    (r"\bsomething\b", "smth"),
    (r"\bdon't know\b", "dunno"),
    (r"\bto be honest\b", "tbh"),
)
_SWAP = 0.5
_LOWER = 0.6  # all lower case
_NO_APOSTROPHES = 0.6  # "don't" -> "dont"
_NO_FINAL_STOP = 0.5
_TYPO = 0.4  # one mistyped word (two letters swapped or one dropped)


def noisy(text: str, seed: int = 0) -> str:
    """`text` as typed in a hurry: slang, lower case, no apostrophes or final stop, maybe one typo."""
    rng = random.Random(f"{seed}:{text}")
    out = text
    for pattern, replacement in _SLANG:
        if rng.random() < _SWAP:
            out = re.sub(pattern, replacement, out, flags=re.IGNORECASE)
    if rng.random() < _LOWER:
        out = out.lower()
    if rng.random() < _NO_APOSTROPHES:
        out = out.replace("'", "").replace("\u2019", "")
    if rng.random() < _NO_FINAL_STOP:
        out = out.rstrip(".!")
    if rng.random() < _TYPO:
        out = _typo(out, rng)
    return out


def _typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    word = words[i]
    k = rng.randrange(1, len(word) - 2)
    words[i] = word[:k] + word[k + 1] + word[k] + word[k + 2 :] if rng.random() < 0.5 else word[:k] + word[k + 1 :]
    return " ".join(words)
