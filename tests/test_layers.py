"""The layers of docs/architecture.md hold: each package imports only the packages below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What each of our packages may import (besides itself); docs/architecture.md draws the same picture.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "agent": {"core"},
    "speech": {"core"},
    "avatar": {"core"},
    "storage": {"core"},
    "compose": {"core", "agent", "speech", "avatar"},
    "server": {"core", "agent", "speech", "avatar", "compose", "storage"},
    "research": {"core", "agent", "speech", "avatar", "compose", "storage"},
    "cli": {"core", "agent", "speech", "avatar", "compose", "storage", "server", "research"},
}


def _imports(path: Path) -> set[str]:
    """The top-level modules `path` imports (absolute imports only; the tree has no relative ones)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    ours = set(ALLOWED) | {"tests", "benchmarks"}
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in _imports(path) & ours
        if name != package and name not in ALLOWED[package]
    }
    assert not wrong, sorted(wrong)
