"""Provenance: everything needed to reproduce a report, or to see why two reports differ (diff their JSON).

`collect_provenance` records the code (git commit and whether the tree had uncommitted changes), the Python and
key package versions, the sha256 of each model file and of the dataset, the full effective configuration, the
seeds and the command line.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from core.provision import sha256_file

REPOSITORY = Path(__file__).resolve().parents[1]
# Packages whose version can change a figure: the LLM runtime, numerics, the metric implementations, plotting.
KEY_PACKAGES: tuple[str, ...] = (
    "empathica",
    "xllamacpp",
    "numpy",
    "scipy",
    "tokenizers",
    "vadersentiment",
    "sacrebleu",
    "rouge-score",
    "nltk",
    "matplotlib",
    "pydantic",
    "torch",
    "transformers",
    "peft",
)
_HASH_CACHE: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes (cached per path, size and modification time within a process)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASH_CACHE:
        _HASH_CACHE[key] = sha256_file(path)
    return _HASH_CACHE[key]


def git_state(root: Path = REPOSITORY) -> dict[str, Any]:
    """The commit checked out at `root` and whether tracked files differ from it (None where git is absent)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=20, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def package_versions(names: Iterable[str] = KEY_PACKAGES) -> dict[str, str | None]:
    """Installed versions of `names` (None: not installed)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def model_files(paths: dict[str, Path | None]) -> dict[str, dict[str, Any]]:
    """Per model role, its file(s) and their sha256: a file is hashed, a folder has each file in it hashed."""
    described: dict[str, dict[str, Any]] = {}
    for role, path in paths.items():
        if path is None:
            continue
        if path.is_dir():
            files = {p.relative_to(path).as_posix(): file_sha256(p) for p in sorted(path.rglob("*")) if p.is_file()}
            described[role] = {"path": str(path), "files": files}
        elif path.is_file():
            described[role] = {"path": str(path), "sha256": file_sha256(path)}
        else:
            described[role] = {"path": str(path), "sha256": None}
    return described


def collect_provenance(
    config: dict[str, Any],
    dataset: Path,
    dataset_format: str,
    seeds: Sequence[int],
    command: Sequence[str] | str,
    models: dict[str, Path | None],
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report's `provenance` object (docs/research.md lists its fields)."""
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command if isinstance(command, str) else " ".join(command),
        "git": git_state(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "models": model_files(models),
        "dataset": {
            "path": str(dataset),
            "format": dataset_format,
            "sha256": file_sha256(dataset) if dataset.is_file() else None,
        },
        "seeds": list(seeds),
        "config": config,
        "settings": settings or {},
    }
