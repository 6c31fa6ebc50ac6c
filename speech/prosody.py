"""Emotion to voice prosody: Schröder's rules as used in MARY TTS.

With A, E, P = arousal, valence (evaluation) and dominance (power) of the emotion times 100:

    pitch %  = 0.3A + 0.1E - 0.1P        range (semitones) = 4 + 0.04A
    rate %   = 0.5A + 0.2E               volume (0-100)    = 50 + 0.33A

The VAD point of an `EmotionState` already reflects its intensity, so no further scaling happens here.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.emotion import EmotionState


@dataclass(frozen=True)
class Prosody:
    """Prosody targets relative to the voice's neutral delivery.

    pitch_pct: change of mean pitch in percent (+19 = 19% higher).
    range_semitones: pitch range in semitones (4 is the neutral range).
    rate_pct: change of speaking rate in percent (+42 = 42% faster, i.e. shorter).
    volume: loudness on a 0-100 scale where 50 is neutral.
    """

    pitch_pct: float
    range_semitones: float
    rate_pct: float
    volume: float


NEUTRAL_PROSODY = Prosody(pitch_pct=0.0, range_semitones=4.0, rate_pct=0.0, volume=50.0)


def prosody_for(emotion: EmotionState) -> Prosody:
    """Schröder's prosody rules for the VAD point of `emotion`."""
    e, a, p = (100.0 * x for x in emotion.vad.as_tuple())  # valence, arousal, dominance
    return Prosody(
        pitch_pct=0.3 * a + 0.1 * e - 0.1 * p,
        range_semitones=4.0 + 0.04 * a,
        rate_pct=0.5 * a + 0.2 * e,
        volume=50.0 + 0.33 * a,
    )
