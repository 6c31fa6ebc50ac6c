"""The first reaction: a few words said at once, while the chain of empathy is still reasoning.

A reasoning reply takes seconds to start on a small CPU; a listener reacts at once ("Oh, I'm so sorry."). So the
agent opens with a short acknowledgement that fits the user's emotion and the persona (prompts/acknowledgements.txt),
voiced in the reply emotion the face already shows, and the model is told it was said so it does not repeat it.
Variants rotate: the one used most lately is avoided.

A reaction names a feeling aloud before anything can take it back, so it needs a sure reading: never on a crisis
(the scripted safety reply goes out alone), never on a neutral message (nothing to react to, and filler like
"I see" is worse than a short wait), and only when the perceived emotion's probability reaches its
`MIN_CONFIDENCE`. Surprise also needs a surprise cue in the words: on real text most messages read as surprise
are questions and puzzlement (GoEmotions' surprise group holds curiosity and confusion), where "Oh, wow!" is wrong.
`python -m benchmarks.acknowledgement_fit` measures how often the reactions fit what people felt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agent.perception.lexical import LexicalCues
from agent.prompts import PromptLibrary
from agent.reply_emotion import effective_label
from core.chat import ChatMessage
from core.emotion import EmotionState

# The least probability of the user's emotion in the perceived mixture for a first reaction to name it: the lowest
# at which three in four reactions fit the raters' labels on 8,000 GoEmotions train comments
# (`python -m benchmarks.acknowledgement_fit --choose TRAIN_TSV --limit 8000`; 0.3 is the lowest it tries). Anger
# needs the surest reading: GoEmotions' anger group is mostly annoyance and disagreement, where "No wonder you're
# angry." overshoots.
MIN_CONFIDENCE: dict[str, float] = {
    "anger": 0.9,
    "disgust": 0.45,
    "fear": 0.55,
    "joy": 0.3,
    "sadness": 0.3,
    "surprise": 0.55,
}
# Emotions whose reaction also needs a cue word for that emotion in the message (see the module docstring).
NEEDS_CUE: frozenset[str] = frozenset({"surprise"})


class Acknowledger:
    """Picks the first reaction for a turn from the acknowledgement phrases (`prompts/acknowledgements.txt`)."""

    def __init__(
        self,
        prompts: PromptLibrary | None = None,
        name: str = "acknowledgements",
        min_confidence: Mapping[str, float] = MIN_CONFIDENCE,
        needs_cue: frozenset[str] = NEEDS_CUE,
    ) -> None:
        phrases = (prompts or PromptLibrary()).phrases(name)
        self._variants = {key: [v.strip() for v in value.split("|") if v.strip()] for key, value in phrases.items()}
        self._min_confidence = dict(min_confidence)
        self._needs_cue = needs_cue
        self._cues = LexicalCues()

    def sure(self, user: EmotionState, text: str) -> bool:
        """Whether the reading of `text` (the user's state `user`) is sure enough to react to at once."""
        label = effective_label(user)
        if label == "neutral" or user.mixture.get(label, 0.0) < self._min_confidence.get(label, 0.0):
            return False
        return label not in self._needs_cue or self._cues.read(text).scores.get(label, 0.0) > 0

    def pick(self, user: EmotionState, persona: str, history: Sequence[ChatMessage], text: str) -> str:
        """The acknowledgement for `text` from a user in state `user`, or "" when none fits (see `sure`)."""
        if not self.sure(user, text):
            return ""
        label = effective_label(user)
        variants = self._variants.get(f"{persona.strip().lower()}.{label}") or self._variants.get(label) or []
        if not variants:
            return ""
        said = [m.content for m in history if m.role == "assistant"]

        # The variant whose last use is longest ago (never used: first in the file's order).
        def last_use(variant: str) -> int:
            return max((i for i, earlier in enumerate(said) if earlier.startswith(variant)), default=-1)

        return min(variants, key=last_use)
