"""A first estimate of the user's emotion from their words alone.

Valence comes from VADER's compound score (which already handles negation, intensifiers and punctuation);
a small cue lexicon per basic emotion gives the category and its typical arousal and dominance; exclamation
marks, capitals and emoji raise arousal. Text-only arousal is weak (DESIGN §5): the voice will refine it later.
A confident cue category sets the label even where the blended VAD point sits between categories.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from core.emotion import VAD, EmotionState


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Cue words and phrases per category, comma-separated; a trailing `*` matches any word starting with that stem.
_CUE_TEXT: dict[str, str] = {
    "joy": (
        "happy, happier, glad, joy*, delight*, thrilled, excited, exciting, wonderful, amazing, awesome, fantastic, "
        "great news, love it, so good, proud, grateful, thankful, celebrat*, got the job, got promoted, passed, won, "
        "yay, hooray, relieved, cheerful, ecstatic"
    ),
    "sadness": (
        "sad, sadder, unhappy, depress*, down, lonely, alone, miss him, miss her, miss them, heartbroken, "
        "broken heart, grief, griev*, died, dead, death, passed away, lost my, funeral, cry*, cried, tears, "
        "hopeless, empty, hurt*, miserable, gloomy, sorrow*, dumped, broke up, divorce*, fired, laid off, rejected, "
        "disappointed, devastated, rough day, bad day, tough day, hard day, useless, worthless, failure, "
        "humiliat*, embarrass*, ashamed"
    ),
    "anger": (
        "angry, furious, mad, outrag*, livid, annoy*, irritat*, pissed, hate, rage, fed up, sick of, unfair, "
        "ridiculous, infuriat*, frustrat*, how dare, enraged, resent*, yelled at, shouted at"
    ),
    "fear": (
        "afraid, scared, scary, terrified, terrify*, fright*, fear*, anxious, anxiety, worried, worry*, nervous, "
        "panic*, dread*, uneasy, threat*, alarm*, what if, petrified, stress*, overwhelm*"
    ),
    "surprise": (
        "surpris*, unexpected, unexpectedly, shocked, shock*, astonish*, amazed, can't believe, cannot believe, "
        "no way, wow, whoa, out of nowhere, suddenly, stunned, speechless"
    ),
    "disgust": (
        "disgust*, gross, revolting, repuls*, nasty, vile, sickening, yuck, eww, nauseat*, creepy, filthy, rotten, "
        "appalling"
    ),
}
CUES: dict[str, tuple[str, ...]] = {
    category: tuple(cue.strip() for cue in text.split(",")) for category, text in _CUE_TEXT.items()
}

_EMOJI_TEXT: dict[str, str] = {
    "joy": "😀😃😄😁😊🙂😂🥳🎉❤😍",
    "sadness": "😢😭😞😔💔",
    "anger": "😠😡🤬",
    "fear": "😨😰😱",
    "surprise": "😮😲🤯",
    "disgust": "🤢🤮",
}
EMOJI_CUES: dict[str, str] = {emoji: category for category, text in _EMOJI_TEXT.items() for emoji in text}

NEGATORS = _word_set(
    "not no never nor without hardly barely neither nothing cannot isnt wasnt dont didnt doesnt aint arent werent "
    "cant wont couldnt shouldnt wouldnt"
)
INTENSIFIERS = _word_set(
    "so very really extremely totally absolutely incredibly super utterly completely deeply terribly truly awfully "
    "too such"
)
# A negator up to this many words before a cue negates it ("not at all happy").
_NEGATION_WINDOW = 3
_CONFIDENT_SCORE = 1.0  # at least one clear, non-negated cue
_CONFIDENT_MARGIN = 1.5  # the winning category must beat the runner-up by this factor

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class _Cue:
    category: str
    words: tuple[str, ...]


def _compile_cues() -> tuple[_Cue, ...]:
    return tuple(_Cue(cat, tuple(cue.split())) for cat, cues in CUES.items() for cue in cues)


class TextPerception:
    """Estimates a user's emotion from text; holds the VADER analyser, which is costly to build."""

    def __init__(self) -> None:
        self._vader = SentimentIntensityAnalyzer()
        self._cues = _compile_cues()

    def perceive(self, text: str) -> EmotionState:
        """The user's emotion as read from `text` (neutral for empty text)."""
        tokens = _tokens(text)
        if not tokens and not any(ch in EMOJI_CUES for ch in text):
            return EmotionState.from_label("neutral", 0.0)
        compound = float(self._vader.polarity_scores(text)["compound"])
        scores = self._cue_scores(tokens)
        for ch in text:
            if ch in EMOJI_CUES:
                scores[EMOJI_CUES[ch]] = scores.get(EMOJI_CUES[ch], 0.0) + 1.0
        arousal_boost = _arousal_boost(text)

        total = sum(scores.values())
        if total > 0:
            centre = [sum(scores[c] * VAD.of(c).as_tuple()[k] for c in scores) / total for k in range(3)]
            strength = min(1.0, 0.6 + 0.2 * (total - 1.0))
            valence = 0.5 * compound + 0.5 * centre[0] * strength
            arousal = centre[1] * strength + arousal_boost
            dominance = centre[2] * strength
        else:
            # No cue: only VADER's polarity; strong polarity in either direction means some arousal.
            valence = 0.8 * compound
            arousal = 0.3 * abs(compound) + arousal_boost
            dominance = 0.2 * compound
        state = EmotionState.from_vad(VAD(valence, arousal, dominance))

        label = _confident_category(scores)
        if label is None or label == state.label:
            return state
        return EmotionState(vad=state.vad, label=label, intensity=state.intensity, mixture=state.mixture)

    def _cue_scores(self, tokens: list[str]) -> dict[str, float]:
        scores: dict[str, float] = {}
        for cue in self._cues:
            for start in _matches(tokens, cue.words):
                before = tokens[max(0, start - _NEGATION_WINDOW) : start]
                weight = 1.5 if before and before[-1] in INTENSIFIERS else 1.0
                if any(_is_negator(word) for word in before):
                    # "not happy" leans sad; "not scared" or "not angry" is simply not that emotion.
                    if cue.category == "joy":
                        scores["sadness"] = scores.get("sadness", 0.0) + 0.5
                    continue
                scores[cue.category] = scores.get(cue.category, 0.0) + weight
        return scores


def perceive_text(text: str, perception: TextPerception | None = None) -> EmotionState:
    """A first user-emotion estimate from words; pass a `TextPerception` to reuse its analyser across turns."""
    return (perception or TextPerception()).perceive(text)


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def _is_negator(word: str) -> bool:
    return word.replace("'", "") in NEGATORS or word.endswith("n't")


def _matches(tokens: list[str], words: tuple[str, ...]) -> list[int]:
    """Start indices where the cue `words` occur in `tokens` (a trailing `*` is a prefix match)."""
    n = len(words)
    return [
        i
        for i in range(len(tokens) - n + 1)
        if all(_word_matches(tokens[i + k].replace("'", ""), words[k].replace("'", "")) for k in range(n))
    ]


def _word_matches(token: str, pattern: str) -> bool:
    return token.startswith(pattern[:-1]) if pattern.endswith("*") else token == pattern


def _arousal_boost(text: str) -> float:
    """Arousal from typography: exclamation marks, shouted words, repeated question marks, emoji."""
    boost = 0.12 * min(text.count("!"), 3)
    if "??" in text or "?!" in text:
        boost += 0.1
    shouted = [w for w in re.findall(r"[A-Za-z]{3,}", text) if w.isupper()]
    boost += 0.1 * min(len(shouted), 2)
    boost += 0.05 * min(sum(ch in EMOJI_CUES for ch in text), 2)
    return min(boost, 0.5)


def _confident_category(scores: dict[str, float]) -> str | None:
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    best, best_score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if best_score >= _CONFIDENT_SCORE and best_score >= _CONFIDENT_MARGIN * runner_up:
        return best
    return None
