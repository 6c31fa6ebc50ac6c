"""Split a streamed reply into speakable sentences as soon as each one is complete.

The TTS voices one sentence while the LLM writes the next, so a sentence is released as soon as
its end is certain: a terminator (. ! ? … ;) followed by whitespace, or a newline. A full stop is not an end
after a known abbreviation ("Dr.", "e.g."), an initial, a list number, or inside a number ("3.5"); an ellipsis
followed by a lower-case word continues the sentence. A very long sentence is cut at the first comma after
`clause_words` words so the first audio comes early. Markdown and emoji, which a TTS would read out or choke
on, are removed from what is released.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

ABBREVIATIONS = frozenset(
    {
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "sr",
        "jr",
        "st",
        "mt",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "approx",
        "no",
        "fig",
        "inc",
        "ltd",
        "co",
        "dept",
        "est",
        "min",
        "max",
        "a.m",
        "p.m",
        "u.s",
        "u.k",
    }
)
_TERMINATORS = ".!?…"
_CLOSERS = "\"')]}”’*_"
_CLAUSE_MARKS = ",:"

_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\U00002b00-\U00002bff\ufe0f\u200d\u20e3]+"
)
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_LINE_START = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+•]\s+|\d{1,3}[.)]\s+)")
_MD_EMPHASIS_UNDERSCORE = re.compile(r"(?<!\w)_+|_+(?!\w)")
_SPACES = re.compile(r"\s+")
_LIST_NUMBER = re.compile(r"^\s*\d{1,3}$")


class SentenceSplitter:
    """Feed it text pieces; it returns each sentence once complete, cleaned for speech."""

    def __init__(self, clause_words: int = 20) -> None:
        self.clause_words = clause_words
        self._buffer = ""

    def feed(self, piece: str) -> list[str]:
        """Add `piece` and return the sentences it completed (possibly none)."""
        self._buffer += piece
        return self._drain(final=False)

    def flush(self) -> list[str]:
        """Return whatever is left as the last sentence(s), e.g. when the LLM stops without a full stop."""
        sentences = self._drain(final=True)
        rest = clean_for_speech(self._buffer)
        self._buffer = ""
        return [*sentences, rest] if rest else sentences

    def _drain(self, final: bool) -> list[str]:
        sentences: list[str] = []
        while (end := _boundary(self._buffer, final, self.clause_words)) is not None:
            sentence = clean_for_speech(self._buffer[:end])
            self._buffer = self._buffer[end:].lstrip()
            if sentence:
                sentences.append(sentence)
        return sentences


@dataclass(frozen=True)
class ReplyLength:
    """How long a reply may run: at most `sentences` sentences and `words` words (0: no limit). The first sentence
    is always said, however long; a later one that would pass the word limit is not (nor anything after it)."""

    sentences: int = 0
    words: int = 0

    def admits(self, spoken: Sequence[str], sentence: str) -> bool:
        """Whether `sentence` may follow the sentences already `spoken`."""
        if self.sentences > 0 and len(spoken) >= self.sentences:
            return False
        if self.words > 0 and spoken:
            return sum(len(s.split()) for s in spoken) + len(sentence.split()) <= self.words
        return True


# Openers that change nothing about what a sentence says ("Wow, that's wonderful!" repeats "Oh, that's wonderful!").
_INTERJECTIONS = frozenset({"oh", "ah", "aw", "aww", "wow", "well", "yes", "yeah", "gosh", "ugh", "hmm"})
# How many words a repeat may add to what was said ("I'm so sorry for this." after "Oh, I'm so sorry.").
_REPEAT_TAIL_WORDS = 3


def same_words(a: str, b: str) -> bool:
    """Whether two sentences say the same words, ignoring case, punctuation and spacing."""
    return _words_only(a) == _words_only(b) != ""


def repeats(sentence: str, said: str) -> bool:
    """Whether `sentence` says `said` again: the same words give or take an interjection, only words of `said`
    ("So sorry." after "Oh, I'm so sorry."), or `said` with a short tail ("I'm so sorry for your loss.")."""
    new, old = _content_words(sentence), _content_words(said)
    if not new or not old:
        return same_words(sentence, said)
    if set(new) <= set(old):
        return True
    return new[: len(old)] == old and len(new) - len(old) <= _REPEAT_TAIL_WORDS


# Where an opening clause ends: a comma, semicolon, colon or dash, then perhaps a joining "but", "and" or "so".
_CLAUSE_END = re.compile(r"\s*(?:[,;:\u2014\u2013]|\s-\s)\s*(?:(?:but|and|so)\b\s*)?", re.IGNORECASE)
_MIN_REST_WORDS = 3  # what follows a dropped opening must be a sentence of its own, not a tail ("I'm sorry, truly.")


def split_repeated_opening(sentence: str, said: Sequence[str]) -> tuple[str, str]:
    """`sentence` as (an opening clause that only says one of the `said` sentences again, the rest), e.g. "I'm
    sorry, I understand how hard that was." after "I'm sorry." gives ("I'm sorry,", "I understand how hard that
    was."), when at least three words follow it; otherwise ("", `sentence`). An opening that adds anything ("I'm
    sorry about Biscuit, ...") is kept: it may carry the detail the reply needs."""
    for match in _CLAUSE_END.finditer(sentence):
        words = set(_content_words(sentence[: match.start()]))
        if not words:
            continue  # an interjection ("Oh, ...") is not the repeat; look at the next clause
        rest = sentence[match.end() :].strip()
        if any(words <= set(_content_words(s)) for s in said) and len(rest.split()) >= _MIN_REST_WORDS:
            return sentence[: match.end()].strip(), rest[0].upper() + rest[1:]
        break
    return "", sentence


def _words_only(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", "", text.replace("’", "'").lower()).split())


def _content_words(text: str) -> list[str]:
    return [word for word in _words_only(text).split() if word not in _INTERJECTIONS]


def split_sentences(text: str, limit: int = 0) -> list[str]:
    """The speakable sentences of a whole text (a scripted reply); at most `limit` of them unless it is 0."""
    splitter = SentenceSplitter()
    sentences = [*splitter.feed(text), *splitter.flush()]
    return sentences[:limit] if limit > 0 else sentences


def _boundary(text: str, final: bool, clause_words: int) -> int | None:
    """End index (exclusive) of the first complete sentence in `text`, or None while it is undecided."""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            if text[:i].strip():
                return i + 1
        elif ch in _TERMINATORS or ch == ";":
            j = i + 1
            if ch != ";":
                while j < len(text) and text[j] in _TERMINATORS:
                    j += 1
            while j < len(text) and text[j] in _CLOSERS:
                j += 1
            if j == len(text):
                return j if final else None  # the next character decides (e.g. "3." + "5")
            if text[j].isspace():
                verdict = _is_end(text, i, j, final)
                if verdict is None:
                    return None
                if verdict:
                    return j
            i = j
            continue
        elif (
            ch in _CLAUSE_MARKS
            and i + 1 < len(text)
            and text[i + 1].isspace()
            and len(text[:i].split()) >= clause_words
        ):
            return i + 1
        i += 1
    return None


def _is_end(text: str, start: int, stop: int, final: bool) -> bool | None:
    """Whether the terminator run text[start:stop] (followed by whitespace) ends a sentence; None: need more text."""
    run = text[start:stop].rstrip(_CLOSERS)
    if run == ";" or "!" in run or "?" in run:
        return True
    if run == ".":
        before = text[:start]
        word = before.split()[-1].lower() if before.split() else ""
        if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            return False
        # "1." opening a line or a reply is a list number, not a sentence.
        line = before.rsplit("\n", 1)[-1]
        return not _LIST_NUMBER.match(line)
    # An ellipsis: the sentence goes on if the next word starts in lower case.
    rest = text[stop:].lstrip()
    if not rest:
        return True if final else None
    return not rest[0].islower()


def clean_for_speech(text: str) -> str:
    """`text` without markdown, emoji and layout, on one line; empty if nothing speakable remains."""
    lines = [_MD_LINE_START.sub("", line) for line in text.splitlines()]
    text = " ".join(lines)
    text = _MD_LINK.sub(r"\1", text)
    text = text.replace("**", "").replace("*", "").replace("`", "").replace("#", "")
    text = _MD_EMPHASIS_UNDERSCORE.sub("", text)
    text = _EMOJI.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    return text if any(ch.isalnum() for ch in text) else ""
