"""Which empathy mechanisms a reply shows, read from its words alone (independent of the model's self-report).

EPITOME (Sharma et al. 2020) names three communication mechanisms; a reply may show several or none:

- emotional reaction: the speaker's own feeling toward the user or their news: sympathy, concern, warmth,
  shared joy ("I'm so sorry", "Congratulations!", "That's wonderful", "I'm here with you");
- interpretation: a stated understanding of the user's feelings or experience ("It sounds like ...",
  "That must have been frightening", "It makes sense that you're angry", "You seem worn out");
- exploration: a question or invitation to say more about their feelings or experience ("What happened?",
  "Tell me more about ...", "I'd love to hear how it went").

The detector is a set of cue patterns over lower-cased text, so it knows nothing of the prompt, the plan or the
model: what it measures is what the user reads. Its agreement with hand labels is measured on
research/data/strategy_replies.jsonl (labelled for this project; `python -m research.eval.strategy` prints it).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.empathy.schema import STRATEGIES
from core.jsonl import read_json_lines
from research.eval.metrics import f1_per_label

LABELLED_REPLIES = Path(__file__).resolve().parents[1] / "data" / "strategy_replies.jsonl"

_I = r"(?:i'?m|i am)"
_VERY = r"(?:so |really |very |truly |just |absolutely |incredibly )*"
_REACTION = [
    rf"\b{_I} {_VERY}(?:sorry|glad|happy|thrilled|delighted|sad|proud|excited|relieved|here)\b",
    r"\bsorry (?:to hear|for your|about)\b",
    r"\bcongrat",
    rf"\b(?:that'?s|that is|this is|what|how) (?:a |an )?{_VERY}"
    r"(?:wonderful|great|amazing|awesome|brilliant|fantastic|lovely|exciting|terrible|awful|heartbreaking|"
    r"unfair|horrible|rotten|cruel|sad|good news|great news|wonderful news)\b",
    r"\boh no\b",
    r"\bwow\b",
    r"\bi feel (?:so |really )?(?:for|sad|happy|glad)\b",
    r"\bmy heart\b",
    r"\bwell done\b",
    r"\bgood for you\b",
    r"\blet'?s celebrate\b",
    r"\b(?:yay|hooray|phew)\b",
    r"\b(?:what|that'?s) (?:a )?relief\b",
    r"\bthank you for (?:trusting|sharing|telling|opening)\b",
    r"\b(?:that'?s|what) (?:such )?(?:a |an )?(?:kind|sweet|thoughtful|generous|lovely|beautiful) ",
    r"\bi feel for you\b",
    r"\byou (?:earned|deserve|deserved)\b",
    r"\b(?:best|great|good|wonderful) news\b",
    r"\bugh\b",
    r"\bthat'?s so (?:frustrating|annoying|unfair|sad|exciting|cool|sweet|kind)\b",
    r"\byou'?re not alone\b",
    r"\b(?:we can|we'?ll) (?:figure|get through|work|face|do)\b",
    r"\byou (?:handled|managed|did) (?:it|that|this|a|so|really)?\b.*\b(?:well|great|grace|brilliantly|beautifully)\b",
    r"\bi'?d be (?:furious|upset|angry|thrilled|devastated|scared)\b",
]
_INTERPRETATION = [
    r"\b(?:it|that|this) (?:sounds|seems|must|might|may|can'?t|cannot)\b",
    r"(?:^|[.!?]\s*)sounds like\b",
    r"\byou (?:seem|sound|must|might|clearly|obviously)\b",
    r"\byou'?ve (?:clearly|obviously|really) ",
    r"\bmust (?:be|have been|feel)\b",
    r"\bmakes? (?:total |complete |perfect |a lot of )?sense\b",
    r"\bno wonder\b",
    r"\bi (?:can )?(?:see|understand|imagine|hear) (?:why|how|that|what|you)\b",
    r"\bof course you\b",
    r"\bit'?s (?:completely |perfectly |totally |only )?(?:understandable|natural|normal|okay|ok|human)\b",
    r"\b(?:can|could|may|might|often|tends? to) (?:feel|be|come)\b",
    r"\byou'?re (?:feeling|carrying|dealing|going through|torn|worried|grieving)\b",
    r"\byou'?ve been (?:juggling|carrying|dealing|holding|going through|through)\b",
    r"\bis (?:a lot|so much|too much)\b",
    r"\b(?:completely|totally|perfectly|so) (?:valid|understandable|human)\b",
    r"\b(?:would|could) (?:wear|get|upset|frustrate|scare|hurt|shake) anyone\b",
    r"\b(?:anyone|many people|most people|a lot of people) (?:would|share|feel|in your)\b",
    r"\byour (?:frustration|anger|sadness|worry|fear|grief|feelings?) (?:is|are|makes?)\b",
    r"\bit (?:feels|felt|hurts|stings) (?:like|when|to)\b",
    r"\bit'?s clear (?:that|how|you)\b",
    r"\bwould (?:sting|hurt|be hard|be tough|be painful)\b",
    r"\b(?:is|was|can be) the hardest part\b",
    r"\bthat'?s (?:a |such a )?(?:hard|tough|difficult|painful|heavy|big) (?:way|thing|day|week|moment|time|step)\b",
]
_EXPLORATION = [
    r"\btell me (?:more|about|what|how)\b",
    r"\bi'?d (?:love|like) to (?:hear|know)\b",
    r"\bi wonder (?:what|how|if|whether|why)\b",
    r"\bi'?m curious (?:what|how|about|whether|if|why)\b",
    r"\b(?:let me know|keep me posted) (?:how|what|if|whether)\b",
]
_PATTERNS: dict[str, list[re.Pattern[str]]] = {
    "emotional_reaction": [re.compile(p) for p in _REACTION],
    "interpretation": [re.compile(p) for p in _INTERPRETATION],
    "exploration": [re.compile(p) for p in _EXPLORATION],
}
# A question that asks for nothing from the user ("Isn't that great?", "Who wouldn't be?") is rhetorical.
_RHETORICAL = re.compile(
    r"\b(?:isn'?t|wasn'?t|aren'?t|don'?t|didn'?t) (?:it|that|this|they|you)(?:\s+\w+)?\s*\?$|\bwho wouldn'?t\b"
)
_SENTENCE = re.compile(r"[^.!?]*[.!?]+|[^.!?]+$")


def detect_strategies(reply: str) -> frozenset[str]:
    """The EPITOME mechanisms the reply's words show (a subset of agent.empathy.schema.STRATEGIES)."""
    text = reply.lower().replace("\u2019", "'").strip()
    found = {name for name, patterns in _PATTERNS.items() if any(p.search(text) for p in patterns)}
    questions = [s.strip() for s in _SENTENCE.findall(text) if s.strip().endswith("?")]
    if any(not _RHETORICAL.search(q) for q in questions):
        found.add("exploration")
    return frozenset(found)


@dataclass(frozen=True)
class LabelledReply:
    """A reply written and labelled for this project: the mechanisms a careful reader finds in it."""

    reply: str
    strategies: frozenset[str]
    split: str  # "dev": the patterns were written looking at these; "test": held out while writing them


def load_labelled(path: Path = LABELLED_REPLIES) -> list[LabelledReply]:
    """The labelled replies of a JSONL file ({"reply", "strategies": [...], "split"} per line)."""
    replies = []
    for number, data in read_json_lines(path):
        unknown = set(data["strategies"]) - set(STRATEGIES)
        if unknown:
            raise ValueError(f"{path}:{number}: unknown strategies {sorted(unknown)}")
        replies.append(LabelledReply(data["reply"], frozenset(data["strategies"]), data.get("split", "test")))
    return replies


@dataclass(frozen=True)
class DetectorAgreement:
    """How well the detector matches hand labels: per mechanism F1 (present/absent), exact-set accuracy, n."""

    replies: int
    f1: dict[str, float]
    exact: float


def agreement(labelled: Sequence[LabelledReply]) -> DetectorAgreement:
    """The detector against the labels of `labelled` (each mechanism scored as a present/absent decision)."""
    if not labelled:
        raise ValueError("no labelled replies")
    predicted = [detect_strategies(r.reply) for r in labelled]
    f1 = {}
    for name in STRATEGIES:
        truth = ["yes" if name in r.strategies else "no" for r in labelled]
        guess = ["yes" if name in p else "no" for p in predicted]
        f1[name] = f1_per_label(truth, guess, ["yes"])["yes"]
    exact = sum(p == r.strategies for p, r in zip(predicted, labelled, strict=True)) / len(labelled)
    return DetectorAgreement(len(labelled), f1, exact)


def shares(detected: Iterable[frozenset[str]]) -> dict[str, float | None]:
    """The share of replies showing each mechanism (a reply may show several); None without replies."""
    sets = list(detected)
    return {name: (sum(name in s for s in sets) / len(sets) if sets else None) for name in STRATEGIES}


def main() -> int:
    """Print the detector's agreement with the labelled replies, per split."""
    replies = load_labelled()
    for split in ("dev", "test"):
        result = agreement([r for r in replies if r.split == split])
        per = ", ".join(f"{name} {value:.2f}" for name, value in result.f1.items())
        print(f"{split}: {result.replies} replies, F1 {per}; exact set {result.exact:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
