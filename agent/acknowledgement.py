"""The first reaction: a few words said at once, while the chain of empathy is still reasoning.

A reasoning reply takes seconds to start on a small CPU; a listener reacts at once ("Oh, I'm so sorry."). So the
agent opens with a short acknowledgement that fits the user's emotion and the persona (prompts/acknowledgements.txt),
voiced in the reply emotion the face already shows, and the model is told it was said so it does not repeat it.
Never on a crisis (the scripted safety reply goes out alone) and never on a neutral message (nothing to react to,
and filler like "I see" is worse than a short wait). Variants rotate: the one used most lately is avoided.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.prompts import PromptLibrary
from agent.reply_emotion import effective_label
from core.chat import ChatMessage
from core.emotion import EmotionState


class Acknowledger:
    """Picks the first reaction for a turn from the acknowledgement phrases (`prompts/acknowledgements.txt`)."""

    def __init__(self, prompts: PromptLibrary | None = None, name: str = "acknowledgements") -> None:
        phrases = (prompts or PromptLibrary()).phrases(name)
        self._variants = {key: [v.strip() for v in value.split("|") if v.strip()] for key, value in phrases.items()}

    def pick(self, user: EmotionState, persona: str, history: Sequence[ChatMessage]) -> str:
        """The acknowledgement for a user in state `user`, or "" when none fits (a neutral message)."""
        label = effective_label(user)
        variants = self._variants.get(f"{persona.strip().lower()}.{label}") or self._variants.get(label) or []
        if not variants:
            return ""
        said = [m.content for m in history if m.role == "assistant"]
        # The variant whose last use is longest ago (never used: first in the file's order).
        def last_use(variant: str) -> int:
            return max((i for i, text in enumerate(said) if text.startswith(variant)), default=-1)

        return min(variants, key=last_use)
