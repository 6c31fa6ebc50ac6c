"""The opening of a reply that follows a first reaction: the reaction, then "you" or a word the user said.

After a first reaction ("Good news!") the model's response is often a second reaction and nothing more
("Congratulations!", "I'm so sorry for that."): the user hears two stock phrases and nothing of what they told.
Asked in the prompt to name what happened, a small model still does so in about half of such turns. So the response
field's grammar fixes its start: it opens with the reaction already said (the model goes on from it, as a listener
would, instead of starting a reply of its own) and then with "you" or one of the user's own words, which leads into
their situation ("Your promotion to senior nurse ...", "Biscuit was ..."). The chain does not speak the reaction
twice (agent.sentences.repeats). Backends that enforce a JSON schema's `pattern` (llama.cpp, vLLM) apply it;
`empathy.open_with_detail = false` leaves the response free for a server that rejects patterns.
"""

from __future__ import annotations

import re

from agent.empathy.echo import content_words

# Openers that speak to the user; "You" also starts "Your", "You're", "You've".
_TO_THEM = ("You",)
_MAX_USER_WORDS = 24  # a long message still gives a short grammar
_REGEX_SPECIAL = re.compile(r"([\\.^$*+?()\[\]{}|])")


def regex_literal(text: str) -> str:
    """`text` as a regular expression that matches it literally (only the metacharacters are escaped: JSON-schema
    regex engines differ on other escapes, such as the escaped spaces and dashes of Python's `re.escape`)."""
    return _REGEX_SPECIAL.sub(r"\\\1", text)


def opening_pattern(already_said: str, user_text: str) -> str:
    """A JSON-schema `pattern` for the response after the first reaction `already_said` to `user_text`: the
    reaction, a space, then "You..." or one of the user's content words (capitalised), then anything on one line."""
    said = " ".join(already_said.split())
    openers = [*_TO_THEM, *(w[0].upper() + w[1:] for w in content_words(user_text)[:_MAX_USER_WORDS])]
    alternatives = "|".join(regex_literal(o) for o in dict.fromkeys(openers))
    return f"^{regex_literal(said)} ({alternatives})[^\\n]*$"
