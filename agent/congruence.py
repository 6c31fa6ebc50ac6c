"""Words that agree with the chosen emotion: each sentence of a reply is read back before it is spoken.

The reply emotion drives the face and the voice; the words come from a model that may still cheer at grief.
So every sentence is read with the same text perceiver that reads the user, and judged by the one rule table
(agent.reply_emotion): a sentence contradicts the turn when it reads, clearly, as an emotion the rules do not allow
for the user's state *and* of the opposite valence: cheer (joy, a pleasant surprise) at grief, fear, anger or
disgust, or distress at someone's joy. Words that name a negative feeling while the user feels one are reflection
("that sounds frightening", "no wonder you're angry"), not the agent's own anger or fear, so they pass.

Cheer needs one more sign than a positive reading. The perceiver's joy is GoEmotions' joy class, which holds caring,
gratitude, optimism, admiration and love as well, so the warm things a counsellor says at grief ("I'm glad you told
me", "he sounds like a wonderful friend", "I hope things get better soon") read as joy at 0.9; and a gentle
question often reads as surprise. Such a sentence contradicts a distressed user only when it also celebrates, jokes,
looks on the bright side or exclaims: the markers in prompts/cheer_markers.txt, or a closing "!".

What happens then (agent.mind.Reply): before anything was spoken the reply is generated once more; if that one also
contradicts, or a later sentence does, the rest is replaced by a scripted reply that fits the user's state
(prompts/empathy_fallback.txt, the chain's own fallback lines). Nothing contradictory is ever voiced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.base import Perceiver
from agent.prompts import PromptLibrary
from agent.reply_emotion import allowed_reply_emotions, effective_label
from core.emotion import EmotionState

# A sentence must read this clearly as the forbidden emotion to count: weak cues in one sentence are noise.
MIN_CONTRADICTION = 0.55
_CHEER = frozenset({"joy", "surprise"})
_DISTRESS = frozenset({"anger", "disgust", "fear", "sadness"})


class CheerMarkers:
    """Tells whether a sentence celebrates, jokes, looks on the bright side or exclaims (prompts/cheer_markers.txt)."""

    def __init__(self, prompts: PromptLibrary | None = None, name: str = "cheer_markers") -> None:
        self.pattern = re.compile("|".join((prompts or PromptLibrary()).entries(name)), re.IGNORECASE)

    def cheers(self, sentence: str) -> bool:
        """True when `sentence` holds a cheer marker or ends with an exclamation mark."""
        text = sentence.replace("\u2019", "'").strip()
        return text.rstrip("\"')\u201d").endswith("!") or bool(self.pattern.search(text))


@dataclass(frozen=True)
class Contradiction:
    """A sentence whose words read as an emotion the rules forbid for the user's state."""

    sentence: str
    label: str  # what the words read as
    probability: float  # the perceiver's probability of that label


class CongruenceCheck:
    """Reads reply sentences back with the text perceiver; `safe_reply` is what replaces a contradicting reply."""

    def __init__(
        self, perceive: Perceiver, prompts: PromptLibrary | None = None, min_probability: float = MIN_CONTRADICTION
    ) -> None:
        self.perceive = perceive
        self.min_probability = min_probability
        library = prompts or PromptLibrary()
        self._safe = library.book("empathy_fallback")
        self._cheer = CheerMarkers(library)

    def contradiction(self, sentence: str, user: EmotionState) -> Contradiction | None:
        """The contradiction in `sentence` for a user in state `user`, or None when the words fit."""
        reading = self.perceive(sentence)
        label = reading.label
        probability = reading.mixture.get(label, 0.0) if reading.mixture else reading.intensity
        if label in allowed_reply_emotions(user) or probability < self.min_probability:
            return None
        user_label = effective_label(user)
        cheer_at_distress = label in _CHEER and user_label in _DISTRESS and self._cheer.cheers(sentence)
        distress_at_joy = label in _DISTRESS and user_label == "joy"
        if not (cheer_at_distress or distress_at_joy):
            return None
        return Contradiction(sentence, label, probability)

    def safe_reply(self, user: EmotionState) -> str:
        """A short scripted reply that fits the user's state (the chain's fallback line for it)."""
        return self._safe.phrase(effective_label(user))
