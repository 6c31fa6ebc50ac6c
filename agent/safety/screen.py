"""The crisis screen: rules first, then the learned detector; a flagged message gets the scripted reply.

Messages about suicide, self-harm, abuse or a medical emergency bypass free generation: they get a calm, scripted
reply with the deployment's own help text (a local hotline) and raise an escalation event a kiosk operator can act
on. It runs on every turn, typed or spoken (on the transcript).
"""

from __future__ import annotations

from agent.prompts import PromptError, PromptLibrary
from agent.safety.rules import SafetyRules
from agent.safety.semantic import SemanticDetector, SemanticReading
from agent.safety.verdict import CATEGORIES, DEFAULT_HOTLINE, SafetyVerdict


class SafetyScreen:
    """Checks a user message; `hotline_text` is the deployment's help text.

    `detector` is the learned part (agent.safety.semantic); without one only the rules run, which is for tests
    and tools that choose so explicitly; the server's loader always builds one and fails when it cannot.
    """

    def __init__(
        self,
        hotline_text: str = DEFAULT_HOTLINE,
        prompts: PromptLibrary | None = None,
        patterns: str = "safety_patterns",
        responses: str = "safety_responses",
        detector: SemanticDetector | None = None,
    ) -> None:
        self.prompts = prompts or PromptLibrary()
        self.hotline_text = hotline_text.strip()
        self.rules = SafetyRules(self.prompts, patterns)
        self.detector = detector
        phrases = self.prompts.phrases(responses)
        missing = [c for c in CATEGORIES if c not in phrases]
        if missing:
            raise PromptError(f"safety reply file {responses!r} has no entry for {', '.join(missing)}")
        self._responses = {c: phrases[c].replace("$hotline", self.hotline_text).strip() for c in CATEGORIES}

    def check(self, text: str) -> SafetyVerdict | None:
        """The verdict for `text`, or None when it may go to the model as usual."""
        rule = self.rules.match(text)
        if rule is not None:
            return SafetyVerdict(rule.category, rule.matched, self._responses[rule.category], 1.0, "rule")
        reading = self.read(text)
        if reading is None or not reading.flagged:
            return None
        return SafetyVerdict(
            reading.category, reading.nearest, self._responses[reading.category], round(reading.score, 4), "semantic"
        )

    def read(self, text: str) -> SemanticReading | None:
        """The learned detector's reading of `text` (None without a detector), flagged or not."""
        return self.detector.read(text) if self.detector is not None else None
