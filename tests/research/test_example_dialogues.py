"""The shipped example set: enough labelled multi-turn dialogues to evaluate on."""

from __future__ import annotations

from collections import Counter

from core.emotion import BASIC_EMOTIONS
from research.dialogues import EXAMPLE_DIALOGUES, load_dialogues


def test_the_example_set_has_at_least_30_labelled_dialogues_of_3_to_5_turns():
    dialogues = load_dialogues(EXAMPLE_DIALOGUES)
    assert len(dialogues) >= 30
    assert all(3 <= len(d.turns) <= 5 for d in dialogues)
    turns = [t for d in dialogues for t in d.turns]
    assert all(t.user_emotion and t.reply and t.reply_emotion for t in turns)
    # Every basic emotion occurs, so the macro-F1 and the confusion matrix have all their rows.
    counts = Counter(t.user_emotion for t in turns)
    assert set(counts) == set(BASIC_EMOTIONS)
    assert len({d.topic for d in dialogues}) >= 8
