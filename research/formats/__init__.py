"""Dialogue corpora in the formats the field uses, read into research.dialogues.Dialogue (docs/research.md).

`load_corpus(format, path)`: "jsonl" (Empathica's own), "ed" (EmpatheticDialogues CSV), "esconv" (ESConv JSON),
"meld" (MELD CSV), "goemotions" (GoEmotions TSV). Labels are mapped to the seven basic emotions by the tables in
research/data/mappings/; every other field of the corpus is kept in the dialogue's or turn's `meta`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from research.dialogues import Dialogue, DialogueError, load_dialogues

MAPPINGS = Path(__file__).resolve().parents[1] / "data" / "mappings"
FORMATS: tuple[str, ...] = ("jsonl", "ed", "esconv", "meld", "goemotions")


def mapping(name: str) -> dict[str, Any]:
    """A label mapping file of research/data/mappings (TOML)."""
    with (MAPPINGS / f"{name}.toml").open("rb") as file:
        return tomllib.load(file)


def load_corpus(fmt: str, path: Path) -> list[Dialogue]:
    """The dialogues of `path` in format `fmt`; raises DialogueError naming the file (and line) on bad input."""
    from research.formats import ed, esconv, goemotions, meld

    loaders: dict[str, Callable[[Path], list[Dialogue]]] = {
        "jsonl": load_dialogues,
        "ed": ed.load,
        "esconv": esconv.load,
        "meld": meld.load,
        "goemotions": goemotions.load,
    }
    if fmt not in loaders:
        raise DialogueError(f"unknown dialogue format {fmt!r}; choose from {', '.join(FORMATS)}")
    if not path.is_file():
        raise DialogueError(f"{path}: no such dialogue file")
    dialogues = loaders[fmt](path)
    if not dialogues:
        raise DialogueError(f"{path}: no dialogues found in this {fmt} file")
    return dialogues
