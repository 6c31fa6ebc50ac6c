"""JSON-lines files (one object a line): the project's labelled sets are kept this way.

Every problem is a ValueError naming the file and the line, so a broken data file says where it is broken.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def read_json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each non-blank line of `path` as (line number, JSON object)."""
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(row, dict):
            raise ValueError(f"{path}:{number}: expected a JSON object, got {type(row).__name__}")
        yield number, row


def read_labelled_lines(path: Path) -> Iterator[tuple[int, str, str, dict[str, Any]]]:
    """Each `{"text": ..., "label": ...}` line of `path` as (line number, text, label, the whole object)."""
    for number, row in read_json_lines(path):
        if not isinstance(row.get("text"), str) or not isinstance(row.get("label"), str):
            raise ValueError(f"{path}:{number}: expected a JSON object with text and label (strings): {row}")
        yield number, row["text"], row["label"], row
