"""The echo guard: a sentence that retells the user's own message in the first person is not said.

A small model sometimes continues the user's voice instead of answering it: to "I went to the supermarket and they
moved everything around." it says "As I walked through the supermarket, everything felt so different." The chain
asks this guard about each sentence before it is spoken (beside the lecture guard) and lets the model's next
sentence take the place of a dropped one. A sentence that speaks to the user ("I'm glad you went ...") is never an
echo; a reporting clause alone ("As you mentioned, I went to the supermarket ...") does not make it speak to them.
"""

from __future__ import annotations

import re

# Words too common to show that a sentence retells a message.
_COMMON_TEXT = (
    "a an the and or but so to of in on at for with from by about as into than then that this these those it its "
    "is are was were be been being am do does did have has had will would can could should just really very too "
    "also still again there here what when where who how why not no yes all some any more most much many one two "
    "today tonight morning afternoon evening day week they them their theirs she her hers he him his we us our"
)
_COMMON = frozenset(_COMMON_TEXT.split())
_FIRST_PERSON = frozenset({"i", "i'm", "i've", "i'd", "i'll", "me", "my", "mine", "myself"})
_SECOND_PERSON = frozenset({"you", "your", "you're", "you've", "you'd", "you'll", "yours", "yourself"})
# "As you said, I ..." cites the user and then speaks as them: the clause's "you" is not an answer to them.
_REPORTING = re.compile(
    r"\b(?:as|like|just as|just like) you(?:'ve)? (?:said|say|mentioned|told me|put it|described|wrote|noted)\b"
)
_MIN_SHARED = 2  # content words of the message the sentence must repeat ...
_MIN_SHARE = 0.4  # ... and at least this share of them


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+(?:'[a-z]+)?", text.replace("’", "'").lower())


def _content(words: list[str]) -> list[str]:
    """The content words among `words` as stems ("they'd" is "they"), each once, in the order they first come."""
    stems = (w.split("'")[0] for w in words)
    return list(dict.fromkeys(w for w in stems if len(w) > 2 and w not in _COMMON and w not in _FIRST_PERSON))


def content_words(text: str) -> list[str]:
    """The words of `text` that could show it is being retold (not common words, not "I"), lower case, in the
    order they first come."""
    return _content(_words(text))


def echoes(sentence: str, user_text: str) -> bool:
    """True when `sentence` speaks as the user: in the first person, not to them, repeating much of `user_text`."""
    words = _words(_REPORTING.sub(" ", sentence.replace("’", "'").lower()))
    if not _FIRST_PERSON.intersection(words) or _SECOND_PERSON.intersection(words):
        return False
    theirs = set(content_words(user_text))
    shared = theirs & set(_content(words))
    return len(shared) >= _MIN_SHARED and len(shared) >= _MIN_SHARE * len(theirs)
