"""Words that agree with the chosen emotion: each sentence of a reply is read back before it is spoken.

The reply emotion drives the face and the voice; the words come from a model that may still cheer at grief.
So every sentence is read with the same text perceiver that reads the user, and judged by the one rule table
(agent.reply_emotion): a sentence contradicts the turn when it reads, clearly, as an emotion the rules do not allow
for the user's state *and* of the opposite valence: cheer (joy, a pleasant surprise) at grief, fear, anger or
disgust, or distress at someone's joy. Words that name a negative feeling while the user feels one are reflection
("that sounds frightening", "no wonder you're angry"), not the agent's own anger or fear, so they pass.

What happens then (agent.mind.Reply): before anything was spoken the reply is generated once more; if that one also
contradicts, or a later sentence does, the rest is replaced by a scripted reply that fits the user's state
(prompts/empathy_fallback.txt, the chain's own fallback lines). Nothing contradictory is ever voiced.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.base import Perceiver
from agent.prompts import PromptLibrary
from agent.reply_emotion import allowed_reply_emotions, effective_label
from core.emotion import EmotionState

# A sentence must read this clearly as the forbidden emotion to count: weak cues in one sentence are noise (a
# reassurance like "you're still doing the best you can" reads as joy at ~0.4 and is fine at grief).
MIN_CONTRADICTION = 0.55
_CHEER = frozenset({"joy", "surprise"})
_DISTRESS = frozenset({"anger", "disgust", "fear", "sadness"})


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
        self._safe = (prompts or PromptLibrary()).phrases("empathy_fallback")

    def contradiction(self, sentence: str, user: EmotionState) -> Contradiction | None:
        """The contradiction in `sentence` for a user in state `user`, or None when the words fit."""
        reading = self.perceive(sentence)
        label = reading.label
        probability = reading.mixture.get(label, 0.0) if reading.mixture else reading.intensity
        if label in allowed_reply_emotions(user) or probability < self.min_probability:
            return None
        user_label = effective_label(user)
        cheer_at_distress = label in _CHEER and user_label in _DISTRESS
        distress_at_joy = label in _DISTRESS and user_label == "joy"
        if not (cheer_at_distress or distress_at_joy):
            return None
        return Contradiction(sentence, label, probability)

    def safe_reply(self, user: EmotionState) -> str:
        """A short scripted reply that fits the user's state (the chain's fallback line for it)."""
        return self._safe[effective_label(user)]
