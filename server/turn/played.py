"""What a listener actually heard of a reply: its sentences laid out on the media clock.

The client plays the reply's media from 0 s; each voiced sentence occupies [start, end) of that clock. When the
user interrupts, the client reports how many seconds it played (`played`), and the stored reply is cut to the
sentences heard in full plus the words of the sentence being spoken (placed proportionally to their characters,
the voice's phoneme clock is per sentence, not per word, and this is within a word of it).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class VoicedSentence:
    """One sentence of a reply and where its audio lies on the reply's media clock (seconds)."""

    text: str
    start: float
    end: float


@dataclass
class ReplyTimeline:
    """The voiced sentences of one reply, in order."""

    sentences: list[VoicedSentence] = field(default_factory=list)

    @property
    def duration(self) -> float:
        """Seconds of reply media (0 when nothing was voiced)."""
        return self.sentences[-1].end if self.sentences else 0.0

    def add(self, text: str, seconds: float) -> None:
        """Append a sentence whose audio lasts `seconds`."""
        start = self.duration
        self.sentences.append(VoicedSentence(text, start, start + max(0.0, seconds)))

    def text_until(self, seconds: float) -> str:
        """The reply as heard up to `seconds` of playback: whole sentences, then the words already spoken."""
        heard: list[str] = []
        for sentence in self.sentences:
            if seconds >= sentence.end:
                heard.append(sentence.text)
                continue
            if seconds > sentence.start:
                partial = _words_until(sentence.text, (seconds - sentence.start) / (sentence.end - sentence.start))
                if partial:
                    heard.append(partial + "…")
            break
        return " ".join(heard)


def _words_until(text: str, fraction: float) -> str:
    """The words of `text` whose last character falls within the first `fraction` of its characters."""
    limit = fraction * len(text)
    words, position = [], 0
    for word in text.split():
        position = text.index(word, position) + len(word)
        if position > limit:
            break
        words.append(word)
    return " ".join(words)
