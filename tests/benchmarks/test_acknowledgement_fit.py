"""The first-reaction fit benchmark's bookkeeping: which reactions fit a GoEmotions row, and how floors are chosen."""

from __future__ import annotations

from pathlib import Path

from benchmarks.acknowledgement_fit import Candidate, Message, choose, goemotions_rows, reacted


def test_a_reaction_fits_the_emotions_the_raters_named(tmp_path: Path) -> None:
    tsv = tmp_path / "rows.tsv"
    tsv.write_text("why would you do that?\t7\ta\nmy dog died\t16,25\tb\nok\t27\tc\nno way!\t26,3\td\n")
    rows = goemotions_rows(tsv, limit=None)
    assert rows[0].fitting == frozenset()  # curiosity: no reaction fits a question
    assert rows[1].fitting == {"sadness"}
    assert rows[2].only_neutral and not rows[1].only_neutral
    assert rows[3].fitting == {"surprise", "anger"}  # surprise + annoyance


def _messages(emotion: str, fitting_by_probability: list[tuple[float, bool]]) -> list[Message]:
    return [Message(Candidate(emotion, p, True, fits), False) for p, fits in fitting_by_probability]


def test_the_floor_is_the_lowest_where_three_in_four_fit() -> None:
    # 40 unsure readings, one in four fitting, and 40 sure ones that all fit.
    unsure = [(0.4, i % 4 == 0) for i in range(40)]
    sure = [(0.8, True) for _ in range(40)]
    messages = _messages("anger", unsure + sure)
    floors = choose(messages)
    assert floors["anger"] == 0.45  # just above the unsure readings
    assert floors["joy"] is None  # no joy reactions at all: off
    assert len(reacted(messages, {"anger": 0.45})) == 40


def test_without_the_cue_rule_uncued_reactions_count() -> None:
    messages = [Message(Candidate("surprise", 0.9, False, False), False)]
    assert reacted(messages, {}) == [] and len(reacted(messages, {}, cues=False)) == 1
