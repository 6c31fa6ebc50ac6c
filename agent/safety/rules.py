"""The transparent half of the crisis screen: regular expressions a deployment can read and extend.

The rules live in `prompts/safety_patterns.txt` (`category: regex` lines, `ignore:` lines for idioms). A rule
match is decisive; the rules are kept precise, and the learned detector (agent.safety.semantic) covers the
indirect language rules cannot enumerate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.prompts import PromptError, PromptLibrary
from agent.safety.verdict import CATEGORIES

_SPACES = re.compile(r"\s+")
# Curly quotes become straight ones, then apostrophes go: "don't", "don’t" and "dont" all read "dont".
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})


@dataclass(frozen=True)
class RuleMatch:
    """The first rule that matched: its category and the matched text."""

    category: str
    matched: str


def normalise(text: str) -> str:
    """Lower-case, apostrophes removed, runs of white space collapsed: the form the rules are written for."""
    return _SPACES.sub(" ", text.translate(_APOSTROPHES).lower().replace("'", "")).strip()


class SafetyRules:
    """The compiled rules of one pattern file (a prompt name in `prompts`)."""

    def __init__(self, prompts: PromptLibrary | None = None, name: str = "safety_patterns") -> None:
        self._ignore: list[re.Pattern[str]] = []
        self._rules: list[tuple[str, re.Pattern[str]]] = []
        library = prompts or PromptLibrary()
        for number, line in enumerate(library.load(name).splitlines(), start=1):
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
        if not self._rules:
            raise PromptError(f"safety pattern file {name!r} has no rules")

    def match(self, text: str) -> RuleMatch | None:
        """The first rule matching `text` (after the ignore rules removed idioms), or None."""
        normal = normalise(text)
        for pattern in self._ignore:
            normal = pattern.sub(" ", normal)
        for category, pattern in self._rules:
            found = pattern.search(normal)
            if found:
                return RuleMatch(category, found.group(0))
        return None
