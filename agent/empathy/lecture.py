"""The lecture guard: a spoken sentence that opens with an order or a moral ("It's important to ...", "Remember
...", "You should ...") is not said.

The small default model lectures despite the prompt (issue 14); the chain asks this guard about each sentence
before it is spoken and lets the model's next sentence take the place of a dropped one. The openers are data,
prompts/lecture_openers.txt.
"""

from __future__ import annotations

import re

from agent.prompts import PromptLibrary

# Words that may come before an opener without changing it ("But remember ...", "I think you should ...").
_FILLER = r"(?:(?:but|and|so|also|just|now|still|however|please|i think|i believe|honestly|perhaps|maybe),?\s+)*"


class LectureGuard:
    """Tells whether a sentence lectures, by the openers in a prompt file (one regular expression a line)."""

    def __init__(self, prompts: PromptLibrary | None = None, name: str = "lecture_openers") -> None:
        openers = (prompts or PromptLibrary()).entries(name)
        self.pattern = re.compile(r"^\W*" + _FILLER + "(?:" + "|".join(openers) + ")", re.IGNORECASE)

    def lectures(self, sentence: str) -> bool:
        """True when `sentence` opens with a lecturing phrase."""
        return bool(self.pattern.search(sentence.replace("’", "'")))
