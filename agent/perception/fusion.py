"""Words and voice together: the user's emotion with a flag where they disagree.

Words carry valence best, the voice carries arousal best, dominance comes from both; each channel is weighted by
the voice's confidence, so a missing or unsure voice leaves the text reading untouched. A mismatch ("I'm fine",
said in a flat, tired voice) is flagged for the reasoning step rather than averaged away.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.emotion import VAD, EmotionState, VoiceAffect, label_mixture

# Share of each VAD dimension taken from a fully confident voice.
VOICE_WEIGHT = VAD(valence=0.3, arousal=0.7, dominance=0.5)
# Flag when the valences differ by more than this ...
MISMATCH_VALENCE_GAP = 0.5
# ... or when both channels are confident and name different emotions.
CONFIDENT_VOICE = 0.5
CONFIDENT_TEXT = 0.5


@dataclass(frozen=True)
class UserEmotion:
    """The user's emotion this turn: the fused state, what each channel said, and whether they disagree."""

    emotion: EmotionState
    text: EmotionState
    voice: VoiceAffect | None = None
    mismatch: bool = False

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form (the fused state plus the channels)."""
        out: dict[str, object] = {**self.emotion.to_dict(), "mismatch": self.mismatch, "text": self.text.to_dict()}
        if self.voice is not None:
            v = self.voice.vad
            out["voice"] = {
                "vad": {"valence": v.valence, "arousal": v.arousal, "dominance": v.dominance},
                "confidence": self.voice.confidence,
                "label": self.voice.category,
            }
        return out


def fuse(text: EmotionState, voice: VoiceAffect | None) -> UserEmotion:
    """Combine the text reading with the voice's (if any) into one UserEmotion."""
    if voice is None or voice.confidence == 0.0:
        return UserEmotion(emotion=text, text=text, voice=voice)
    c = voice.confidence
    weights = tuple(c * w for w in VOICE_WEIGHT.as_tuple())
    vad = VAD(
        *(
            (1 - w) * t + w * v
            for w, t, v in zip(weights, text.vad.as_tuple(), voice.vad.clipped().as_tuple(), strict=True)
        )
    ).clipped()
    # The label mixture: the text's (a classifier posterior) blended with the voice's reading, at the valence
    # weight, since which emotion it is comes mostly from what was said.
    voice_mixture = label_mixture(voice.vad.clipped())
    if voice.label is not None:
        voice_mixture = {k: 1.0 if k == voice.label else 0.0 for k in voice_mixture}
    w = weights[0]
    mixture = {k: round((1 - w) * text.mixture.get(k, 0.0) + w * voice_mixture[k], 4) for k in voice_mixture}
    label = max(mixture, key=mixture.__getitem__)
    intensity = round(min(1.0, vad.distance(VAD(0.0, 0.0, 0.0))), 4)
    fused = EmotionState(vad=vad, label=label, intensity=intensity, mixture=mixture)
    return UserEmotion(emotion=fused, text=text, voice=voice, mismatch=is_mismatch(text, voice))


def is_mismatch(text: EmotionState, voice: VoiceAffect) -> bool:
    """Words and voice disagree: valences far apart, or both confident about different emotions."""
    if voice.confidence == 0.0:
        return False
    if abs(text.vad.valence - voice.vad.valence) > MISMATCH_VALENCE_GAP:
        return True
    text_confidence = text.mixture.get(text.label, 0.0) if text.mixture else 0.0
    return voice.confidence >= CONFIDENT_VOICE and text_confidence >= CONFIDENT_TEXT and voice.category != text.label
