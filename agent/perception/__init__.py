"""Perception of the user: their words (sentence embeddings + lexical cues) and voice, to an emotion.

`TextPerception(encoder).perceive(text)` reads one utterance; `fuse(text_state, voice_affect)` adds the voice and
flags a words-versus-voice mismatch; `smooth` carries the user's state across turns.
"""

from agent.perception.fusion import UserEmotion, fuse, is_mismatch
from agent.perception.smoothing import smooth
from agent.perception.text import DEV_SET, SentenceEncoder, TextPerception, perceive_text

__all__ = [
    "DEV_SET",
    "SentenceEncoder",
    "TextPerception",
    "UserEmotion",
    "fuse",
    "is_mismatch",
    "perceive_text",
    "smooth",
]
