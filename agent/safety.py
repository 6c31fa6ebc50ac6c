"""The safety screen: messages about suicide, self-harm, abuse or a medical emergency bypass free generation.

Such a message gets a calm, scripted reply with the deployment's own help text (a local hotline)
and raises an escalation event a kiosk operator can act on. Detection is deliberately rule-based and
transparent: the rules live in `prompts/safety_patterns.txt`, where a deployment can review and extend them;
harmless idioms ("this traffic is killing me", "I could kill for a coffee", "my phone died") never match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.prompts import PromptError, PromptLibrary
from core.emotion import VAD, EmotionState

CATEGORIES: tuple[str, ...] = ("suicide", "self_harm", "abuse", "medical")
DEFAULT_HOTLINE = "If you are in danger right now, please call your local emergency number."
_SPACES = re.compile(r"\s+")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'"})


@dataclass(frozen=True)
class SafetyVerdict:
    """A message that must not go to free generation: its category, the text that matched, the scripted reply."""

    category: str
    matched: str
    response: str
    score: float | None = None  # the learned detector's confidence; None when a rule matched


def safety_emotion() -> EmotionState:
    """The emotion of a scripted safety reply: calm, warm and steady (a little dominant: reassuring)."""
    state = EmotionState.from_vad(VAD(0.2, -0.25, 0.25))
    return EmotionState(vad=state.vad, label="neutral", intensity=state.intensity, mixture=state.mixture)


class SafetyScreen:
    """Checks a user message against the safety rules; `hotline_text` is the deployment's help text."""

    def __init__(
        self,
        hotline_text: str = DEFAULT_HOTLINE,
        prompts: PromptLibrary | None = None,
        patterns: str = "safety_patterns",
        responses: str = "safety_responses",
    ) -> None:
        self.prompts = prompts or PromptLibrary()
        self.hotline_text = hotline_text.strip()
        self._ignore: list[re.Pattern[str]] = []
        self._rules: list[tuple[str, re.Pattern[str]]] = []
        self._load_patterns(patterns)
        phrases = self.prompts.phrases(responses)
        missing = [c for c in CATEGORIES if c not in phrases]
        if missing:
            raise PromptError(f"safety reply file {responses!r} has no entry for {', '.join(missing)}")
        self._responses = {c: phrases[c].replace("$hotline", self.hotline_text).strip() for c in CATEGORIES}

    def check(self, text: str) -> SafetyVerdict | None:
        """The verdict for `text`, or None when it may go to the model as usual."""
        normal = _SPACES.sub(" ", text.translate(_APOSTROPHES).lower()).strip()
        for pattern in self._ignore:
            normal = pattern.sub(" ", normal)
        for category, pattern in self._rules:
            match = pattern.search(normal)
            if match:
                return SafetyVerdict(category, match.group(0), self._responses[category])
        return None

    def _load_patterns(self, name: str) -> None:
        for number, line in enumerate(self.prompts.load(name).splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            category, sep, pattern = line.partition(":")
            category, pattern = category.strip(), pattern.strip()
            if not sep or (category not in CATEGORIES and category != "ignore"):
                raise PromptError(
                    f"safety pattern file {name!r} line {number}: expected `CATEGORY: REGEX` with CATEGORY one of "
                    f"ignore, {', '.join(CATEGORIES)}; got {line!r}"
                )
            try:
                compiled = re.compile(pattern, re.IGNORECASE)
            except re.error as error:
                raise PromptError(f"safety pattern file {name!r} line {number}: bad regex ({error})") from None
            if category == "ignore":
                self._ignore.append(compiled)
            else:
                self._rules.append((category, compiled))
