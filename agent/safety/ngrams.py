"""Hashed word and character n-grams: the spelling-level features beside the sentence embedding.

Why: a mean-pooled sentence embedding blurs the few words that decide a crisis ("pills", "bruises", "on
purpose") into the topic, and it does not know slang or misspellings ("kms", "tonite", "sucide"). Word uni- and
bigrams carry the deciding words, character 3-5-grams carry their misspelt and inflected forms. Features are
hashed (CRC-32) into a fixed width, so no vocabulary has to be shipped, and log-scaled then L2-normalised.
"""

from __future__ import annotations

import itertools
import re
import zlib

import numpy as np
import numpy.typing as npt

NGRAM_DIMENSION = 2**14
_WORDS = re.compile(r"[a-z0-9]+")


def ngram_keys(text: str) -> list[str]:
    """The n-gram features of `text`: words, word pairs and character 3-, 4- and 5-grams of the word sequence."""
    words = _WORDS.findall(text.lower().replace("’", "").replace("'", ""))
    keys = [f"w:{w}" for w in words] + [f"b:{a}_{b}" for a, b in itertools.pairwise(words)]
    padded = f" {' '.join(words)} "
    for n in (3, 4, 5):
        keys += [f"c{n}:{padded[i : i + n]}" for i in range(len(padded) - n + 1)]
    return keys


def ngram_features(texts: list[str], dimension: int = NGRAM_DIMENSION) -> npt.NDArray[np.float32]:
    """One unit-length row of hashed, log-scaled n-gram counts per text (float32, shape (len(texts), dimension))."""
    rows = np.zeros((len(texts), dimension), dtype=np.float32)
    for row, text in enumerate(texts):
        for key in ngram_keys(text):
            rows[row, zlib.crc32(key.encode("utf-8")) % dimension] += 1.0
    rows = np.log1p(rows)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.asarray(rows / np.maximum(norms, 1e-9), dtype=np.float32)
