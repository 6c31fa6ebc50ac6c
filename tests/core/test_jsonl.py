"""JSON-lines reading: every problem names the file and the line."""

from pathlib import Path

import pytest

from core.jsonl import read_json_lines, read_labelled_lines


def test_blank_lines_are_skipped_and_numbers_are_the_files(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text('{"text": "hi", "label": "joy", "kind": "x"}\n\n{"text": "yo", "label": "none"}\n')
    rows = list(read_labelled_lines(path))
    assert [(n, t, label) for n, t, label, _ in rows] == [(1, "hi", "joy"), (3, "yo", "none")]
    assert rows[0][3]["kind"] == "x"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"text": "hi"', r"set\.jsonl:2: not valid JSON"),
        ('["text", "label"]', r"set\.jsonl:2: expected a JSON object, got list"),
        ('{"text": "hi"}', r"set\.jsonl:2: expected a JSON object with text and label"),
        ('{"text": 3, "label": "joy"}', r"set\.jsonl:2: expected a JSON object with text and label"),
    ],
)
def test_a_bad_line_is_named(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text('{"text": "fine", "label": "joy"}\n' + content + "\n")
    with pytest.raises(ValueError, match=problem):
        list(read_labelled_lines(path))
    if "JSON object with" not in problem:
        with pytest.raises(ValueError, match=problem):
            list(read_json_lines(path))
