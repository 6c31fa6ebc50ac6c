"""From IPA phonemes to Oculus visemes to mouth shapes, sampled at video frame times.

Blend each viseme over ~60-120 ms with its onset ~30 ms before the phoneme, and never smooth away
the lip closure of p/b/m.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from avatar.arrays import Floats
from core.media import Phoneme

VISEMES: tuple[str, ...] = ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou")

# Columns of a mouth track.
JAW_OPEN, LIP_WIDTH, LIP_ROUND, LIP_CLOSED = 0, 1, 2, 3
MOUTH_PARAMS: tuple[str, ...] = ("jaw_open", "lip_width", "lip_round", "lip_closed")


@dataclass(frozen=True)
class MouthShape:
    """Mouth pose, each in [0, 1]: jaw opening, lip stretch (corners out), rounding (pucker), lips pressed shut."""

    jaw_open: float = 0.0
    lip_width: float = 0.0
    lip_round: float = 0.0
    lip_closed: float = 0.0

    def as_array(self) -> Floats:
        return np.array([self.jaw_open, self.lip_width, self.lip_round, self.lip_closed], np.float32)


# Hand-set poses per viseme, after the Oculus reference images.
VISEME_SHAPES: dict[str, MouthShape] = {
    "sil": MouthShape(0.0, 0.0, 0.0, 0.6),
    "PP": MouthShape(0.0, 0.05, 0.1, 1.0),
    "FF": MouthShape(0.12, 0.2, 0.0, 0.3),
    "TH": MouthShape(0.22, 0.15, 0.0, 0.0),
    "DD": MouthShape(0.25, 0.2, 0.0, 0.0),
    "kk": MouthShape(0.3, 0.15, 0.0, 0.0),
    "CH": MouthShape(0.22, 0.0, 0.5, 0.0),
    "SS": MouthShape(0.12, 0.35, 0.0, 0.0),
    "nn": MouthShape(0.2, 0.15, 0.0, 0.0),
    "RR": MouthShape(0.22, 0.0, 0.45, 0.0),
    "aa": MouthShape(0.75, 0.15, 0.0, 0.0),
    "E": MouthShape(0.5, 0.45, 0.0, 0.0),
    "ih": MouthShape(0.35, 0.4, 0.0, 0.0),
    "oh": MouthShape(0.6, 0.0, 0.65, 0.0),
    "ou": MouthShape(0.3, 0.0, 0.9, 0.0),
}
_SHAPE_TABLE = np.stack([VISEME_SHAPES[v].as_array() for v in VISEMES])

# IPA (as espeak-ng/piper emit it) -> viseme. Vowels map by quality; diphthongs are split by the caller's timeline
# or, when a symbol carries two vowels (e.g. "aɪ"), take their first character's viseme.
_PHONEME_VISEME: dict[str, str] = {
    # bilabials: lips shut
    "p": "PP", "b": "PP", "m": "PP", "ɱ": "FF",
    # labiodentals
    "f": "FF", "v": "FF",
    # dentals
    "θ": "TH", "ð": "TH",
    # alveolar stops / taps
    "t": "DD", "d": "DD", "ɾ": "DD", "ʔ": "DD", "ᵻ": "ih",
    # velars
    "k": "kk", "g": "kk", "ɡ": "kk", "ŋ": "kk", "x": "kk", "h": "kk", "ɣ": "kk", "q": "kk", "c": "kk", "ɟ": "kk",
    # postalveolars and affricates
    "ʃ": "CH", "ʒ": "CH", "tʃ": "CH", "dʒ": "CH", "ʧ": "CH", "ʤ": "CH", "ç": "CH", "j": "ih",
    # sibilants
    "s": "SS", "z": "SS",
    # nasals and laterals
    "n": "nn", "l": "nn", "ɫ": "nn", "ɲ": "nn", "ʎ": "nn", "ɬ": "nn", "n̩": "nn", "l̩": "nn",
    # rhotics
    "ɹ": "RR", "r": "RR", "ʁ": "RR", "ɻ": "RR", "ɚ": "RR", "ɝ": "RR", "ʀ": "RR",
    # labial-velar glide: rounded
    "w": "ou", "ʍ": "ou", "ɥ": "ou",
    # open vowels
    "a": "aa", "ɑ": "aa", "ɐ": "aa", "ɒ": "oh", "æ": "aa", "ʌ": "aa", "ä": "aa",
    # front / mid vowels
    "e": "E", "ɛ": "E", "œ": "E", "ə": "E", "ɜ": "E", "ø": "E",
    # close front vowels
    "i": "ih", "ɪ": "ih", "y": "ou", "ɨ": "ih", "ʏ": "ou",
    # back rounded vowels
    "o": "oh", "ɔ": "oh", "u": "ou", "ʊ": "ou", "ɯ": "ou", "ɵ": "oh", "ɤ": "oh",
}  # fmt: skip
# Marks that change nothing about the mouth: stress, length, syllable and tie marks.
_IGNORED = set("ˈˌːˑ.‿̩̯̃͡ ")
_SILENCE = {"_", "", "#", "^", "$", "sil", "sp", "pau", " ", ",", ".", "!", "?", ";", ":", "-"}

# Timing: viseme onsets lead the audio by ~30 ms; each blends in over ~80 ms.
ONSET_LEAD_S = 0.03
BLEND_S = 0.08


def viseme_of(symbol: str) -> str:
    """The Oculus viseme for one IPA phoneme as espeak-ng/piper emit it ("_" and punctuation are silence)."""
    if symbol in _SILENCE:
        return "sil"
    if symbol in _PHONEME_VISEME:
        return _PHONEME_VISEME[symbol]
    stripped = "".join(ch for ch in unicodedata.normalize("NFD", symbol) if ch not in _IGNORED)
    stripped = unicodedata.normalize("NFC", stripped)
    if not stripped:
        return "sil"
    if stripped in _PHONEME_VISEME:
        return _PHONEME_VISEME[stripped]
    # Multi-character symbols (diphthongs, affricates written without a tie): the first known character leads.
    for ch in stripped:
        if ch in _PHONEME_VISEME:
            return _PHONEME_VISEME[ch]
    return "sil"


def mouth_shape(viseme: str) -> MouthShape:
    """The mouth pose of a viseme name (one of VISEMES)."""
    try:
        return VISEME_SHAPES[viseme]
    except KeyError:
        raise ValueError(f"unknown viseme {viseme!r}; known: {', '.join(VISEMES)}") from None


def mouth_track(
    phonemes: Sequence[Phoneme], fps: float, n_frames: int, envelope: Floats | None = None
) -> Floats:
    """Mouth shapes (n_frames, 4) with columns MOUTH_PARAMS, sampled at frame times i / fps.

    Each phoneme's viseme target takes over ONSET_LEAD_S before its start, eased in over BLEND_S (smoothstep),
    which is the usual coarticulation approximation. Bilabials (p, b, m) are then enforced: every frame whose
    time falls inside a bilabial (or the one nearest to a bilabial shorter than a frame) gets lips fully closed and
    the jaw shut, so smoothing can never blur the closure away. `envelope`, if given, is the speech loudness per
    frame in [0, 1] (length n_frames); it scales jaw opening between 45 % and 100 % so loud syllables open wider.
    """
    if n_frames <= 0:
        return np.zeros((0, len(MOUTH_PARAMS)), np.float32)
    times = np.arange(n_frames, dtype=np.float64) / fps
    rest = _SHAPE_TABLE[VISEMES.index("sil")]
    track = np.tile(rest, (n_frames, 1)).astype(np.float64)
    # Walk the phonemes in time order, each easing from the pose reached so far toward its own target.
    ordered = sorted(phonemes, key=lambda p: p.start)
    for ph in ordered:
        target = _SHAPE_TABLE[VISEMES.index(viseme_of(ph.symbol))]
        onset = ph.start - ONSET_LEAD_S
        blend = min(BLEND_S, max(0.04, ph.end - ph.start))  # short phonemes blend faster (~40-80 ms)
        weight = np.clip((times - onset) / blend, 0.0, 1.0)
        weight = weight * weight * (3.0 - 2.0 * weight)  # smoothstep: no velocity jumps
        track = track + weight[:, None] * (target[None, :] - track)
    if envelope is not None:
        env = np.clip(np.asarray(envelope, np.float64)[:n_frames], 0.0, 1.0)
        if len(env) < n_frames:
            env = np.pad(env, (0, n_frames - len(env)), constant_values=float(env[-1]) if len(env) else 1.0)
        track[:, JAW_OPEN] *= 0.45 + 0.55 * env
    closed_pose = _SHAPE_TABLE[VISEMES.index("PP")]
    for ph in ordered:
        if viseme_of(ph.symbol) != "PP":
            continue
        inside = np.nonzero((times >= ph.start) & (times < ph.end))[0]
        if inside.size == 0:  # shorter than a frame: close the frame nearest its middle
            inside = np.array([round((ph.start + ph.end) / 2 * fps)])
            inside = inside[(inside >= 0) & (inside < n_frames)]
        track[inside, JAW_OPEN] = 0.0
        track[inside, LIP_CLOSED] = closed_pose[LIP_CLOSED]
    return track.astype(np.float32)


def loudness_envelope(pcm: npt.NDArray[np.int16], sample_rate: int, fps: float, n_frames: int) -> Floats:
    """RMS loudness per video frame, normalised to [0, 1] by the utterance's 95th percentile."""
    if n_frames <= 0:
        return np.zeros(0, np.float32)
    x = pcm.astype(np.float32)
    edges = (np.arange(n_frames + 1) * sample_rate / fps).astype(np.int64).clip(0, len(x))
    sq = np.concatenate([[0.0], np.cumsum(x.astype(np.float64) ** 2)])
    counts = np.maximum(edges[1:] - edges[:-1], 1)
    rms = np.sqrt((sq[edges[1:]] - sq[edges[:-1]]) / counts)
    ref = float(np.percentile(rms, 95)) if rms.size else 0.0
    if ref <= 1e-6:
        return np.zeros(n_frames, np.float32)
    envelope: Floats = np.clip(rms / ref, 0.0, 1.0).astype(np.float32)
    return envelope
