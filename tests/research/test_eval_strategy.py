"""The strategy detector: what a reply's words show, measured against replies labelled for the project."""

from __future__ import annotations

from research.eval.strategy import agreement, detect_strategies, load_labelled, shares


def test_each_mechanism_on_clear_replies():
    assert detect_strategies("I'm so sorry about your dog.") == {"emotional_reaction"}
    assert detect_strategies("It sounds like the move left you unsettled.") == {"interpretation"}
    assert detect_strategies("What happened next?") == {"exploration"}
    assert detect_strategies("Tell me more about your sister.") == {"exploration"}
    assert detect_strategies("Try writing the tasks down tonight.") == frozenset()


def test_a_self_reported_exploration_without_a_question_is_not_exploration():
    # A reply the 1.5B model labelled "exploration": nothing in it asks the user anything.
    reply = "I'm sorry to hear that. It's important to handle changes gracefully."
    assert "exploration" not in detect_strategies(reply)


def test_rhetorical_questions_do_not_count_as_exploration():
    assert "exploration" not in detect_strategies("That's wonderful, isn't it?")


def test_agreement_with_the_held_out_labels():
    replies = load_labelled()
    test = [r for r in replies if r.split == "test"]
    assert len(test) == 30 and {r.split for r in replies} == {"dev", "test"}
    result = agreement(test)
    # The figures docs/research.md quotes: the test replies were written and labelled after the last change to
    # the patterns, so this is how the detector does on replies it was not tuned on.
    assert result.exact >= 0.7
    assert result.f1["exploration"] >= 0.95
    assert result.f1["emotional_reaction"] >= 0.8 and result.f1["interpretation"] >= 0.7


def test_shares_count_each_mechanism_of_multi_mechanism_replies():
    found = [frozenset({"emotional_reaction", "exploration"}), frozenset()]
    assert shares(found) == {"emotional_reaction": 0.5, "interpretation": 0.0, "exploration": 0.5}
    assert shares([]) == {"emotional_reaction": None, "interpretation": None, "exploration": None}
