"""The reply-craft rubric: plain, written-down detectors that judge one spoken reply to one user message.

A good reply (issue 14) names or reflects the user's feeling, reflects one concrete detail they gave, stays
within the persona's sentence limit, and does not lecture. Each check is a small, deterministic detector, so a
figure can be traced to the exact words that set it off (benchmarks/reply_craft.py prints them):

- **feeling named**: the reply contains a feeling word or a reflecting phrase from `FEELING_WORDS` ("sad",
  "frustrat*", "that sounds hard", ...). Judged only where the user's gold emotion is not neutral.
- **detail reflected**: the reply contains one of the message's listed details (benchmarks/data/reply_craft.json)
  as a whole word or phrase, which may take an ending (-s, -es, -ed, -ing, -'s), or as a prefix written `word*`.
- **lecturing**: a sentence opens (after a filler such as "But", "So", "I think") with a lecturing phrase
  (`LECTURE_OPENERS`: "It's important to", "Remember", "You should", "Consider", ...), or the reply is a list of
  advice the user did not ask for (`is_advice_list`).
- **over-length**: more sentences than the persona's limit, counted by `count_sentences` (terminal punctuation,
  not the chain's own splitter, so the check is independent of the cap that enforces it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# Words and phrases that name or reflect a feeling; `*` marks a prefix ("frustrat*": frustrated, frustrating).
FEELING_WORDS: tuple[str, ...] = (
    # sadness, loss, loneliness
    "sad*", "sorrow*", "griev*", "grief", "heartbr*", "heartache", "hurt*", "pain*", "ache*", "heavy", "lonely",
    "loneliness", "alone", "miss*", "loss", "upset*", "disappoint*", "discourag*", "devastat*", "crush*", "gutted",
    "rejected", "left out",
    # anger
    "ang*", "furious", "mad", "frustrat*", "annoy*", "irritat*", "unfair", "betray*", "resent*", "livid", "fed up",
    "outrag*", "infuriat*", "disrespect*", "infuriating",
    # fear
    "scar*", "afraid", "fear*", "frighten*", "anxious", "anxiety", "worr*", "nervous*", "panic*", "dread*",
    "stress*", "overwhelm*", "tense", "uneasy", "uncertain*", "terrif*", "on edge", "unsettl*", "alarm*", "shaken",
    "unsafe",
    # joy
    "happy", "happiness", "glad", "joy*", "delight*", "excit*", "thrill*", "proud", "pride", "relie*", "grateful",
    "thankful", "wonderful", "amazing", "fantastic", "celebrat*", "lovely", "great news", "overjoyed", "ecstatic",
    "elated", "cheer*", "heartwarming", "sweet", "touching", "special", "precious", "fun", "enjoy*",
    "content*", "peaceful", "cozy", "cosy", "calm*", "soothing", "satisf*", "accomplish*", "big deal", "milestone",
    # surprise
    "surpris*", "shock*", "unexpected*", "wow", "stunn*", "astonish*", "out of the blue", "speechless", "caught off",
    "startl*", "whirlwind",
    # disgust, shame
    "disgust*", "gross", "revolting", "repuls*", "nasty", "vile", "sick*", "awful", "horrible", "horrid", "appall*",
    "unpleasant", "yuck", "embarrass*", "humiliat*", "ashamed", "shame*", "guilt*", "mortif*", "exposed",
    # reflecting without a named emotion
    "exhaust*", "tired", "drain*", "worn out", "hard", "tough", "difficult", "rough", "brutal", "a lot to carry",
)

# Openers that lecture rather than listen (issue 14: "It's important to take care of yourself and your team",
# "consider how you can improve your work").
LECTURE_OPENERS: tuple[str, ...] = (
    r"it'?s (?:really |so |very |also )?(?:important|essential|crucial|vital|key|necessary|best|wise)",
    r"it is (?:really |so |very |also )?(?:important|essential|crucial|vital|key|necessary|best|wise)",
    r"remember\b",
    r"don'?t forget",
    # "You must feel ...", "You must have missed ...": guesses at how they feel or what happened, not orders.
    r"you (?:really |just |definitely |probably |still |also )?(?:should|need to|"
    r"must(?! (?:feel|be|have (?:been|felt|had|gone|done|seen|known|thought|\w+ed|\w+en))\b)"
    r"|have to|ought to|might want to|may want to)\b",
    r"make sure",
    r"be sure to",
    r"consider\b",
    r"keep in mind",
    r"the key is",
    r"always\b",
    r"try not to",
    r"focus on\b",
    r"(?:a|one) good (?:idea|way|thing) (?:is|would be)",
)
# Fillers that may come before an opener without changing it ("But remember ...", "I think you should ...").
_FILLER = r"(?:(?:but|and|so|also|just|now|still|however|please|i think|i believe|honestly|perhaps|maybe),?\s+)*"
_OPENER = re.compile(r"^\W*" + _FILLER + "(?:" + "|".join(LECTURE_OPENERS) + ")", re.IGNORECASE)

# Sentence-initial verbs of advice; two such sentences in one reply make a list of advice.
ADVICE_VERBS: tuple[str, ...] = (
    "try", "take", "make", "focus", "talk", "reach out", "set", "write", "practice", "practise", "go", "get", "find",
    "remember", "consider", "keep", "start", "stop", "avoid", "think about", "give yourself", "allow yourself",
    "breathe", "ask", "plan", "schedule", "use", "drink", "eat", "exercise", "limit", "put", "look for",
)
_ADVICE_SENTENCE = re.compile(r"^\W*" + _FILLER + r"(?:" + "|".join(ADVICE_VERBS) + r")\b", re.IGNORECASE)
_ENUMERATION = re.compile(
    r"(?:^|\n)\s*(?:[-*•]|\d{1,2}[.)])\s+|\b(?:first(?:ly)?|secondly|second|thirdly|lastly)\s*,|"
    r"\bhere are (?:some|a few)\b|"
    r"\b(?:some|a few|few) (?:tips|ways|strategies|steps|suggestions|ideas|things you can)\b",
    re.IGNORECASE,
)
# Terminal punctuation followed by a space ends a sentence (so not inside "3.5"), unless it follows a known
# abbreviation or is an ellipsis before a lower-case word.
_ABBREVIATIONS = ("dr", "mr", "mrs", "ms", "st", "e.g", "i.e", "etc", "vs", "a.m", "p.m")
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)]*(?=\s|$)")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
_ENDINGS = r"(?:s|es|'s|’s|d|ed|ing|n)?"


@dataclass(frozen=True)
class CraftVerdict:
    """The rubric's verdict on one reply; the `*_match` fields hold what set each detector off (for the log)."""

    feeling_match: str  # "" when no feeling word or reflecting phrase was found
    detail_match: str  # "" when none of the message's details was reflected
    lecture_match: str  # "" when the reply does not lecture
    sentences: int
    words: int
    limit: int

    @property
    def feeling(self) -> bool:
        return bool(self.feeling_match)

    @property
    def detail(self) -> bool:
        return bool(self.detail_match)

    @property
    def lecturing(self) -> bool:
        return bool(self.lecture_match)

    @property
    def over_length(self) -> bool:
        return self.sentences > self.limit


def term_pattern(term: str) -> re.Pattern[str]:
    """A detail or feeling term as a regex: `word*` is a prefix; otherwise a whole word or phrase that may take
    a common ending (-s, -es, -'s, -d, -ed, -ing)."""
    term = term.lower().strip()
    if term.endswith("*"):
        return re.compile(r"(?<![a-z0-9])" + re.escape(term[:-1]), re.IGNORECASE)
    return re.compile(r"(?<![a-z0-9])" + re.escape(term) + _ENDINGS + r"(?![a-z0-9])", re.IGNORECASE)


def find_term(text: str, terms: Sequence[str]) -> str:
    """The first of `terms` that occurs in `text` (as `term_pattern` reads it), or ""."""
    normalised = text.replace("’", "'")
    for term in terms:
        if term_pattern(term).search(normalised):
            return term
    return ""


def split_sentences(text: str) -> list[str]:
    """The reply's sentences by terminal punctuation (a trailing fragment without one is a sentence too)."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        before = text[start : match.start()].rstrip().lower()
        if match.group().startswith(".") and any(before.endswith(" " + a) or before == a for a in _ABBREVIATIONS):
            continue
        following = text[match.end() :].lstrip()[:1]
        if match.group().rstrip("\"'”’)") in ("...", "…") and following.islower():
            continue  # an ellipsis before a lower-case word is a pause, not an end
        sentences.append(text[start : match.end()])
        start = match.end()
    sentences.append(text[start:])
    return [s.strip() for s in sentences if _WORD.search(s)]


def count_sentences(text: str) -> int:
    """How many sentences the reply has (see `split_sentences`)."""
    return len(split_sentences(text))


def count_words(text: str) -> int:
    """Words in the reply (contractions count once)."""
    return len(_WORD.findall(text))


def lecture_opener(text: str) -> str:
    """The first sentence that opens with a lecturing phrase, or ""."""
    for sentence in split_sentences(text):
        if _OPENER.search(sentence):
            return sentence
    return ""


def is_advice_list(text: str) -> str:
    """What makes the reply a list of advice (list marks, "first, ... second", "here are some tips", or two
    sentences that open with an advice verb), or ""."""
    enumeration = _ENUMERATION.search(text)
    if enumeration:
        return enumeration.group().strip()
    advice = [s for s in split_sentences(text) if _ADVICE_SENTENCE.search(s)]
    return " / ".join(advice) if len(advice) >= 2 else ""


def lecturing(text: str, asked_for_advice: bool = False) -> str:
    """Why the reply lectures: a lecturing opener, or (unless the user asked for advice) a list of advice; ""."""
    opener = lecture_opener(text)
    if opener:
        return opener
    return "" if asked_for_advice else is_advice_list(text)


def judge(
    reply: str, details: Sequence[str], limit: int, neutral: bool = False, asked_for_advice: bool = False
) -> CraftVerdict:
    """The rubric's verdict on `reply` to a message with `details`, for a persona allowed `limit` sentences.

    For a neutral message any feeling is optional, so `feeling_match` is then "(neutral)".
    """
    feeling = "(neutral)" if neutral else find_term(reply, FEELING_WORDS)
    return CraftVerdict(
        feeling_match=feeling,
        detail_match=find_term(reply, details),
        lecture_match=lecturing(reply, asked_for_advice),
        sentences=count_sentences(reply),
        words=count_words(reply),
        limit=limit,
    )
