"""The echo guard: a sentence that retells the user's own message in the first person is not said.

A small model sometimes continues the user's voice instead of answering it: to "I went to the supermarket and they
moved everything around." it says "As I walked through the supermarket, everything felt so different." The chain
asks this guard about each sentence before it is spoken (beside the lecture guard) and lets the model's next
sentence take the place of a dropped one. A sentence that speaks to the user ("I'm glad you went ...") is not an
echo; a reporting clause alone ("As you mentioned, I went to the supermarket ...") does not make it speak to them.

The model also calls what the user told of its own ("my birthday" for theirs). Spoken to the user, such a sentence
swaps their roles (to "My sister borrowed my car and returned it with a dent" it said "You borrowed my car and
returned it with a dent"): an echo, not said. Otherwise the agent speaks of the user's things in its own voice, and
`as_theirs` gives them back ("That made me feel sad and worried about my grandpa's memory" -> "... your grandpa's
memory"). Possessives an agent says of itself ("my heart goes out to you", "my thoughts are with you") stay.
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
# What the agent may call its own even when the user's message has the word ("my heart goes out to you").
_AGENTS_OWN_TEXT = (
    "heart thoughts condolences sympathy sympathies mind best pleasure guess opinion view side apologies hope wish "
    "wishes name experience own question answer advice suggestion words"
)
_AGENTS_OWN = frozenset(_AGENTS_OWN_TEXT.split())
_MY = re.compile(r"\bmy ([a-z]+)", re.IGNORECASE)
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
    """True when `sentence` speaks as the user: in the first person, not to them, repeating much of `user_text`; or
    to them, but calling something of theirs the agent's own ("You borrowed my car" for their sister's borrowing)."""
    text = _REPORTING.sub(" ", sentence.replace("’", "'").lower())
    words = _words(text)
    if _SECOND_PERSON.intersection(words):
        return bool(_claimed(text, user_text))
    if not _FIRST_PERSON.intersection(words):
        return False
    theirs = set(content_words(user_text))
    shared = theirs & set(_content(words))
    return len(shared) >= _MIN_SHARED and len(shared) >= _MIN_SHARE * len(theirs)


def as_theirs(sentence: str, user_text: str) -> str:
    """`sentence` with "my X" made "your X" where X is something the user told of and the sentence does not speak
    to them (see the module docstring); unchanged otherwise."""
    text = sentence.replace("’", "'")
    if _SECOND_PERSON.intersection(_words(text.lower())):
        return sentence
    claimed = _claimed(text.lower(), user_text)
    if not claimed:
        return sentence

    def give_back(match: re.Match[str]) -> str:
        word = match.group(1)
        if word.lower() not in claimed:
            return match.group(0)
        return ("Your " if match.group(0)[0] == "M" else "your ") + word

    return _MY.sub(give_back, sentence)


def _claimed(lowered: str, user_text: str) -> set[str]:
    """The words X of "my X" in a lower-cased sentence that name something the user told of (not the agent's own)."""
    theirs = set(content_words(user_text))
    return {own for own in _MY.findall(lowered) if own in theirs and own not in _AGENTS_OWN}
