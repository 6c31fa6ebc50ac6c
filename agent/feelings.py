"""Words for the per-turn note: how the user seems and the feeling the reply should carry.

They come from a phrase file (prompts/feelings_default.txt: `user.<emotion>`, `reply.<emotion>`,
`degree.<low|medium|high>`), read by one class so the plain responder and the chain of empathy describe a user
the same way ("quite sad"; a neutral user gets no degree).
"""

from __future__ import annotations

from agent.prompts import PromptLibrary

# Intensity below each limit takes that degree word; above the last, "high".
_DEGREES = ((0.35, "low"), (0.7, "medium"))


class FeelingWords:
    """The phrases of one feelings file; a missing entry raises PromptError naming the line to add."""

    def __init__(self, prompts: PromptLibrary, name: str = "feelings_default") -> None:
        self.name = name
        self._book = prompts.book(name)

    def phrase(self, key: str) -> str:
        """The entry `key` (e.g. "reply.sadness")."""
        return self._book.phrase(key)

    def user(self, label: str, intensity: float) -> str:
        """How the user seems: "a little afraid or worried", "very sad"; the neutral phrase as it stands."""
        feeling = self.phrase(f"user.{label}")
        if label == "neutral":
            return feeling
        degree = next((name for limit, name in _DEGREES if intensity < limit), "high")
        return f"{self.phrase(f'degree.{degree}')} {feeling}"

    def reply(self, label: str) -> str:
        """The feeling a reply in emotion `label` should carry ("gentle, compassionate softness")."""
        return self.phrase(f"reply.{label}")
