"""Read one string field of a JSON object while the object is still being generated.

The chain of empathy's `response` field is the spoken reply; it should reach the voice sentence by sentence,
not after the closing brace. `JsonFieldStream` is a small incremental scanner for one JSON object: it tracks
strings, escapes and nesting across arbitrary chunk boundaries, remembers every top-level string value it has
seen complete, and hands out the target field's decoded characters as they arrive.
"""

from __future__ import annotations

_SIMPLE_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class JsonFieldStream:
    """Feed it the raw JSON text piece by piece; `feed` returns the newly decoded text of field `name`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.values: dict[str, str] = {}  # top-level string values completed so far
        self.done = False  # the target string has closed
        self._depth = 0
        self._in_string = False
        self._string_is_key = False
        self._expect_key = False
        self._key = ""
        self._current: list[str] = []
        self._escape: str | None = None  # pending escape text after the backslash, e.g. "u00e"
        self._high_surrogate: int | None = None

    @property
    def streaming(self) -> bool:
        """Whether the target field's string value is open now."""
        return self._in_string and self._target()

    def feed(self, text: str) -> str:
        """Consume `text`; return the target field's characters it completed (possibly empty)."""
        out: list[str] = []
        for ch in text:
            if self._in_string:
                decoded = self._string_char(ch)
                if decoded and not self._string_is_key and self._target():
                    out.append(decoded)
            elif ch == '"':
                self._in_string = True
                self._string_is_key = self._depth == 1 and self._expect_key
                self._current = []
            elif ch in "{[":
                self._depth += 1
                self._expect_key = ch == "{" and self._depth == 1
            elif ch in "}]":
                self._depth -= 1
            elif ch == "," and self._depth == 1:
                self._expect_key = True
            elif ch == ":" and self._depth == 1:
                self._expect_key = False
        return "".join(out)

    def _target(self) -> bool:
        return self._depth == 1 and not self._string_is_key and self._key == self.name

    def _string_char(self, ch: str) -> str:
        """Process one character inside a string; return its decoded text (empty while undecided)."""
        if self._escape is not None:
            self._escape += ch
            if self._escape[0] == "u":
                if len(self._escape) < 5:
                    return ""
                decoded = self._unicode(int(self._escape[1:], 16) if _is_hex(self._escape[1:]) else 0xFFFD)
            else:
                decoded = _SIMPLE_ESCAPES.get(self._escape, self._escape)
            self._escape = None
            self._current.append(decoded)
            return decoded
        if ch == "\\":
            self._escape = ""
            return ""
        if ch == '"':
            self._in_string = False
            value = "".join(self._current)
            if self._string_is_key:
                self._key = value
            elif self._depth == 1:
                self.values[self._key] = value
                if self._key == self.name:
                    self.done = True
            return ""
        self._current.append(ch)
        return ch

    def _unicode(self, code: int) -> str:
        # JSON writes characters outside the BMP as a surrogate pair of two \u escapes.
        if 0xD800 <= code < 0xDC00:
            self._high_surrogate = code
            return ""
        if 0xDC00 <= code < 0xE000 and self._high_surrogate is not None:
            code = 0x10000 + ((self._high_surrogate - 0xD800) << 10) + (code - 0xDC00)
        self._high_surrogate = None
        return chr(code)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)
