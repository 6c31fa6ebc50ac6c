"""Phoneme timelines for lip-sync: turn a TTS engine's per-symbol sample counts into clean `Phoneme`s.

Engines emit espeak-style IPA tokens: sounds, but also stress marks, length marks, word spaces, punctuation and
sentence start/end markers. The avatar maps every `Phoneme.symbol` to a mouth shape, so the timeline keeps
only sounds and pauses (`PAUSE`), never loses a sample (it stays contiguous and covers the audio exactly), and
has no zero-length entries:

- sentence markers and punctuation become `PAUSE`; neighbouring pauses merge;
- stress marks precede the syllable they stress, so their time goes to the next sound;
- length marks and other modifiers join the previous sound ("u" + "ː" -> "uː");
- a space between two sounds is split between them (words run together in speech); next to a pause it
  joins the pause.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from core.media import Phoneme

PAUSE = "_"
_SENTENCE_MARKERS = frozenset({"^", "$", "_"})
_STRESS_MARKS = frozenset({"ˈ", "ˌ", "↑", "↓", "|", "‖"})
_MODIFIER_CATEGORIES = frozenset({"Lm", "Mn", "Sk", "Nd"})

# Typical durations in seconds for the fallback estimate: vowels are longer than consonants, punctuation pauses.
_VOWELS = frozenset("aeiouyæøœɐɑɒɔəɘɚɛɜɝɞɤɨɪɯɵɶʉʊʌʏᵻ")
_VOWEL_S, _CONSONANT_S, _SPACE_S, _MODIFIER_S, _MARKER_S = 0.09, 0.065, 0.02, 0.05, 0.06
_PUNCTUATION_S = {",": 0.2, ";": 0.25, ":": 0.25, ".": 0.3, "!": 0.3, "?": 0.3}
_OTHER_PUNCTUATION_S = 0.15


def _kind(symbol: str) -> str:
    if symbol in _SENTENCE_MARKERS:
        return "pause"
    if symbol in _STRESS_MARKS:
        return "stress"
    if symbol.isspace():
        return "space"
    categories = {unicodedata.category(ch) for ch in symbol}
    if categories and all(c.startswith("P") for c in categories):
        return "pause"
    if categories <= _MODIFIER_CATEGORIES:
        return "modifier"
    return "sound"


@dataclass
class _Piece:
    """A timeline entry being built: its symbol, its samples, and whether it is a pause."""

    symbol: str
    samples: int
    pause: bool


def clean_alignment(segments: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """Fold non-sound tokens of (symbol, samples) pairs into sounds and pauses (see the module docstring).

    The result has the same total number of samples, only sound symbols and `PAUSE`, and no zero-length entries.
    """
    kinds = [_kind(symbol) for symbol, _ in segments]
    out: list[_Piece] = []
    carry = 0  # samples owed to the next sound or pause
    for i, ((symbol, samples), kind) in enumerate(zip(segments, kinds, strict=True)):
        if kind == "stress":
            carry += samples
        elif kind == "modifier":
            if out and not out[-1].pause:
                out[-1].symbol += symbol
                out[-1].samples += samples
            else:
                carry += samples
        elif kind == "space":
            next_kind = next((k for k in kinds[i + 1 :] if k not in ("stress", "space")), "pause")
            if out and out[-1].pause:
                out[-1].samples += samples
            elif not out or next_kind == "pause":
                carry += samples
            else:
                half = samples // 2
                out[-1].samples += half
                carry += samples - half
        elif kind == "pause":
            if out and out[-1].pause:
                out[-1].samples += samples + carry
            else:
                out.append(_Piece(PAUSE, samples + carry, True))
            carry = 0
        else:
            out.append(_Piece(symbol, samples + carry, False))
            carry = 0
    if carry:
        if out:
            out[-1].samples += carry
        else:
            out.append(_Piece(PAUSE, carry, True))
    return [(piece.symbol, piece.samples) for piece in out if piece.samples > 0]


def estimate_alignment(symbols: Sequence[str], num_samples: int) -> list[tuple[str, int]]:
    """Spread `num_samples` over `symbols` by typical durations: a fallback for engines without durations.

    `symbols` should include the sentence start and end markers ("^", "$") so leading and trailing silence
    gets a share. The counts sum to `num_samples` exactly.
    """
    if not symbols:
        return [(PAUSE, num_samples)] if num_samples else []
    weights = [_typical_duration(symbol) for symbol in symbols]
    total = sum(weights)
    counts, cumulative, allocated = [], 0.0, 0
    for weight in weights:
        cumulative += weight
        end = round(num_samples * cumulative / total)
        counts.append(end - allocated)
        allocated = end
    return list(zip(symbols, counts, strict=True))


def _typical_duration(symbol: str) -> float:
    kind = _kind(symbol)
    if kind == "pause":
        return _MARKER_S if symbol in _SENTENCE_MARKERS else _PUNCTUATION_S.get(symbol, _OTHER_PUNCTUATION_S)
    if kind == "stress":
        return 0.0
    if kind == "space":
        return _SPACE_S
    if kind == "modifier":
        return _MODIFIER_S
    return _VOWEL_S if symbol[0] in _VOWELS else _CONSONANT_S


def to_phonemes(segments: Sequence[tuple[str, int]], sample_rate: int, start_sample: int = 0) -> list[Phoneme]:
    """Contiguous `Phoneme`s for (symbol, samples) pairs, starting at `start_sample` of the audio."""
    phonemes, position = [], start_sample
    for symbol, samples in segments:
        phonemes.append(Phoneme(symbol, position / sample_rate, (position + samples) / sample_rate))
        position += samples
    return phonemes
